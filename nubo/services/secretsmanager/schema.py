"""The Secrets Manager tables: secrets by name (and by full ARN), their versions by secret."""

from nubo.store import TableSpec

# One row per secret and region. A replica's row only points at its primary (`primary_region`):
# reads of a replica go to the primary's data, so replicas are always in sync. `deletion_due`
# is set while a deletion is scheduled (the sweeper's range).
SECRETS = TableSpec(
    name="secretsmanager_secrets",
    key=("account", "region", "name"),
    columns={"account": "text", "region": "text", "name": "text", "arn": "text",
             "created": "real", "deletion_due": "real"},
    indexes={"by_arn": ("arn",), "by_created": ("account", "region", "created"),
             "by_deletion": ("deletion_due",)},
)

# Secret versions, keyed by the secret's unique id (a re-created name gets a new id). The value
# is stored only encrypted: a KMS data key (its blob) and the AES-GCM ciphertext under it.
VERSIONS = TableSpec(
    name="secretsmanager_versions",
    key=("secret", "version_id"),
    columns={"secret": "text", "version_id": "text", "created": "real"},
    indexes={"by_created": ("secret", "created")},
)

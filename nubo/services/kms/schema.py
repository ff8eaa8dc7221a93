"""The KMS tables. A request reads a key by its id (or an alias, then the key), so every
operation costs a couple of keyed reads; the sweeper reads only keys that are due."""

from nubo.store import TableSpec

# One row per KMS key. Key material (AES/HMAC bytes or PKCS#8 private keys), one entry per
# material version, lives in the row's document and never leaves nubo except where the API
# returns it. `deletion_due` and `rotation_due` are set only while a deletion or an automatic
# rotation is scheduled, so the sweeper's index ranges hold only due work.
KEYS = TableSpec(
    name="kms_keys",
    key=("account", "region", "key_id"),
    columns={"account": "text", "region": "text", "key_id": "text", "state": "text",
             "deletion_due": "real", "rotation_due": "real", "material_expires": "real"},
    indexes={"by_deletion": ("deletion_due",), "by_rotation": ("rotation_due",),
             "by_material_expiry": ("material_expires",)},
)

ALIASES = TableSpec(
    name="kms_aliases",
    key=("account", "region", "name"),
    columns={"account": "text", "region": "text", "name": "text", "key_id": "text"},
    indexes={"by_key": ("account", "region", "key_id", "name")},
)

GRANTS = TableSpec(
    name="kms_grants",
    key=("account", "region", "grant_id"),
    columns={"account": "text", "region": "text", "grant_id": "text", "key_id": "text",
             "retiring": "text"},
    indexes={"by_key": ("account", "region", "key_id", "grant_id"),
             "by_retiring": ("account", "region", "retiring", "grant_id")},
)

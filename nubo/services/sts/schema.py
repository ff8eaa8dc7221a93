"""The STS tables: the temporary credentials nubo issued."""

from nubo.store import TableSpec

# One row per set of temporary credentials (ASIA... key). `expires` drives the sweeper that
# forgets sessions a day after they expired. The record holds what authorizing a request made
# with them needs: who (kind, arn, role or parent user), session policies, tags, issue time.
SESSIONS = TableSpec(
    name="sts_sessions",
    key=("access_key_id",),
    columns={"access_key_id": "text", "account": "text", "expires": "real"},
    indexes={"by_expiry": ("expires",)},
)

# STS's own secrets, by name: the key that seals encoded authorization failure messages
# (nubo.services.sts.messages), made on first use and kept so that messages stay readable
# across restarts.
SECRETS = TableSpec(
    name="sts_secrets",
    key=("name",),
    columns={"name": "text"},
)

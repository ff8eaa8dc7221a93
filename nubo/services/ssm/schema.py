"""The Parameter Store tables. A parameter is read by name; hierarchies are index ranges (the
names below a path, or the direct children of a path), so GetParametersByPath reads only what
it returns."""

from nubo.store import TableSpec

# One row per parameter: its current version and metadata. `parent` is the path of its
# hierarchy level ("/" for "/name", NULL for names outside any hierarchy); `expires` is set by
# an Expiration policy (the sweeper's range); `tier` is counted for the per-tier limits.
PARAMETERS = TableSpec(
    name="ssm_parameters",
    key=("account", "region", "name"),
    columns={"account": "text", "region": "text", "name": "text", "parent": "text",
             "tier": "text", "expires": "real"},
    indexes={"by_parent": ("account", "region", "parent", "name"),
             "by_tier": ("account", "region", "tier"), "by_expiry": ("expires",)},
)

# Every version of every parameter (the current one included), for history, `name:version`
# and `name:label` selectors.
VERSIONS = TableSpec(
    name="ssm_parameter_versions",
    key=("account", "region", "name", "version"),
    columns={"account": "text", "region": "text", "name": "text", "version": "int"},
)

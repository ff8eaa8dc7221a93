"""AWS Security Token Service handlers."""

from __future__ import annotations

from nubo.core.context import RequestContext
from nubo.services.base import ServiceProvider, handler
from nubo.services.sts import models


class StsProvider(ServiceProvider):
    service_name = "sts"

    @handler("GetCallerIdentity")
    def get_caller_identity(self, ctx: RequestContext) -> dict:
        identity = models.caller_identity(ctx.account_id, ctx.partition)
        return {"UserId": identity.user_id, "Account": identity.account, "Arn": identity.arn}

"""Amazon S3 Control handlers: the account-level public access block, which S3 applies to every
bucket of the account together with the bucket's own (see BucketConfigs.blocks)."""

from __future__ import annotations

from typing import Any

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.runtime import Runtime
from nubo.services.base import ServiceProvider, handler
from nubo.services.s3.config import AccountBlocks


class S3ControlProvider(ServiceProvider):
    service_name = "s3control"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.accounts = AccountBlocks(runtime.store)

    def reset(self) -> None:
        self.accounts.forget()

    @staticmethod
    def _own(ctx: RequestContext, account: str) -> str:
        """S3 Control serves the account that signs (x-amz-account-id must name it)."""
        if account != ctx.account_id:
            raise ServiceError("AccessDenied", "Access Denied", 403)
        return account

    @handler("PutPublicAccessBlock")
    def put_public_access_block(self, ctx: RequestContext, AccountId: str,
                                PublicAccessBlockConfiguration: dict) -> None:
        self.accounts.put(self._own(ctx, AccountId), PublicAccessBlockConfiguration)

    @handler("GetPublicAccessBlock")
    def get_public_access_block(self, ctx: RequestContext, AccountId: str) -> dict[str, Any]:
        found = self.accounts.get(self._own(ctx, AccountId))
        if found is None:
            raise ServiceError("NoSuchPublicAccessBlockConfiguration", "The public access "
                               "block configuration was not found", 404,
                               fields={"AccountId": AccountId})
        return {"PublicAccessBlockConfiguration": found}

    @handler("DeletePublicAccessBlock")
    def delete_public_access_block(self, ctx: RequestContext, AccountId: str) -> None:
        self.accounts.delete(self._own(ctx, AccountId))

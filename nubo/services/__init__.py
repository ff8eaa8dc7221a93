"""The services nubo implements, loaded on first use."""

from __future__ import annotations

import importlib
import threading
from dataclasses import replace
from typing import Any, Callable

from nubo.core.context import RequestContext
from nubo.core.errors import NotImplementedOperation
from nubo.core.runtime import Runtime
from nubo.services.base import ServiceProvider

# botocore service name -> package holding its provider (one folder per service, same shape).
IMPLEMENTED: dict[str, str] = {
    "dynamodb": "nubo.services.dynamodb",
    "dynamodbstreams": "nubo.services.dynamodb.streams_api",
    "iam": "nubo.services.iam",
    "kms": "nubo.services.kms",
    "organizations": "nubo.services.organizations",
    "s3": "nubo.services.s3",
    "s3control": "nubo.services.s3.control",
    "secretsmanager": "nubo.services.secretsmanager",
    "sqs": "nubo.services.sqs",
    "ssm": "nubo.services.ssm",
    "sts": "nubo.services.sts",
}

# The prefix of a service's table names (nubo.store), where it is not "<service>_".
TABLE_PREFIXES = {"organizations": "org_", "dynamodbstreams": "dynamodb_"}


def services_with_state(tables: set[str]) -> list[str]:
    """The services owning any of these (non-empty) tables."""
    return [name for name in IMPLEMENTED
            if any(t.startswith(TABLE_PREFIXES.get(name, f"{name}_")) for t in tables)]


class ServiceRegistry:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._providers: dict[str, ServiceProvider] = {}
        self._lock = threading.Lock()
        # Called with each provider once loaded (the server starts its background work).
        self.on_load: Callable[[ServiceProvider], None] | None = None
        # Loaded providers that serve requests outside their API (``serve_endpoint``).
        self.endpoint_servers: list[ServiceProvider] = []
        runtime.services = self

    def get(self, service: str) -> ServiceProvider | None:
        """The provider of ``service``, or None if nubo does not implement it."""
        provider = self._providers.get(service)
        if provider is not None or service not in IMPLEMENTED:
            return provider
        with self._lock:
            provider = self._providers.get(service)
            if provider is None:
                module = importlib.import_module(IMPLEMENTED[service])
                cls = next(v for k, v in vars(module).items()
                           if k.endswith("Provider") and isinstance(v, type)
                           and issubclass(v, ServiceProvider) and v is not ServiceProvider)
                provider = cls(self.runtime)
                self._providers[service] = provider
                if hasattr(provider, "serve_endpoint"):
                    self.endpoint_servers.append(provider)
                if self.on_load is not None:
                    self.on_load(provider)
        return provider

    def call(self, ctx: RequestContext, service: str, operation: str, params: dict[str, Any],
             *, service_principal: str | None = None, source_arn: str | None = None) -> dict:
        """Call another service's operation from inside nubo (Secrets Manager -> KMS, S3 -> SQS)
        without HTTP: the same handler, account and region as a request. It is authorized as
        AWS authorizes it: on behalf of the caller of ``ctx`` (aws:CalledVia, kms:ViaService),
        or as ``service_principal`` (e.g. "s3.amazonaws.com") acting for ``source_arn``.
        Errors are the callee's ``ServiceError``s. It runs inside the caller's transaction, so
        the effects of both commit together."""
        provider = self.get(service)
        if provider is None:
            raise NotImplementedOperation(service, operation)
        inner = replace(ctx, service=service, operation=operation,
                        extras={**ctx.extras, "called_by": f"{ctx.service}.{ctx.operation}"})
        self.runtime.authorizer.authorize_call(inner, provider, params,
                                               service_principal=service_principal,
                                               source_arn=source_arn)
        return provider.dispatch(inner, operation, params) or {}

    def loaded(self) -> list[ServiceProvider]:
        return list(self._providers.values())

    def states(self) -> dict[str, str]:
        """Health view: 'running' once loaded, 'available' before."""
        return {name: "running" if name in self._providers else "available"
                for name in sorted(IMPLEMENTED)}

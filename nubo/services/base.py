"""The base of every service provider: operation dispatch by the model's operation names.

A provider declares one method per operation::

    @handler("SendMessage")
    def send_message(self, ctx, QueueUrl, MessageBody, DelaySeconds=None, ...): ...

Parameters are named as the model's input members; the method returns the output shape as a
dict (or an awaitable of it, for operations that wait, like long polling). An operation without a
handler answers 501 naming the service and operation; so does a request giving a member the
handler does not declare (one a newer botocore model added), or, for handlers taking the rest as
``**kwargs``, one the provider lists in ``unimplemented_members``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, Callable

from nubo.core.context import RequestContext
from nubo.core.errors import NotImplementedMember, NotImplementedOperation
from nubo.core.runtime import Runtime
from nubo.policy import ResourcePolicy
from nubo.protocols import load_service_model
from nubo.store import Store

_OPERATION_ATTR = "_nubo_operation"


def handler(operation: str) -> Callable[[Callable], Callable]:
    """Mark a provider method as the handler of ``operation`` (the model's operation name)."""

    def mark(fn: Callable) -> Callable:
        setattr(fn, _OPERATION_ATTR, operation)
        return fn

    return mark


class _Handler:
    __slots__ = ("fn", "accepted", "unimplemented", "is_async")

    def __init__(self, fn: Callable, unimplemented: tuple[str, ...]) -> None:
        self.fn = fn
        params = inspect.signature(fn).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        self.accepted = None if takes_any else frozenset(params) - {"self", "ctx"}
        self.unimplemented = tuple(path.split(".") for path in unimplemented)
        self.is_async = inspect.iscoroutinefunction(fn)

    def unimplemented_member(self, params: dict[str, Any]) -> str | None:
        """The first member ``params`` gives that the handler does not implement."""
        if self.accepted is not None:
            unknown = params.keys() - self.accepted
            return min(unknown) if unknown else None
        for path in self.unimplemented:
            if _given(params, path):
                return ".".join(path)
        return None


def _given(value: Any, path: list[str]) -> bool:
    """Whether the member at ``path`` is present in ``value``; a list on the way is searched
    element by element."""
    if isinstance(value, list):
        return any(_given(element, path) for element in value)
    if not path:
        return True
    return isinstance(value, dict) and path[0] in value and _given(value[path[0]], path[1:])


class ServiceProvider:
    service_name: str = ""  # botocore service name
    # Whether unsigned requests are served (S3: public objects), authorized as the anonymous
    # principal; other services answer them MissingAuthenticationToken.
    anonymous_requests: bool = False
    # Per operation, the members (dotted paths into the input) nubo does not implement, for
    # handlers that take the rest as **kwargs: a request giving one answers 501 naming it.
    unimplemented_members: dict[str, tuple[str, ...]] = {}

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.model = load_service_model(self.service_name)
        self._handlers: dict[str, _Handler] = {}
        for cls in reversed(type(self).__mro__):
            for value in vars(cls).values():
                operation = getattr(value, _OPERATION_ATTR, None)
                if operation is not None:
                    self._handlers[operation] = _Handler(
                        getattr(self, value.__name__),
                        self.unimplemented_members.get(operation, ()))

    def is_async(self, operation: str) -> bool:
        found = self._handlers.get(operation)
        return found is not None and found.is_async

    def dispatch(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> Any:
        """Call the operation's handler: its result, or a coroutine for async handlers."""
        found = self._handlers.get(operation)
        if found is None:
            raise NotImplementedOperation(self.service_name, operation)
        member = found.unimplemented_member(params)
        if member is not None:
            raise NotImplementedMember(self.service_name, operation, member)
        return found.fn(ctx, **params)

    @property
    def operations(self) -> list[str]:
        return sorted(self._handlers)

    # -- authorization hooks (nubo.gateway.authorization) --------------------------------------

    def resource_names(self, ctx: RequestContext, operation: str,
                       params: dict) -> dict[str, str | list[str]]:
        """Values for the ARN templates of the resources a request names (``${QueueName}``,
        ``${Account}``, ...), where the input members do not carry them under those names; a
        list names one resource each."""
        return {}

    def condition_context(self, ctx: RequestContext, operation: str,
                          params: dict) -> dict[str, object]:
        """The service's own condition keys a request carries (``iam:PolicyARN``,
        ``s3:prefix``, ...), lower-case keys; aws:RequestTag and aws:TagKeys are generic."""
        return {}

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """The resource-based policy of ``arn`` and the account owning the resource, for
        services with resource policies (SQS queues, S3 buckets, KMS keys, ...)."""
        return None

    async def background(self) -> None:
        """Long-running work of the service (sweepers, schedulers); none by default."""

    def reset(self) -> None:
        """Forget in-memory caches after the store was wiped; nothing by default."""


async def sweep_forever(name: str, store: Store, sweep: Callable[[], object],
                        wake: asyncio.Event, interval: float) -> None:
    """A provider's periodic housekeeping (deletions that fall due, expiries): ``sweep`` runs
    in a store transaction every ``interval`` seconds, and at once when ``wake`` is set (the
    clock moved, something was scheduled). A failing sweep is logged and tried again."""
    while True:
        try:
            with store.transaction():
                sweep()
        except Exception:  # keep the sweeper alive; the error is ours to fix
            logging.getLogger(f"nubo.{name}").exception("%s sweep failed", name)
        try:
            await asyncio.wait_for(wake.wait(), interval)
        except asyncio.TimeoutError:
            pass
        wake.clear()

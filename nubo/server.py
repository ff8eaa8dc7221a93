"""The request path, in one page: route, authenticate, parse, authorize, handle, serialize.

Every AWS request to nubo goes through ``Gateway.handle``. It runs on a single asyncio event loop:
handlers run one at a time between awaits, so service state needs no locks, and a waiting request
(long polling) only suspends its own coroutine.
"""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape
from typing import Any

import orjson

from nubo import __version__
from nubo.core import ids
from nubo.core.context import RequestContext
from nubo.core.errors import InternalFailure, NotImplementedOperation, ServiceError
from nubo.core.http import HttpRequest, HttpResponse
from nubo.core.runtime import Runtime
from nubo.gateway import cors
from nubo.gateway.authorization import IDENTITY_SERVICES, READ_ONLY, Authorizer
from nubo.gateway.identity import identify, missing_authentication
from nubo.gateway.routing import credential_of, service_of
from nubo.protocols import (detect_protocol, load_service_model, parse_request, read_body,
                            serialize_error, serialize_response)
from nubo.services import ServiceRegistry

log = logging.getLogger("nubo")

_INTERNAL_PREFIXES = ("/_nubo/", "/_localstack/")


class Gateway:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.services = ServiceRegistry(runtime)
        self.authorizer = runtime.authorizer = Authorizer(runtime)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = ids.request_id()
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            response = cors.preflight(request, self.services.loaded())
        elif request.path.startswith(_INTERNAL_PREFIXES):
            response = await self._internal(request)
        else:
            response = await self._endpoint(request, request_id) or \
                await self._aws(request, request_id)
        response.headers["x-amzn-RequestId"] = request_id
        response.headers.setdefault("x-amz-request-id", request_id)
        if "origin" in request.headers:
            cors.add_response_headers(response, request, self.services.loaded())
        return response

    async def _endpoint(self, request: HttpRequest, request_id: str) -> HttpResponse | None:
        """What a service serves outside its API (S3 website hosting, browser form uploads):
        providers with an async ``serve_endpoint(request)`` answer the requests that are theirs,
        their errors in the service's protocol."""
        for provider in self.services.endpoint_servers:
            try:
                response = await provider.serve_endpoint(request)
            except Exception as failure:
                model = load_service_model(provider.service_name)
                if not isinstance(failure, ServiceError):  # a bug of ours: answer, keep serving
                    log.exception("internal error serving %s's endpoint", provider.service_name)
                    failure = InternalFailure()
                return serialize_error(model, None, failure, detect_protocol(model, request),
                                       request_id)
            if response is not None:
                return response
        return None

    async def _aws(self, request: HttpRequest, request_id: str) -> HttpResponse:
        # 1. route: which service, and who is calling
        credential = credential_of(request)
        service = service_of(request, credential)
        if service is None:
            return _unknown_service(request)
        identity = identify(request, credential)
        account_id = self.authorizer.account_of(identity.access_key_id, identity.account_id)
        model = load_service_model(service)
        protocol = detect_protocol(model, request)
        operation = None
        try:
            provider = self.services.get(service)
            # 2. parse and validate the input from the model (streaming payloads stay unread)
            await read_body(model, request, protocol)
            operation, params = parse_request(model, request, protocol)
            ctx = RequestContext(request_id=request_id, service=service,
                                 operation=operation.name, account_id=account_id,
                                 region=identity.region, access_key_id=identity.access_key_id,
                                 protocol=protocol, host=request.host, scheme=request.scheme,
                                 client_ip=request.client_ip, headers=request.headers,
                                 signature_version=credential.signature_version
                                 if identity.access_key_id else None)
            # 3. authorize: a request needs credentials unless the model says not; then IAM
            #    policies decide (nubo.gateway.authorization; off unless configured)
            if identity.anonymous and operation.auth_type != "none" and \
                    "smithy.api#noAuth" not in (operation.auth or ()) and \
                    not (provider is not None and provider.anonymous_requests):
                raise missing_authentication(protocol)
            if provider is None:
                raise NotImplementedOperation(service, operation.name)
            self.authorizer.authenticate(request, ctx, provider)
            self.authorizer.authorize(ctx, provider, model.signing_name, params)
            if identity.access_key_id:
                self.authorizer.note_use(ctx, model.signing_name)
            if service in IDENTITY_SERVICES:
                self.authorizer.flush_usage()  # IAM answers with up-to-date last-used dates
            # 4. handle: sync handlers run in one store transaction; we answer once it is durable
            if provider.is_async(operation.name):
                result = await provider.dispatch(ctx, operation.name, params)
            else:
                with self.runtime.store.transaction():
                    result = provider.dispatch(ctx, operation.name, params)
            await self._durable()
            if service in IDENTITY_SERVICES and not operation.name.startswith(READ_ONLY):
                self.authorizer.changed()  # policies or identities may have changed
            # 5. serialize
            return serialize_response(operation, result or {}, protocol, request_id)
        except ServiceError as error:
            return serialize_error(model, operation, error, protocol, request_id)
        except Exception:  # a bug of ours: answer as AWS does, keep serving
            log.exception("internal error in %s.%s", service,
                          operation.name if operation else "?")
            return serialize_error(model, operation, InternalFailure(), protocol, request_id)

    async def _internal(self, request: HttpRequest) -> HttpResponse:
        """nubo's own endpoints (and LocalStack's health, which CI scripts poll)."""
        path = request.path.rstrip("/")
        if path in ("/_nubo/health", "/_localstack/health"):
            return _json(200, {"version": __version__, "edition": "community",
                               "services": self.services.states()})
        if path == "/_nubo/reset" and request.method == "POST":
            self.reset()
            await self._durable()
            return _json(200, {"reset": True})
        if path == "/_nubo/clock":
            clock = self.runtime.clock
            if request.method == "POST":
                try:
                    clock.advance(float(orjson.loads(request.body or b"{}").get("advance", 0)))
                except (ValueError, TypeError, AttributeError) as error:
                    return _json(400, {"error": f"expected {{\"advance\": seconds}}: {error}"})
            return _json(200, {"now": clock.now(), "offset": clock.offset})
        return _json(404, {"error": f"no nubo endpoint {request.method} {request.path}"})

    async def _durable(self) -> None:
        """Wait for the group commit holding this request's writes (see ``Store.committed``)."""
        pending = self.runtime.store.committed()
        if pending is not None:
            await pending

    def reset(self) -> None:
        self.runtime.store.reset()
        for provider in self.services.loaded():
            provider.reset()


def _json(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, {"Content-Type": "application/json"}, orjson.dumps(body))


def _unknown_service(request: HttpRequest) -> HttpResponse:
    # No service model to serialize with: answer in the query protocol's error shape.
    message = escape(f"nubo cannot tell which AWS service {request.method} {request.path} is "
                     "for: sign the request with SigV4 or use a service host name such as "
                     "sqs.us-east-1.localhost")
    return HttpResponse(400, {"Content-Type": "text/xml"}, (
        "<ErrorResponse><Error><Type>Sender</Type><Code>UnknownService</Code>"
        f"<Message>{message}</Message></Error></ErrorResponse>").encode())

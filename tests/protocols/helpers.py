"""Test helpers: values generated from shapes, and conversions between botocore's client-side
request/response dicts and nubo's HttpRequest/HttpResponse."""

from __future__ import annotations

import asyncio
import math
import random
import string
from datetime import datetime, timezone
from urllib.parse import urlsplit

from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict

from nubo.core.http import BodyStream, HttpRequest, HttpResponse

SAFE = string.ascii_letters + string.digits
TEXT = SAFE + " -_.é&<>'\""


class ValueGenerator:
    """Deterministic pseudo-random values that respect a shape's types, enums and limits."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def value(self, shape, depth: int = 0, safe: bool = False, location: str | None = None):
        kind = shape.type_name
        location = shape.serialization.get("location", location)
        safe = safe or location in ("header", "headers", "uri", "querystring")
        if shape.metadata.get("document"):
            return {"a": [1, "b", True]}
        if location == "statusCode":
            return 200
        if shape.serialization.get("jsonvalue") and location == "header":
            return {"k": ["v", 1]}
        if kind == "structure":
            return self.structure(shape, depth, safe)
        if kind == "list":
            count = self._count(shape)
            return [self.value(shape.member, depth + 1, safe) for _ in range(count)]
        if kind == "map":
            count = self._count(shape)
            result = {}
            for _ in range(count * 3):
                if len(result) == count:
                    break
                key = self.string(shape.key, True)
                if location == "headers":
                    key = key.lower()
                result[key] = self.value(shape.value, depth + 1, safe)
            return result
        if kind == "string":
            return self.string(shape, safe)
        if kind in ("integer", "long", "short", "byte"):
            low = int(shape.metadata.get("min", 0))
            high = int(shape.metadata.get("max", low + 1000))
            return self.rng.randint(low, max(low, min(high, low + 1000)))
        if kind in ("float", "double"):
            low = shape.metadata.get("min", 0)
            high = shape.metadata.get("max", low + 100)
            return max(low, min(high, math.floor(low) + self.rng.randint(0, 400) / 4))
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "timestamp":
            return datetime.fromtimestamp(self.rng.randint(0, 2_000_000_000), timezone.utc)
        if kind == "blob":
            low = int(shape.metadata.get("min", 1))
            high = int(shape.metadata.get("max", low + 16))
            size = self.rng.randint(max(low, 1), max(low, 1, min(high, low + 16)))
            return bytes(self.rng.randrange(256) for _ in range(size))
        raise AssertionError(f"unexpected shape type {kind}")

    def _count(self, shape) -> int:
        low = int(shape.metadata.get("min", 1))
        high = int(shape.metadata.get("max", 2))
        return max(low, 1, min(high, self.rng.randint(1, 2)))

    def string(self, shape, safe: bool) -> str:
        if shape.enum:
            return self.rng.choice(shape.enum)
        low = int(shape.metadata.get("min", 1))
        high = int(shape.metadata.get("max", max(low, 12)))
        size = max(low, min(high, self.rng.randint(4, 12)))
        alphabet = SAFE if safe else TEXT
        return "".join(self.rng.choice(alphabet) for _ in range(size))

    def structure(self, shape, depth: int, safe: bool) -> dict:
        members = shape.members
        if shape.metadata.get("union"):
            name = self.rng.choice(sorted(members))
            return {name: self.value(members[name], depth + 1, safe)}
        required = set(shape.required_members)
        result = {}
        for name, member in members.items():
            if member.serialization.get("eventstream"):
                continue
            if member.serialization.get("hostLabel"):
                safe = True
            if depth > 4 and name not in required and (result or depth > 10):
                continue  # deep optional members: keep one so the structure is not empty
            result[name] = self.value(member, depth + 1, safe)
        return result


def has_event_stream(shape) -> bool:
    if shape is None:
        return False
    return any(member.type_name == "structure" and member.serialization.get("eventstream")
               for member in shape.members.values())


def to_http_request(request_dict: dict) -> HttpRequest:
    """A botocore-serialized request as the server receives it."""
    prepare_request_dict(request_dict, endpoint_url="https://localhost")
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v)
               for k, v in prepared.headers.items()}
    return HttpRequest(prepared.method, url.path or "/", url.query, headers, body,
                       host=url.netloc)


def to_botocore_response(response: HttpResponse) -> dict:
    body = response.body
    if hasattr(body, "__aiter__"):  # a streamed payload: an event stream, a download
        async def collect() -> bytes:
            return b"".join([chunk async for chunk in body])
        body = asyncio.run(collect())
    elif not isinstance(body, (bytes, bytearray)):
        body = b"".join(body)
    return {"status_code": response.status, "headers": HeadersDict(response.headers),
            "body": bytes(body)}


class RawStream:
    """Bytes as the raw stream botocore reads event streams from (urllib3's, in real use)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self):
        yield self.data

    def close(self) -> None:
        pass


def normalize(value):
    """Values as compared across the wire: timestamps as epoch seconds, floats rounded."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return round(moment.timestamp(), 3)
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, bytearray):
        return bytes(value)
    if hasattr(value, "read"):
        return value.read()
    if isinstance(value, BodyStream):  # a streaming payload, as its handler reads it
        return asyncio.run(value.read_all())
    return value

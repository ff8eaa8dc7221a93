"""Malformed input for any service nubo serves, generated from botocore's service models.

For each operation of a service, ``Fuzzer`` serializes a well-typed input (random values, with the
test's real resources where it names them) with botocore's serializer for the protocol, then
derives requests from it that are wrong on the wire: each member given a value of the wrong type,
beyond its length or range limits or outside its enum, required members left out, unknown members
added, and per protocol raw bodies that are broken (truncated or invalid JSON/XML/CBOR, the wrong
top-level type, invalid UTF-8, deep nesting, huge documents, bad list indices and duplicate keys
in query strings). They go over raw HTTP, SigV4-signed, to the test session's server.

Every answer must be an AWS answer: a request that cannot be valid (``Case.strict``) gets a 4xx,
any other may also succeed, none gets a 5xx (but 501 for what nubo does not implement) or a
dropped connection, and every error carries the protocol's error shape with a code. Everything is
seeded, and the number of requests per operation bounded, so a run is fast and repeatable.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import http.client
import json
import os
import random
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

import botocore.session
import cbor2
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.serialize import create_serializer

from tests.conftest import REGION, SECRET_KEY
from tests.protocols.helpers import ValueGenerator, to_http_request

UNKNOWN_MEMBER = "NuboFuzzUnknownMember"
BAD_ENUM = "NUBO_NOT_AN_ENUM_VALUE"
RAW_PLACEHOLDER = "NUBO-FUZZ-RAW-JSON"
DESTRUCTIVE = ("Delete", "Remove", "Disable", "Schedule", "Purge", "Leave", "Deregister",
               "Detach", "Close", "Abort")
# Strings every string member may be given (besides generated ones), in every service.
ODD_STRINGS = ["", " ", "\u00e9\u4e2d\U0001f600", "a\x00b", "\ud7ff\ufffd", "..", "../x", "%",
               "%00", "*", "{}", "[]", "null", "-1", "1e999", "NaN", "<x/>", "&amp;", "'\"",
               "arn:", "arn:aws:iam::000000000000:root", "a" * 5000]
# Wire values of the wrong type for each kind of shape, in JSON/CBOR documents.
WRONG_DOCUMENT_VALUES = {
    "string": [12345, ["x"], {"k": "v"}, True],
    "integer": ["12", "abc", 1.5, [1], {"k": 1}, True],
    "float": ["abc", [1.5], {"k": 1}, False],
    "boolean": ["true", 1, [True], {"k": True}],
    "blob": [123, "%%% not base64 %%%", ["AA=="], {"k": "AA=="}],
    "timestamp": ["not a date", [1], {"k": 1}, True],
    "list": ["x", {"k": "v"}, 7, True],
    "map": ["x", [1, 2], 7, True],
    "structure": ["x", [1], 7, True],
}
# Wire text of the wrong type for each kind of scalar, in query strings, XML and headers.
WRONG_TEXT = {
    "integer": ["abc", "1.5", "99999999999999999999999999", "-", "0x10", ""],
    "float": ["abc", "1,5", "--1", ""],
    "boolean": ["maybe", "2", "TRUEISH", ""],
    "timestamp": ["not a date", "2026-13-45T25:61:61Z", "99999999999999999999", "Mon, 99 Foo"],
    "blob": ["%%% not base64 %%%", "A"],
}


_PYTHON_TYPES = {"string": str, "structure": dict, "map": dict, "list": list, "integer": int,
                 "long": int, "blob": (bytes, str), "boolean": bool}


def kind_of(shape) -> str:
    kind = shape.type_name
    if kind in ("integer", "long", "short", "byte"):
        return "integer"
    if kind in ("float", "double"):
        return "float"
    if kind == "blob" and shape.serialization.get("streaming"):
        return "string"
    return kind


def botocore_model(service: str):
    return botocore.session.get_session().get_service_model(service)


# --- the wire ------------------------------------------------------------------------------------
@dataclass
class Wire:
    """One HTTP request as it travels."""
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Case:
    operation: str
    label: str
    wire: Wire
    strict: bool  # no valid request looks like this: it must be refused with a 4xx
    answer: str | None = None  # the protocol the answer speaks, where not the fuzzed one


Pending = Callable[[], "Case | None"]  # a case built only if chosen (None: not expressible)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class WireClient:
    """Signed raw HTTP requests to a nubo server, over one kept-alive connection (reopened
    after the server closes it, and reported when it drops one without an answer)."""

    def __init__(self, server, signing_name: str, access_key: str, region: str = REGION):
        self.netloc = urlsplit(server.endpoint).netloc
        self.signing_name = signing_name
        self.credentials = Credentials(access_key, SECRET_KEY)
        self.region = region
        self.connection: http.client.HTTPConnection | None = None

    def sign(self, wire: Wire) -> dict[str, str]:
        url = f"http://{self.netloc}{wire.path}" + (f"?{wire.query}" if wire.query else "")
        request = AWSRequest(method=wire.method, url=url, data=wire.body,
                             headers=dict(wire.headers))
        if self.signing_name == "s3":
            stated = wire.headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
            S3SigV4Auth(self.credentials, "s3", self.region).add_auth(request)
            # what the request states (a streaming upload), as signatures are not verified
            request.headers.replace_header("x-amz-content-sha256", stated)
        else:
            SigV4Auth(self.credentials, self.signing_name, self.region).add_auth(request)
        return dict(request.headers.items())

    def send(self, wire: Wire) -> Reply | None:
        """The server's answer, or None if it dropped the connection without one."""
        headers = self.sign(wire)
        target = wire.path + (f"?{wire.query}" if wire.query else "")
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.netloc, timeout=60)
        connection = self.connection
        try:
            try:
                connection.putrequest(wire.method, target, skip_host=True,
                                      skip_accept_encoding=True)
                connection.putheader("Host", self.netloc)
                for name, value in headers.items():
                    if name.lower() not in ("host", "content-length"):
                        connection.putheader(name, value)
                connection.putheader("Content-Length", str(len(wire.body)))
                connection.endheaders(wire.body or None)
            except OSError:
                pass  # the server may answer before taking the whole body (413): read it
            response = connection.getresponse()
            reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                          response.read())
        except (OSError, http.client.HTTPException):
            self.close()
            return None
        if response.will_close:
            self.close()
        return reply

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# --- error shapes per protocol -------------------------------------------------------------------
def error_code(protocol: str, reply: Reply) -> str | None:
    """The AWS error code of an error answer in ``protocol``'s error shape, or None."""
    try:
        if protocol in ("json", "rest-json"):
            header = reply.headers.get("x-amzn-errortype")
            document = json.loads(reply.body) if reply.body else {}
            code = document.get("__type") or document.get("code") or header
        elif protocol == "smithy-rpc-v2-cbor":
            code = cbor2.loads(reply.body).get("__type")
        else:
            root = ElementTree.fromstring(reply.body)
            element = root.find(".//{*}Code") if root.tag.rpartition("}")[2] != "Code" else root
            code = element.text if element is not None else None
    except (ValueError, AttributeError, ElementTree.ParseError, cbor2.CBORDecodeError):
        return None
    return code.rpartition("#")[2].partition(":")[0] if isinstance(code, str) and code else None


def problem(case: Case, reply: Reply | None, protocol: str) -> str | None:
    """What is wrong with the server's answer to a fuzz case, or None."""
    if reply is None:
        return "the connection was dropped without an answer"
    status = reply.status
    if status >= 500 and status != 501:
        return f"HTTP {status}: {reply.body[:300]!r}"
    if case.strict and not 400 <= status < 500:
        return f"expected a 4xx, got HTTP {status}: {reply.body[:200]!r}"
    if status >= 400 and case.wire.method != "HEAD" and error_code(protocol, reply) is None:
        return f"HTTP {status} without a {protocol} error code: {reply.body[:200]!r}"
    return None


# --- well-typed inputs ---------------------------------------------------------------------------
class InputGenerator(ValueGenerator):
    """Random well-typed inputs; string members sometimes get odd strings, and members named in
    ``known`` the test's real values (so that requests reach existing resources)."""

    def __init__(self, seed: int, strings: Iterable[str], known: dict[str, Any]):
        super().__init__(seed)
        self.strings = list(strings)
        self.known = known

    def string(self, shape, safe: bool) -> str:
        if not safe and not shape.enum and self.strings and self.rng.random() < 0.35:
            return self.rng.choice(self.strings)
        return super().string(shape, safe)

    def structure(self, shape, depth: int, safe: bool) -> dict:
        result = super().structure(shape, depth, safe)
        for name, member in shape.members.items():
            if name in self.known:
                known = self.known[name]
                value = known(self.rng) if callable(known) else known
                if isinstance(value, _PYTHON_TYPES.get(member.type_name, object)):
                    result[name] = value  # not a member of another type of the same name
        return result


def _serialize(protocol: str, operation, params: dict) -> dict:
    return create_serializer(protocol, include_validation=False).serialize_to_request(
        params, operation)


def _wire(request_dict: dict, operation) -> Wire:
    request = to_http_request(dict(request_dict))
    headers = {k: v for k, v in request.headers.items()
               if k not in ("content-length", "host", "user-agent")}
    body = request.body
    if body and (operation.http_checksum_required or
                 operation.http_checksum.get("requestChecksumRequired")):
        headers["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    return Wire(request.method, request.path, request.query_string, headers, body)


# --- mutations -----------------------------------------------------------------------------------
def _limits(shape) -> tuple[Any, Any]:
    return shape.metadata.get("min"), shape.metadata.get("max")


def _over_limit_values(shape, generator: InputGenerator, http_bound: bool
                       ) -> list[tuple[str, Any, bool]]:
    """(label, value, strict) values of the right type that break the shape's constraints. A
    member bound to HTTP (URI, header, query string) stays within what a request head carries
    (the edge refuses a head over 64 KiB before any service sees it), and its constraints are
    the operation's to check (S3 ignores some headers' bad values): never strict."""
    kind = kind_of(shape)
    low, high = _limits(shape)
    huge = 8000 if http_bound else 300_000
    out = []
    if kind == "string":
        if getattr(shape, "enum", None):
            out.append(("bad enum", BAD_ENUM, True))
        if high is not None and high < huge:
            out.append((f"{int(high) + 1} characters", "x" * (int(high) + 1), True))
        elif high is None:
            out.append((f"{huge:,} characters", "x" * huge, False))
        if low:
            out.append(("shorter than min", "", True))
    elif kind == "integer":
        # beyond the Java type of the shape (a long at most): not a value of it at all
        out.append(("huge number", 2 ** 70, True))
        out.append(("negative number", -(2 ** 40), shape.type_name != "long"))
        if high is not None:
            out.append(("above max", int(high) + 1, True))
        if low is not None and low > -(2 ** 31):
            out.append(("below min", int(low) - 1, True))
    elif kind == "list" and high is not None and high < 500:
        item = generator.value(shape.member, 3)
        out.append((f"{int(high) + 1} items", [item] * (int(high) + 1), True))
    elif kind == "list":
        count = 500 if http_bound else 2_000
        out.append((f"{count:,} items", [generator.value(shape.member, 3)] * count, False))
    elif kind == "map" and high is not None and high < 2000:
        value = generator.value(shape.value, 3)
        out.append((f"{int(high) + 1} entries",
                    {f"k{i}": value for i in range(int(high) + 1)}, True))
    if http_bound:
        return [(label, value, False) for label, value, _ in out]
    return out


def _deep(depth: int) -> bytes:
    """JSON text of lists nested ``depth`` deep (too deep for json.dumps to write)."""
    return b"[" * depth + b"1" + b"]" * depth


class Fuzzer:
    """The malformed requests of a service's operations, and the check of the answers."""

    def __init__(self, server, service: str, *, account: str, seed: int = 20261123,
                 protocol: str | None = None, model=None, known: dict[str, Any] | None = None,
                 strings: Iterable[str] = (), region: str = REGION):
        # another seed, or more cases per operation, explore further: NUBO_FUZZ_SEED=7
        # NUBO_FUZZ_SCALE=5 python3 -m pytest tests/*/test_malformed_input.py
        seed = int(os.environ.get("NUBO_FUZZ_SEED", seed))
        self.scale = int(os.environ.get("NUBO_FUZZ_SCALE", 1))
        self.model = model or botocore_model(service)
        self.protocol = protocol or self.model.metadata["protocol"]
        self.rng = random.Random(seed)
        self.generator = InputGenerator(seed, list(strings) + ODD_STRINGS, known or {})
        self.client = WireClient(server, self.model.signing_name or service, account, region)
        self.statuses: Counter = Counter()  # HTTP status -> how many answers had it

    # -- cases ----------------------------------------------------------------------------------
    def base(self, operation) -> dict:
        shape = operation.input_shape
        if shape is None:
            return {}
        params = self.generator.value(shape)
        required = set(shape.required_members)
        # optional members: about half, so that requests differ in what they carry
        return {name: value for name, value in params.items()
                if name in required or name in self.generator.known or self.rng.random() < 0.5}

    def well_typed(self, operation) -> tuple[dict, Case]:
        """A random well-typed input of the operation, and its request."""
        params = self.base(operation)
        try:
            wire = _wire(_serialize(self.protocol, operation, params), operation)
        except Exception as error:  # botocore cannot write these params: say which
            raise AssertionError(f"{operation.name}: cannot serialize {params!r}") from error
        return params, Case(operation.name, "well-typed input", wire, False)

    def malformed(self, operation, params: dict, wire: Wire) -> list[Case | Pending]:
        """Every malformed request derived from a well-typed input (most still to build)."""
        cases = self._member_cases(operation, params) + self._body_cases(operation, wire)
        return [case for case in cases if case is not None]

    def sample(self, operation, params: dict, wire: Wire, count: int) -> list[Case]:
        """``count`` of the malformed requests, chosen at random (seeded)."""
        cases = self.malformed(operation, params, wire)
        chosen = self.rng.sample(cases, min(count, len(cases)))
        built = [case() if callable(case) else case for case in chosen]
        return [case for case in built if case is not None]

    def _case(self, operation, label: str, params: dict, strict: bool,
              edit: Callable[[dict], None] | None = None) -> Pending:
        """A case, built when chosen (most are not, and building one serializes it)."""
        return partial(self._build_case, operation, label, params, strict, edit)

    def _build_case(self, operation, label: str, params: dict, strict: bool,
                    edit: Callable[[dict], None] | None) -> Case | None:
        try:
            request_dict = _serialize(self.protocol, operation, params)
        except (KeyError, OverflowError):  # a member the host needs left out (S3 Control's
            # AccountId), or a number botocore cannot write in CBOR
            return None
        if edit is not None:
            try:
                edit(request_dict)
            except (KeyError, IndexError, ElementTree.ParseError):
                return None  # the body holds the member elsewhere, or is no XML to edit
        return Case(operation.name, label, _wire(request_dict, operation), strict)

    def _member_cases(self, operation, params: dict) -> list[Pending]:
        shape = operation.input_shape
        if shape is None:
            return []
        cases = []
        required = set(shape.required_members)
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if member.metadata.get("document") or member.serialization.get("eventstream"):
                continue
            if name in required and location != "uri":
                # without a required header or query member, a REST request may well be another
                # operation's (GET /bucket?analytics without id lists the configurations)
                # (nor is a payload left out told apart from an empty one)
                cases.append(self._case(operation, f"{name} missing",
                                        {k: v for k, v in params.items() if k != name},
                                        location is None and name != payload))
            for label, value, strict in _over_limit_values(member, self.generator,
                                                           location is not None):
                # S3 checks enums per operation: one nubo does not implement answers 501
                enum_checked_later = label == "bad enum" and self.protocol == "rest-xml"
                cases.append(self._case(operation, f"{name}: {label}", {**params, name: value},
                                        strict and not enum_checked_later))
            cases += self._wrong_type_cases(operation, params, name, member)
        cases.append(self._case(operation, "unknown member", params, False,
                                self._unknown_member_edit(operation)))
        return cases + self._nested_cases(operation, params)

    def _nested_cases(self, operation, params: dict) -> list[Pending]:
        """Members inside the body's structures (and their lists' first items): missing,
        beyond their limits, of the wrong type."""
        cases = []
        for path, wire_path, shape, required in _nested_slots(operation.input_shape, params):
            label = ".".join(map(str, path))
            if required:
                # (a structure left empty may vanish on the wire, where it is optional)
                without = _with_path(params, path, None)
                cases.append(self._case(operation, f"{label} missing", without,
                                        bool(_at_path(without, path[:-1]))))
            for what, value, strict in _over_limit_values(shape, self.generator, False):
                enum_checked_later = what == "bad enum" and self.protocol == "rest-xml"
                cases.append(self._case(operation, f"{label}: {what}",
                                        _with_path(params, path, value),
                                        strict and not enum_checked_later))
            kind = kind_of(shape)
            if self.protocol in ("json", "rest-json", "smithy-rpc-v2-cbor"):
                value = self.rng.choice(WRONG_DOCUMENT_VALUES[kind])
                cases.append(self._case(operation, f"{label} = {value!r}", params, True,
                                        _document_edit(wire_path, value, self.protocol)))
            elif self.protocol == "rest-xml" and kind in WRONG_TEXT and \
                    not shape.serialization.get("xmlAttribute"):
                text = self.rng.choice([text for text in WRONG_TEXT[kind] if text])
                cases.append(self._case(operation, f"{label} = {text!r}", params, True,
                                        _xml_edit(wire_path[-1], text)))
        return cases

    def _unknown_member_edit(self, operation) -> Callable[[dict], None]:
        def edit(request_dict):
            body = request_dict["body"]
            if isinstance(body, dict):  # query
                body[f"{UNKNOWN_MEMBER}.member.1"] = "x"
            elif self.protocol in ("json", "rest-json", "smithy-rpc-v2-cbor") and body and \
                    _has_body_members(operation):
                _document_edit(UNKNOWN_MEMBER, {"a": [1, None, "x"]}, self.protocol)(
                    request_dict)
            else:
                request_dict["headers"]["x-amz-nubo-fuzz"] = "1"
                request_dict["query_string"] = _with_query(request_dict["query_string"],
                                                           UNKNOWN_MEMBER, "1")
        return edit

    def _wrong_type_cases(self, operation, params: dict, name: str, member) -> list[Pending]:
        kind = kind_of(member)
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        cases = []
        payload = operation.input_shape.serialization.get("payload")
        if name == payload:
            return cases  # the body itself: _body_cases breaks it
        if self.protocol in ("json", "rest-json", "smithy-rpc-v2-cbor") and location is None:
            for value in self.rng.sample(WRONG_DOCUMENT_VALUES[kind], 2):
                cases.append(self._case(operation, f"{name} = {value!r}", params, True,
                                        _document_edit(wire_name, value, self.protocol)))
            if kind in ("list", "map", "structure"):
                cases.append(self._case(operation, f"{name} nested 5,000 deep", params, True,
                                        _document_edit(wire_name, _deep(5000), self.protocol)))
        elif self.protocol == "query" and kind in WRONG_TEXT:
            for text in self.rng.sample(WRONG_TEXT[kind], 2):
                cases.append(self._case(operation, f"{name} = {text!r}", params, True,
                                        _form_edit(wire_name, text)))
        elif self.protocol == "query" and kind == "list":
            for suffix in ("member.0", "member.999999", "member.x", "member.-1", "member.1.",
                           "member.99999999999999999999"):
                cases.append(self._case(operation, f"{name}.{suffix}", params, False,
                                        _form_edit(wire_name, "x", suffix)))
        elif location in ("header", "querystring") and kind in WRONG_TEXT:
            # AWS ignores some malformed headers (If-Modified-Since): not strict
            for text in self.rng.sample(WRONG_TEXT[kind], 2):
                cases.append(self._case(operation, f"{name} = {text!r}", params, False,
                                        _http_edit(location, wire_name, text)))
        elif location == "uri":
            for text in ("%00", "\u00ff\ufffe", "a/../../b", " ", "%2F", "x" * 1100):
                cases.append(self._case(operation, f"{name} = {text!r}", {**params, name: text},
                                        False))
        elif self.protocol == "rest-xml" and location is None and kind in WRONG_TEXT:
            for text in self.rng.sample(WRONG_TEXT[kind], 2):
                cases.append(self._case(operation, f"{name} = {text!r}", params, False,
                                        _xml_edit(wire_name, text)))
        return cases

    def broken_bodies(self, operation) -> list[Case]:
        """The operation's well-typed request with each of the protocol's broken bodies."""
        _, case = self.well_typed(operation)
        built = [body() if callable(body) else body
                 for body in self._body_cases(operation, case.wire)]
        return [body for body in built if body is not None]

    def _body_cases(self, operation, wire: Wire) -> list[Case | Pending]:
        """Raw bodies broken in the protocol's own ways."""
        def body_case(label, body, strict=True, answer=None, **headers):
            headers = {**wire.headers, **{k.lower(): v for k, v in headers.items()}}
            return Case(operation.name, label, replace(wire, body=body, headers=headers), strict,
                        answer)

        def huge_body_case(label, make_body):  # built only when chosen
            return lambda: body_case(label, make_body(), False)
        has_input = operation.input_shape is not None and bool(operation.input_shape.members)
        if self.protocol == "json" or self.protocol == "rest-json" and \
                _has_body_members(operation):
            strict = True
            return [
                body_case("truncated JSON", wire.body[:max(1, len(wire.body) // 2)] or b"{",
                          strict),
                body_case("JSON list at the top", b"[1, 2, 3]", strict),
                body_case("JSON string at the top", b'"text"', strict),
                body_case("invalid UTF-8 in JSON", b'{"x": "\xff\xfe\xfd"}', strict),
                body_case("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, strict),
                # a service speaking CBOR too takes it for CBOR, and answers so
                body_case("CBOR body", cbor2.dumps({"a": [1]}), strict,
                          "smithy-rpc-v2-cbor" if "smithy-rpc-v2-cbor" in
                          self.model.metadata.get("protocols", ()) else None,
                          **{"Content-Type": "application/cbor"}),
                body_case("XML body", b"<a><b>1</b></a>", strict),
                # REST operations decompress only where the model says (requestcompression)
                body_case("a gzip header on plain JSON", wire.body or b"{}",
                          self.protocol == "json", **{"Content-Encoding": "gzip"}),
                body_case("text/plain Content-Type", wire.body, False,
                          **{"Content-Type": "text/plain"}),
                huge_body_case("2 MiB document", lambda: _huge_json(wire.body)),
                body_case("gzip bomb", _gzip_bomb(), self.protocol == "json",
                          **{"Content-Encoding": "gzip"}),
                *([body_case("unknown X-Amz-Target", wire.body, True,
                             **{"X-Amz-Target": "NuboFuzz.NoSuchOperation"}),
                   body_case("an X-Amz-Target without a dot", wire.body, True,
                             **{"X-Amz-Target": "x"})] if self.protocol == "json" else []),
            ]
        if self.protocol == "smithy-rpc-v2-cbor":
            return [
                body_case("truncated CBOR", wire.body[:len(wire.body) // 2] or b"\xbf"),
                body_case("CBOR list at the top", cbor2.dumps([1, 2])),
                body_case("invalid CBOR", b"\xff\xff\xff\x1c"),
                body_case("CBOR nested 100,000 deep", b"\x81" * 100_000 + b"\x01"),
                body_case("JSON body", b'{"a": 1}'),
                body_case("indefinite-length CBOR never closed", b"\xbf\x61a\x01"),
            ]
        if self.protocol == "query":
            first = wire.body.split(b"&", 1)[0]
            return [
                body_case("invalid UTF-8 in the form", wire.body + b"&X=\xff\xfe", True),
                body_case("no Action", b"Version=2012-11-05&Foo=1", True),
                body_case("unknown Action", wire.body.replace(b"Action=", b"Action=Nubo"), True),
                body_case("truncated form", wire.body[:max(1, len(wire.body) // 2)], False),
                body_case("duplicate keys", wire.body + b"&" + first + b"2&" + first, False),
                body_case("a key of 5,000 dots", wire.body + b"&A" + b".A" * 5000 + b"=1", False),
                # a service speaking json too (SQS) takes it for json, and answers so
                body_case("JSON body", b'{"Action": "x"}', True,
                          self.model.metadata.get("protocols", ["query"])[0],
                          **{"Content-Type": "application/json"}),
                body_case("bad percent escapes", wire.body + b"&%zz=%G1%", False),
                huge_body_case("2 MiB form", lambda: wire.body + b"&Pad=" + b"p" * (2 << 20)),
            ]
        if self.protocol == "rest-xml" and _has_body_members(operation):
            return [
                body_case("truncated XML", wire.body[:max(1, len(wire.body) // 2)] or b"<"),
                body_case("not XML", b"{\"json\": true}"),
                body_case("an XML entity bomb",
                          b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
                          b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>'),
                body_case("invalid UTF-8 in XML", b"<a>\xff\xfe</a>"),
                body_case("unclosed elements", b"<a><b><c>"),
                body_case("XML nested 50,000 deep", b"<a>" * 50_000 + b"</a>" * 50_000, False),
                huge_body_case("2 MiB XML", lambda: wire.body.replace(
                    b"</", b"<Pad>" + b"p" * (2 << 20) + b"</Pad></", 1)),
            ]
        if self.protocol == "rest-xml" and has_input:
            return [body_case("an unexpected body", b"\x00\xff garbage", False)]
        return []

    # -- running --------------------------------------------------------------------------------
    def run(self, per_operation: int = 8, operations: Iterable[str] | None = None,
            skip: Iterable[str] = (), well_typed: int = 1) -> list[str]:
        """Sends ``well_typed`` random well-typed inputs of every operation and
        ``per_operation`` malformed requests (a seeded sample); the problems found."""
        skipped = set(skip)
        failures = []
        per_operation, well_typed = per_operation * self.scale, well_typed * self.scale
        # operations that may remove the test's resources last, so the others find them
        for name in sorted(operations or self.model.operation_names,
                           key=lambda name: name.startswith(DESTRUCTIVE)):
            if name in skipped:
                continue
            operation = self.model.operation_model(name)
            inputs = [self.well_typed(operation) for _ in range(well_typed)]
            params, case = inputs[0]
            chosen = [case for _, case in inputs] + \
                self.sample(operation, params, case.wire, per_operation)
            failures += self.check(chosen)
        self.client.close()
        return failures

    def assert_answers(self, per_operation: int = 8, operations: Iterable[str] | None = None,
                       skip: Iterable[str] = (), well_typed: int = 1) -> None:
        """``run``, failing with the list of every problem found."""
        failures = self.run(per_operation, operations, skip, well_typed)
        assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures)
        health = self.client.send(Wire("GET", "/_nubo/health", "", {}, b""))
        assert health is not None and health.status == 200, "the server no longer answers"

    def request(self, operation_name: str, params: dict) -> Reply | None:
        """A well-formed request, as botocore writes it (for clients that cannot reach the
        server themselves, as S3 Control's with its account in the host name)."""
        operation = self.model.operation_model(operation_name)
        return self.client.send(_wire(_serialize(self.protocol, operation, params), operation))

    def check(self, cases: Iterable[Case]) -> list[str]:
        failures = []
        for case in cases:
            reply = self.client.send(case.wire)
            self.statuses[reply.status if reply else None] += 1
            found = problem(case, reply, case.answer or self.protocol)
            if found:
                wire = case.wire
                failures.append(f"{case.operation} ({case.label}): {found}\n    request: "
                                f"{wire.method} {wire.path}?{wire.query[:300]} "
                                f"{ {k: v[:100] for k, v in wire.headers.items()} } "
                                f"{wire.body[:600]!r}")
        return failures


def send(server, service: str, wire: Wire, *, account: str, protocol: str | None = None,
         strict: bool = True, label: str = "request") -> tuple[Reply | None, str | None]:
    """One raw request (tests' own malformed cases) and what is wrong with its answer."""
    model = botocore_model(service)
    client = WireClient(server, model.signing_name or service, account)
    try:
        reply = client.send(wire)
    finally:
        client.close()
    case = Case(label, label, wire, strict)
    return reply, problem(case, reply, protocol or model.metadata["protocol"])


def _has_body_members(operation) -> bool:
    shape = operation.input_shape
    if shape is None:
        return False
    payload = shape.serialization.get("payload")
    if payload:
        return shape.members[payload].type_name == "structure"
    return any("location" not in m.serialization for m in shape.members.values())


def _nested_slots(shape, params: dict, depth: int = 3):
    """(member path, wire path, shape, required) of the members inside the body's structures
    that ``params`` holds, down to ``depth``."""
    def walk(shape, value, path, wire_path, level):
        if shape.type_name == "list" and isinstance(value, list) and value:
            yield from walk(shape.member, value[0], path + (0,), wire_path + (0,), level)
        elif shape.type_name == "structure" and isinstance(value, dict) and level < depth:
            required = set(shape.required_members)
            for name, member in shape.members.items():
                if name not in value or member.metadata.get("document"):
                    continue
                wire = member.serialization.get("name", name)
                if level:
                    yield path + (name,), wire_path + (wire,), member, name in required
                yield from walk(member, value[name], path + (name,), wire_path + (wire,),
                                level + 1)
    body = {name: value for name, value in params.items()
            if "location" not in shape.members[name].serialization}
    return list(walk(shape, body, (), (), 0)) if shape is not None else []


def _with_path(params: dict, path: tuple, value: Any) -> dict:
    """A copy of ``params`` with the member at ``path`` set to ``value`` (None: left out)."""
    copied = copy.deepcopy(params)
    node = copied
    for step in path[:-1]:
        node = node[step]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copied


def _at_path(params: dict, path: tuple) -> Any:
    for step in path:
        params = params[step]
    return params


def _set_in_document(document, wire_path: tuple, value: Any) -> None:
    for step in wire_path[:-1]:
        document = document[step]
    document[wire_path[-1]] = value


def _document_edit(wire_path, value: Any, protocol: str) -> Callable[[dict], None]:
    """Sets a member (a wire name, or a path of them and list indices) of a JSON or CBOR body;
    a ``bytes`` value is put in as raw JSON text (in CBOR: lists nested as deep as the JSON
    text's)."""
    if isinstance(wire_path, str):
        wire_path = (wire_path,)

    def edit(request_dict):
        raw = isinstance(value, bytes)
        if protocol == "smithy-rpc-v2-cbor":
            document = cbor2.loads(request_dict["body"]) if request_dict["body"] else {}
            _set_in_document(document, wire_path, RAW_PLACEHOLDER if raw else value)
            body = cbor2.dumps(document)
            if raw:
                depth = value.count(b"[")
                body = body.replace(cbor2.dumps(RAW_PLACEHOLDER), b"\x81" * depth + b"\x01")
        else:
            document = json.loads(request_dict["body"] or b"{}")
            _set_in_document(document, wire_path, RAW_PLACEHOLDER if raw else value)
            body = json.dumps(document).encode()
            if raw:
                body = body.replace(json.dumps(RAW_PLACEHOLDER).encode(), value)
        request_dict["body"] = body
    return edit


def _form_edit(wire_name: str, text: str, suffix: str | None = None) -> Callable[[dict], None]:
    def edit(request_dict):
        body = request_dict["body"]
        for key in [k for k in body if k == wire_name or k.startswith(wire_name + ".")]:
            if suffix is None:
                del body[key]
        body[f"{wire_name}.{suffix}" if suffix else wire_name] = text
    return edit


def _with_query(query, key: str, value: str) -> dict:
    """A serialized query string (a dict, or text where the protocol has none) plus a key."""
    return {**(query if isinstance(query, dict) else dict(parse_qsl(query))), key: value}


def _http_edit(location: str, wire_name: str, text: str) -> Callable[[dict], None]:
    def edit(request_dict):
        if location == "header":
            request_dict["headers"][wire_name] = text
        else:
            request_dict["query_string"] = _with_query(request_dict["query_string"], wire_name,
                                                       text)
    return edit


def _xml_edit(wire_name: str, text: str) -> Callable[[dict], None]:
    def edit(request_dict):
        body = request_dict["body"]
        if not body:
            return
        root = ElementTree.fromstring(body)
        found = [e for e in root.iter() if e.tag.rpartition("}")[2] == wire_name]
        if not found:
            root.append(ElementTree.Element(wire_name))
            found = [root[-1]]
        for element in found:
            element.text = text
            element[:] = []
        request_dict["body"] = ElementTree.tostring(root)
    return edit


def _huge_json(body: bytes) -> bytes:
    document = json.loads(body or b"{}")
    document[UNKNOWN_MEMBER] = "x" * (2 << 20)
    return json.dumps(document).encode()


@lru_cache(maxsize=1)
def _gzip_bomb() -> bytes:
    return gzip.compress(b"{" + b" " * (64 << 20) + b"}", compresslevel=9)


def known_choice(*values) -> Callable[[random.Random], Any]:
    """A ``known`` entry picking one of several real values per request."""
    return lambda rng: copy.deepcopy(rng.choice(values))


def account_client(make_client, service: str, account: str, **kwargs):
    """A boto3 client of the session's server calling as ``account``'s root (a 12-digit access
    key id names the account), so that a fuzz run keeps to an account of its own."""
    import boto3
    session = boto3.Session(aws_access_key_id=account, aws_secret_access_key=SECRET_KEY,
                            region_name=REGION)
    return make_client(service, session=session, **kwargs)

"""Which AWS service a request is for.

Clues, strongest first: the ``X-Amz-Target`` prefix (``AmazonSQS.SendMessage``), the smithy
RPC v2 path (``/service/<Target>/operation/<Op>``), S3 Control's ``/v20180820/`` paths (signed
for s3, with ``x-amz-account-id``), the SigV4 credential scope's service (header
or presigned query), the host name (``sqs.us-east-1.localhost``, ``*.localhost.localstack.cloud``,
``*.amazonaws.com``), and last the path (SQS queue URLs ``/<account>/<queue>``).

The index of target prefixes, signing names and endpoint prefixes is read from the metadata of
every model botocore ships, once, and cached on disk per botocore version.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

import botocore
import orjson

from nubo.core.http import REGION, HttpRequest, service_host_labels
from nubo.protocols import load_service_model

_SQS_QUEUE_PATH = re.compile(r"^/\d{12}/[\w.-]+/?$")
_RPC_V2_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")

# Several services share a signing name; these say which one a request is when nothing else
# does (a target prefix or host names the others).
_SIGNING_NAME_DEFAULTS = {"s3": "s3", "dynamodb": "dynamodb", "execute-api": "apigateway",
                          "iam": "iam", "sts": "sts", "ses": "ses", "sqs": "sqs"}


@dataclass(frozen=True, slots=True)
class Credential:
    access_key_id: str
    date: str
    region: str
    service: str
    signature_version: int = 4


def credential_of(request: HttpRequest) -> Credential | None:
    """The SigV4 credential scope from the Authorization header or a presigned URL."""
    auth = request.headers.get("authorization", "")
    scope = None
    if auth.startswith("AWS "):  # SigV2 header: "AWS <key id>:<signature>", no scope
        return Credential(auth[4:].split(":", 1)[0].strip(), "", "", "", 2)
    if auth.startswith("AWS4-"):
        match = _CREDENTIAL.search(auth)
        scope = match.group(1) if match else None
    elif "X-Amz-Credential=" in request.query_string:
        scope = parse_qs(request.query_string).get("X-Amz-Credential", [None])[0]
    elif "AWSAccessKeyId=" in request.query_string and \
            "SignatureVersion=" not in request.query_string:
        # S3's SigV2 presigned URL (?AWSAccessKeyId=..&Signature=..&Expires=..), still what
        # boto3 generates for S3 by default; query-API SigV2 names its SignatureVersion
        key = parse_qs(request.query_string).get("AWSAccessKeyId", [""])[0]
        return Credential(key, "", "", "", 2)
    if not scope:
        return None
    parts = scope.split("/")
    if len(parts) < 5:
        return Credential(parts[0], "", "", "")
    return Credential(parts[0], parts[1], parts[2], parts[3])


class ServiceIndex:
    """Target prefixes, signing names and endpoint prefixes of every botocore service."""

    def __init__(self, entries: dict[str, dict]) -> None:
        self.by_target: dict[str, str] = {}
        self.by_signing_name: dict[str, list[str]] = {}
        self.by_endpoint_prefix: dict[str, list[str]] = {}
        self.protocols: dict[str, list[str]] = {}
        self.by_query_version: dict[str, list[str]] = {}  # query/ec2 API version -> services
        for service, meta in sorted(entries.items()):
            if meta.get("targetPrefix"):
                self.by_target[meta["targetPrefix"]] = service
            signing = meta.get("signingName") or meta.get("endpointPrefix") or service
            self.by_signing_name.setdefault(signing, []).append(service)
            self.by_endpoint_prefix.setdefault(meta.get("endpointPrefix", service), []).append(
                service)
            self.protocols[service] = meta.get("protocols") or [meta.get("protocol")]
            if {"query", "ec2"} & set(self.protocols[service]) and meta.get("apiVersion"):
                self.by_query_version.setdefault(meta["apiVersion"], []).append(service)

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> "ServiceIndex":
        cache = _cache_dir() / f"service-index-{botocore.__version__}.json"
        try:
            return cls(orjson.loads(cache.read_bytes()))
        except (OSError, ValueError):
            pass
        entries = _read_botocore_metadata()
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(orjson.dumps(entries))
            tmp.replace(cache)
        except OSError:
            pass  # a read-only home only costs the index rebuild next start
        return cls(entries)

    def by_signing(self, name: str) -> str | None:
        candidates = self.by_signing_name.get(name)
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        return _SIGNING_NAME_DEFAULTS.get(name, name if name in candidates else candidates[0])


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nubo"


def _read_botocore_metadata() -> dict[str, dict]:
    """Each service's newest model's metadata. Only the head of each file is decompressed:
    "metadata" comes first in botocore's model files."""
    data = Path(botocore.__file__).parent / "data"
    decoder = __import__("json").JSONDecoder()
    entries: dict[str, dict] = {}
    for service_dir in data.iterdir():
        versions = sorted(p for p in service_dir.iterdir() if p.is_dir()) if \
            service_dir.is_dir() else []
        for version in reversed(versions):
            model = version / "service-2.json.gz"
            if not model.exists():
                continue
            with gzip.open(model, "rt", encoding="utf-8") as f:
                head = f.read(8192)
            start = head.find('"metadata"')
            start = head.find("{", start)
            try:
                meta, _ = decoder.raw_decode(head, start)
            except ValueError:
                meta = __import__("json").loads(gzip.open(model).read())["metadata"]
            entries[service_dir.name] = meta
            break
    return entries


def service_of(request: HttpRequest, credential: Credential | None) -> str | None:
    """The botocore service name the request is for, or None if nothing identifies one."""
    index = ServiceIndex.load()
    target = request.headers.get("x-amz-target")
    if target:
        service = index.by_target.get(target.rsplit(".", 1)[0])
        if service:
            return service
    if request.path.startswith("/service/"):
        match = _RPC_V2_PATH.match(request.path)
        if match and match.group(1) in index.by_target:
            return index.by_target[match.group(1)]
    if request.path.startswith("/v20180820/") and "x-amz-account-id" in request.headers:
        return "s3control"  # signed for s3, on <account>.s3-control.<region> hosts
    if credential is not None and credential.service:
        service = index.by_signing(credential.service)
        if service:
            return service
    prefix = _endpoint_prefix_of_host(request.host)
    if prefix:
        candidates = index.by_endpoint_prefix.get(prefix)
        if candidates:
            return candidates[0]
    if _SQS_QUEUE_PATH.match(request.path):
        return "sqs"
    found = _query_service(index, request)
    if found is None and credential is not None and not credential.date:
        return "s3"  # SigV2 (header or presigned URL) and nothing else said: S3's REST signing
    if found is None and credential is None and not target and not request.headers.get(
            "content-type", "").startswith("application/x-www-form-urlencoded"):
        return "s3"  # an unsigned request to a bare path: a browser or curl reading S3
    return found


def _query_service(index: ServiceIndex, request: HttpRequest) -> str | None:
    """An unsigned query-protocol request (STS AssumeRoleWithWebIdentity, ...) to a bare
    endpoint: the API version and action of its form body name the service."""
    if not isinstance(request.body, bytes) or not request.headers.get(
            "content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    form = parse_qs(request.body.decode("latin-1"))
    candidates = index.by_query_version.get(form.get("Version", [""])[0], [])
    action = form.get("Action", [""])[0]
    for service in candidates:
        if len(candidates) == 1 or action in load_service_model(service).operation_names:
            return service
    return None


def _host_labels(host: str) -> list[str] | None:
    """The labels before a known service-host suffix: ``sqs.eu-west-1.localhost:4566`` ->
    ``["sqs", "eu-west-1"]``; None for other hosts."""
    found = service_host_labels(host)
    return None if found is None else found[0]


def region_of_host(host: str) -> str | None:
    """``sqs.eu-west-1.localhost:4566`` -> ``eu-west-1``."""
    labels = _host_labels(host)
    if labels and len(labels) >= 2 and REGION.fullmatch(labels[-1]):
        return labels[-1]
    return None


def _endpoint_prefix_of_host(host: str) -> str | None:
    labels = _host_labels(host)
    if not labels or not labels[0]:
        return None
    # sqs.us-east-1 -> sqs ; bucket.s3.us-east-1 -> s3 ; s3 -> s3
    return labels[-2] if len(labels) >= 2 and REGION.fullmatch(labels[-1]) else labels[-1]

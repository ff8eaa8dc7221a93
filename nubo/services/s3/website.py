"""Static website hosting: a bucket's website configuration served on its website endpoint
(``<bucket>.s3-website-<region>.amazonaws.com``, ``<bucket>.s3-website.localhost``): index and
error documents, redirects (the whole site, routing rules, an object's redirect location),
what anonymous visitors may read only (bucket policy and ACLs decide), answers as HTML as S3's
website endpoint gives them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from html import escape
from urllib.parse import quote, unquote

from nubo.core.errors import ServiceError
from nubo.core.http import SERVICE_HOST_SUFFIXES
from nubo.services.s3 import errors
from nubo.services.s3.blobs import BlobStore
from nubo.services.s3.models import Buckets, Objects
from nubo.services.s3.transfer import byte_range, check_read_conditions, http_date, stream

_WEBSITE_LABELS = ("s3-website", "s3-website-")


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    key: str | None = None  # the object to send as the body, if any
    body: object = b""  # bytes, or the object's chunks


def website_bucket(host: str) -> str | None:
    """The bucket a website endpoint names: the labels before ``s3-website[-region]``."""
    name = host.split(":", 1)[0]
    for suffix in SERVICE_HOST_SUFFIXES:
        if name.endswith(suffix):
            labels = name[: -len(suffix)].split(".")
            for index, label in enumerate(labels):
                if index and (label == "s3-website" or label.startswith("s3-website-")):
                    return ".".join(labels[:index])
    return None


MAX_ROUTING_RULES = 50


def _invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def check_website(config: dict) -> None:
    """A website configuration as PutBucketWebsite accepts it."""
    everything = config.get("RedirectAllRequestsTo")
    if everything:
        if len([name for name, value in config.items() if value is not None]) > 1:
            raise errors.invalid_argument("RedirectAllRequestsTo cannot be provided in "
                                          "conjunction with other Routing Rules.",
                                          "RedirectAllRequestsTo", "not null")
        _check_protocol(everything)
        return
    suffix = (config.get("IndexDocument") or {}).get("Suffix")
    if not config.get("IndexDocument"):
        raise errors.invalid_argument("A value for IndexDocument Suffix must be provided if "
                                      "RedirectAllRequestsTo is empty", "IndexDocument", "")
    if not suffix or "/" in suffix:
        raise errors.invalid_argument("The IndexDocument Suffix is not well formed",
                                      "IndexDocument", suffix or "")
    rules = config.get("RoutingRules") or []
    if len(rules) > MAX_ROUTING_RULES:
        raise _invalid_request(f"{len(rules)} routing rules provided, the number of routing "
                               "rules in a website configuration is limited to 50.")
    for rule in rules:
        redirect, condition = rule.get("Redirect") or {}, rule.get("Condition")
        if condition is not None and not any(v is not None for v in condition.values()):
            raise _invalid_request("Condition cannot be empty. To redirect all requests "
                                   "without a condition, the condition element shouldn't be "
                                   "present.")
        error = (condition or {}).get("HttpErrorCodeReturnedEquals")
        if error is not None and not (len(error) == 3 and error[0] in "45" and error.isdigit()):
            raise _invalid_request(f"The provided HTTP error code ({error}) is not valid. Valid "
                                   "codes are 4XX or 5XX.")
        code = redirect.get("HttpRedirectCode")
        if code is not None and not (len(code) == 3 and code[0] == "3" and code.isdigit()
                                     and code != "300"):
            raise _invalid_request(f"The provided HTTP redirect code ({code}) is not valid. "
                                   "Valid codes are 3XX except 300.")
        if "ReplaceKeyWith" in redirect and "ReplaceKeyPrefixWith" in redirect:
            raise _invalid_request("You can only define ReplaceKeyPrefix or ReplaceKey but not "
                                   "both.")
        _check_protocol(redirect)


def _check_protocol(redirect: dict) -> None:
    if redirect.get("Protocol") not in (None, "http", "https"):
        raise _invalid_request("Invalid protocol, protocol can be http or https. If not "
                               "defined the protocol will be selected automatically.")


def error_page(status: int, code: str, message: str, details: dict[str, str]) -> Page:
    items = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in details.items())
    title = {403: "403 Forbidden", 404: "404 Not Found", 405: "405 Method Not Allowed"}.get(
        status, str(status))
    body = (f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n"
            f"<li>Code: {escape(code)}</li>\n<li>Message: {escape(message)}</li>\n{items}\n"
            "</ul>\n<hr/>\n</body>\n</html>\n").encode()
    return Page(status, {"Content-Type": "text/html; charset=utf-8", **_error_headers(
        code, message)}, body=body)


def _error_headers(code: str, message: str) -> dict[str, str]:
    return {"x-amz-error-code": code, "x-amz-error-message": message}


def _redirect(rule_redirect: dict, key: str, matched_prefix: str, host: str) -> Page:
    protocol = rule_redirect.get("Protocol") or "http"
    target_host = rule_redirect.get("HostName") or host
    if "ReplaceKeyWith" in rule_redirect:
        key = rule_redirect["ReplaceKeyWith"]
    elif "ReplaceKeyPrefixWith" in rule_redirect:
        key = rule_redirect["ReplaceKeyPrefixWith"] + key[len(matched_prefix):]
    code = int(rule_redirect.get("HttpRedirectCode") or 301)
    return Page(code, {"Location": f"{protocol}://{target_host}/{quote(key, safe='/~')}"})


def routing_redirect(config: dict, key: str, error_code: int | None, host: str) -> Page | None:
    """The redirect of the first routing rule matching a key (before it is read:
    ``error_code`` None) or the error reading it gave; a rule without a condition matches
    every request."""
    for rule in config.get("RoutingRules") or []:
        condition = rule.get("Condition") or {}
        prefix = condition.get("KeyPrefixEquals")
        code = condition.get("HttpErrorCodeReturnedEquals")
        if prefix is not None and not key.startswith(prefix):
            continue
        if (code is None) != (error_code is None) or \
                (code is not None and str(error_code) != str(code)):
            continue
        return _redirect(rule.get("Redirect") or {}, key, prefix or "", host)
    return None


@dataclass
class Visitor:
    """What an anonymous visitor of a bucket's website may do there: read an object
    (s3:GetObject on it), list the bucket (s3:ListBucket: a missing key is 404, else 403)."""
    exists: Callable[[str], bool]
    readable: Callable[[str], bool]
    listable: Callable[[], bool]


def resolve(config: dict, path: str, host: str, visitor: Visitor, query: str = "") -> Page:
    """What the website answers for a path: a redirect, the object to send (index documents
    applied), the error document, or the error page to render."""
    everything = config.get("RedirectAllRequestsTo")
    if everything:
        protocol = everything.get("Protocol") or "http"
        return Page(301, {"Location": f"{protocol}://{everything['HostName']}{path}"
                                      f"{'?' + query if query else ''}"})
    suffix = (config.get("IndexDocument") or {}).get("Suffix") or "index.html"
    key = unquote(path.lstrip("/"))
    redirect = routing_redirect(config, key, None, host)
    if redirect is not None:
        return redirect
    if key == "" or key.endswith("/"):
        key += suffix
    if visitor.exists(key):
        if visitor.readable(key):
            return Page(200, {}, key=key)
        status, code, message, details = 403, "AccessDenied", "Access Denied", {}
    elif visitor.exists(f"{key}/{suffix}"):  # a folder asked for without its slash
        return Page(302, {"Location": f"/{key}/"})
    elif visitor.listable():
        status, code, message = 404, "NoSuchKey", "The specified key does not exist."
        details = {"Key": key}
    else:
        status, code, message, details = 403, "AccessDenied", "Access Denied", {}
    redirect = routing_redirect(config, key, status, host)
    if redirect is not None:
        return redirect
    error_key = (config.get("ErrorDocument") or {}).get("Key")
    if error_key and visitor.exists(error_key) and visitor.readable(error_key):
        return Page(status, _error_headers(code, message), key=error_key)
    return error_page(status, code, message, details)


class Website:
    """The website endpoint of buckets: what a GET or HEAD there answers, to anonymous
    visitors (``may(bucket, action, arn)`` decides what they may do)."""

    def __init__(self, buckets: Buckets, objects: Objects, blobs: BlobStore,
                 may: Callable[[dict, str, str], bool]) -> None:
        self.buckets = buckets
        self.objects = objects
        self.blobs = blobs
        self.may = may

    def page(self, method: str, path: str, host: str, name: str, query: str = "",
             headers: dict[str, str] | None = None) -> Page:
        headers = headers or {}
        if method not in ("GET", "HEAD"):
            return error_page(405, "MethodNotAllowed", "The specified method is not allowed "
                              "against this resource.", {"Method": method,
                                                         "ResourceType": "OBJECT"})
        try:
            bucket = self.buckets.get(name)
        except ServiceError:
            return error_page(404, "NoSuchBucket", "The specified bucket does not exist",
                              {"BucketName": name})
        config = bucket.get("website")
        if not config:
            return error_page(404, "NoSuchWebsiteConfiguration", "The specified bucket does "
                              "not have a website configuration", {"BucketName": name})

        def exists(key: str) -> bool:
            found = self.objects.latest(name, key)
            return found is not None and not found.get("delete_marker")

        def readable(key: str) -> bool:
            # KMS decrypts only for SigV4-signed requests, and a visitor is anonymous: an
            # SSE-KMS object is never served (403, as on AWS's website endpoints)
            found = self.objects.latest(name, key)
            return not (found or {}).get("SSEKMSKeyId") and \
                self.may(bucket, "s3:GetObject", f"{arn}/{key}")
        arn = f"arn:aws:s3:::{name}"
        page = resolve(config, path, host, Visitor(
            exists, readable, lambda: self.may(bucket, "s3:ListBucket", arn)), query)
        if page.key is None:
            return page
        record = self.objects.latest(name, page.key)
        if record.get("WebsiteRedirectLocation") and page.status == 200:
            return Page(301, {"Location": record["WebsiteRedirectLocation"]})
        validators = {"ETag": record["etag"], "Last-Modified": http_date(record["modified"])}
        span = (0, record["size"])
        if page.status == 200:  # a page read as an object: conditions and ranges apply
            try:
                check_read_conditions(record, headers.get("if-match"),
                                      headers.get("if-none-match"),
                                      _http_time(headers.get("if-modified-since")),
                                      _http_time(headers.get("if-unmodified-since")))
                ranged = byte_range(headers.get("range"), record["size"])
            except ServiceError as error:
                if error.status == 304:
                    return Page(304, validators)
                return error_page(error.status, error.code, error.message, {})
            if ranged is not None:
                span = ranged
                page.status = 206
                page.headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/" \
                                                f"{record['size']}"
        page.headers.update({"Content-Type": record.get("content_type"),
                             "Content-Length": str(span[1] - span[0]),
                             "Accept-Ranges": "bytes", **validators})
        if method == "GET":
            page.body = stream(self.blobs, record.get("segments", ()), *span)
        return page


def _http_time(text: str | None) -> datetime | None:
    """An HTTP date header's time; None for none or one that is not a date (ignored, as S3
    ignores it)."""
    if not text:
        return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None

"""Static website hosting: a bucket's website configuration served on its website endpoint
(``<bucket>.s3-website-<region>.amazonaws.com``, ``<bucket>.s3-website.localhost``): index and
error documents, redirects (the whole site, routing rules, an object's redirect location),
public buckets only, answers as HTML as S3's website endpoint gives them."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import unquote

from nubo.core.errors import ServiceError
from nubo.core.http import SERVICE_HOST_SUFFIXES
from nubo.services.s3.blobs import BlobStore
from nubo.services.s3.config import BucketConfigs, is_public_policy
from nubo.services.s3.models import Buckets, Objects
from nubo.services.s3.transfer import http_date, stream

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


def error_page(status: int, code: str, message: str, details: dict[str, str]) -> Page:
    items = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in details.items())
    title = {403: "403 Forbidden", 404: "404 Not Found", 405: "405 Method Not Allowed"}.get(
        status, str(status))
    body = (f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n"
            f"<li>Code: {escape(code)}</li>\n<li>Message: {escape(message)}</li>\n{items}\n"
            "</ul>\n<hr/>\n</body>\n</html>\n").encode()
    return Page(status, {"Content-Type": "text/html; charset=utf-8"}, body=body)


def _redirect(rule_redirect: dict, key: str, matched_prefix: str, host: str) -> Page:
    protocol = rule_redirect.get("Protocol") or "http"
    target_host = rule_redirect.get("HostName") or host
    if "ReplaceKeyWith" in rule_redirect:
        key = rule_redirect["ReplaceKeyWith"]
    elif "ReplaceKeyPrefixWith" in rule_redirect:
        key = rule_redirect["ReplaceKeyPrefixWith"] + key[len(matched_prefix):]
    code = int(rule_redirect.get("HttpRedirectCode") or 301)
    return Page(code, {"Location": f"{protocol}://{target_host}/{key}"})


def routing_redirect(config: dict, key: str, error_code: int | None, host: str) -> Page | None:
    for rule in config.get("RoutingRules") or []:
        condition = rule.get("Condition") or {}
        prefix = condition.get("KeyPrefixEquals")
        code = condition.get("HttpErrorCodeReturnedEquals")
        if prefix is not None and not key.startswith(prefix):
            continue
        if code is not None and str(error_code) != str(code):
            continue
        if prefix is None and code is None:
            continue
        return _redirect(rule.get("Redirect") or {}, key, prefix or "", host)
    return None


def resolve(config: dict, path: str, host: str, exists) -> Page:
    """What the website answers for a path: a redirect, the object to send (index documents
    applied), or the 404 to render (``exists(key)`` tells whether an object is there)."""
    everything = config.get("RedirectAllRequestsTo")
    if everything:
        protocol = everything.get("Protocol") or "http"
        return Page(301, {"Location": f"{protocol}://{everything['HostName']}{path}"})
    suffix = (config.get("IndexDocument") or {}).get("Suffix") or "index.html"
    key = unquote(path.lstrip("/"))
    redirect = routing_redirect(config, key, None, host)
    if redirect is not None:
        return redirect
    if key == "" or key.endswith("/"):
        key += suffix
    if exists(key):
        return Page(200, {}, key=key)
    if exists(f"{key}/{suffix}"):  # a folder asked for without its slash
        return Page(302, {"Location": f"/{key}/"})
    redirect = routing_redirect(config, key, 404, host)
    if redirect is not None:
        return redirect
    error_key = (config.get("ErrorDocument") or {}).get("Key")
    if error_key and exists(error_key):
        return Page(404, {}, key=error_key)
    return error_page(404, "NoSuchKey", "The specified key does not exist.", {"Key": key})


class Website:
    """The website endpoint of buckets: what a GET or HEAD there answers."""

    def __init__(self, buckets: Buckets, configs: BucketConfigs, objects: Objects,
                 blobs: BlobStore) -> None:
        self.buckets = buckets
        self.configs = configs
        self.objects = objects
        self.blobs = blobs

    def page(self, method: str, path: str, host: str, name: str) -> Page:
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
        policy = bucket.get("policy")
        if not policy or not is_public_policy(policy) or \
                self.configs.blocks(bucket)["RestrictPublicBuckets"]:
            return error_page(403, "AccessDenied", "Access Denied", {})

        def exists(key: str) -> bool:
            found = self.objects.latest(name, key)
            return found is not None and not found.get("delete_marker")
        page = resolve(config, path, host, exists)
        if page.key is None:
            return page
        record = self.objects.latest(name, page.key)
        if record.get("WebsiteRedirectLocation"):
            return Page(301, {"Location": record["WebsiteRedirectLocation"]})
        page.headers.update({"Content-Type": record.get("content_type"),
                             "Content-Length": str(record["size"]), "ETag": record["etag"],
                             "Last-Modified": http_date(record["modified"])})
        if method == "GET":
            page.body = stream(self.blobs, record.get("segments", ()), 0, record["size"])
        return page

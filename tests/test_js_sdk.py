"""The AWS SDK for JavaScript v3 against nubo: S3 (default CRC32 checksums, a streamed 6 MiB
upload, multipart), SQS (the SDK's MD5 checks), DynamoDB (its CRC32 response checks) and STS,
through node's own HTTP stack. The SDK is installed from tests/js/package-lock.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def node_sdk() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed on this machine")
    installed = JS / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (JS / "package-lock.json").stat(
            ).st_mtime:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS,
                       check=True, timeout=300, capture_output=True)
    return JS


def test_javascript_sdk(node_sdk, nubo_server):
    done = subprocess.run(["node", "smoke.mjs"], cwd=node_sdk, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NUBO_ENDPOINT": nubo_server.endpoint,
                                            "NODE_NO_WARNINGS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["s3PutETag"] == '"e06725288a11aff6c765f0ec5448edd3"'  # MD5 of the body
    assert seen["s3Get"] == {"body": "hello from js", "contentType": "text/plain"}
    assert seen["s3Big"] == {"sameMd5": True, "length": 6 * 1024 * 1024}
    assert seen["s3MultipartETag"].endswith('-2"')
    assert seen["s3Keys"] == ["big.bin", "multi", "small.txt"]
    assert seen["s3MissingKey"] == {"name": "NoSuchKey", "status": 404}
    assert seen["s3HeadMissing"] == {"name": "NotFound", "status": 404}
    assert seen["sqs"] == {"body": "ping", "attribute": "test"}
    assert seen["sqsMissingQueue"] == {"name": "QueueDoesNotExist", "status": 400}
    assert seen["ddbItem"] == "item 2" and seen["ddbQuery"] == [3, 2]
    assert seen["ddbConditionFailed"] == {"name": "ConditionalCheckFailedException",
                                          "status": 400}
    assert seen["stsAccount"] == "000000000000"

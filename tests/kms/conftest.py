"""KMS test helpers on top of the shared fixtures (tests/conftest.py)."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def kms(make_client):
    return make_client("kms")


@pytest.fixture
def make_key(kms):
    """make_key(**CreateKey params) -> KeyMetadata of a new key."""

    def make(**params) -> dict:
        return kms.create_key(**params)["KeyMetadata"]

    return make


def unique_alias(prefix: str = "test") -> str:
    return f"alias/{prefix}-{uuid.uuid4().hex[:12]}"


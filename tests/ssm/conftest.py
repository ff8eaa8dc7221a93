"""Parameter Store test helpers on top of the shared fixtures (tests/conftest.py)."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def ssm(make_client):
    return make_client("ssm")


@pytest.fixture(scope="session")
def kms(make_client):
    return make_client("kms")


@pytest.fixture
def root() -> str:
    """A hierarchy of this test's own: /t<random>."""
    return f"/t{uuid.uuid4().hex[:12]}"

"""Secrets Manager test helpers on top of the shared fixtures (tests/conftest.py)."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def sm(make_client):
    return make_client("secretsmanager")


@pytest.fixture(scope="session")
def kms(make_client):
    return make_client("kms")


def unique(prefix: str = "app") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"

"""Each module of these tests runs its own server with IAM enforced and signatures verified
(module-scoped fixtures: ``server``, ``connect`` for its clients, ``iam`` as the account root)."""

from __future__ import annotations

import pytest

from tests.conftest import connector, private_server


@pytest.fixture(scope="module")
def server():
    with private_server("--iam", "enforce", "--verify-signatures") as process:
        yield process


@pytest.fixture(scope="module")
def connect(server):
    return connector(server)


@pytest.fixture(scope="module")
def iam(connect):
    return connect("iam")

"""Organizations test helpers: every test runs its own organization, managed by an account no
other test uses (a 12-digit access key id names the account)."""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import subprocess
import sys

import boto3
import pytest

from tests.conftest import REGION, SECRET_KEY, NuboProcess, error_of  # noqa: F401

DENY_DELETE_BUCKET = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}
ALLOW_EC2 = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}

# Accounts unique to this test process (xdist workers get their own range).
_ACCOUNTS = itertools.count(random.Random(os.getpid()).randrange(10 ** 6, 9 * 10 ** 6) * 10 ** 4)


def new_account() -> str:
    return f"{next(_ACCOUNTS) % 10 ** 12:012d}"


def doc(document: dict) -> str:
    return json.dumps(document)


@pytest.fixture(scope="session")
def client_of(make_client):
    """client_of(service, account_id, **client_kwargs): a client calling as the account's
    root."""

    def make(service: str, account_id: str, **kwargs):
        session = boto3.Session(aws_access_key_id=account_id, aws_secret_access_key=SECRET_KEY,
                                region_name=REGION)
        return make_client(service, session=session, **kwargs)

    return make


@pytest.fixture(scope="session")
def cli(nubo_server):
    """cli(account_id, "organizations", "list-roots", ...) -> parsed JSON output of the AWS CLI
    run with the account's credentials; raises CalledProcessError (with stderr) on failure."""
    executable = shutil.which("aws")
    prefix = [executable] if executable else [sys.executable, "-m", "awscli"]

    def run(account_id: str, *args: str):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=account_id, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_PAGER="")
        result = subprocess.run(prefix + list(args) + ["--output", "json", "--endpoint-url",
                                                       nubo_server.endpoint],
                                env=env, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, args, result.stdout,
                                                result.stderr)
        return json.loads(result.stdout) if result.stdout.strip() else None

    return run


@pytest.fixture
def management(client_of):
    """An Organizations client of a fresh account (no organization yet)."""
    return client_of("organizations", new_account())


@pytest.fixture
def org(management):
    """(client, organization, root id) of a fresh organization with all features."""
    organization = management.create_organization(FeatureSet="ALL")["Organization"]
    root_id = management.list_roots()["Roots"][0]["Id"]
    return management, organization, root_id


@pytest.fixture
def scp_org(org):
    """An organization with service control policies enabled on its root."""
    client, organization, root_id = org
    client.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    return org


@pytest.fixture
def private_server():
    """A server of the test's own, for tests that move nubo's clock by days (which would
    expire other tests' credentials and data on the shared one)."""
    server = NuboProcess(None).start()
    yield server
    server.stop()


def invite_account(client, client_of) -> str:
    """A fresh account invited into the client's organization, having accepted (invited
    accounts may leave at once; created ones only after 7 days)."""
    account = new_account()
    handshake = client.invite_account_to_organization(
        Target={"Type": "ACCOUNT", "Id": account})["Handshake"]
    client_of("organizations", account).accept_handshake(HandshakeId=handshake["Id"])
    return account


def create_account(client, name: str = "member") -> str:
    """Create a member account and wait for it (CreateAccount is asynchronous)."""
    email = f"{name}-{new_account()}@example.com"
    status = client.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
    for _ in range(50):
        status = client.describe_create_account_status(
            CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS":
            break
    assert status["State"] == "SUCCEEDED", status
    return status["AccountId"]

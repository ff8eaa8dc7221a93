"""Bad input of every STS operation gets a 4xx answer (or 501 for what nubo does not
implement), never a server error: a seeded fuzz over every operation's input members (the shared
tests/fuzzing.py), with STS's own odd values."""

from __future__ import annotations

import json

from tests.fuzzing import Fuzzer, account_client

ACCOUNT = "123123123123"
VALUES = ["", "x", "a" * 3000, "{}", "[]", "null", "1", "\u00e9", "*", "arn:", "=", "a.b.c",
          "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL3gifQ.", "arn:aws:iam::123123123123:role/r",
          "arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy", "123123123123", "RS256",
          "ES384", "HS256", "arn:aws:iam::123123123123:saml-provider/p", "PHNhbWw+PC9zYW1sPg==",
          "arn:aws:iam::123123123123:mfa/m", "123456",
          json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                              "Action": [1]}]})]


def test_no_server_errors(nubo_server, make_client):
    account_client(make_client, "iam", ACCOUNT).enable_outbound_web_identity_federation()
    fuzzer = Fuzzer(nubo_server, "sts", account=ACCOUNT, strings=VALUES)
    fuzzer.assert_answers(per_operation=12, well_typed=12)

"""Malformed expressions and values never crash the server: every one is a 400 with AWS's
ValidationException (or a well-formed success), never a 500."""

from __future__ import annotations

import random

from botocore.exceptions import ClientError

PIECES = ["a", "#n", ":v", ":w", "(", ")", "[", "]", "0", "1", ".", ",", "=", "<>", "<", ">=",
          "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE", "+", "-",
          "size", "contains", "begins_with", "attribute_exists", "attribute_type",
          "if_not_exists", "list_append", "status", "b.c", "d[2]", "\"", "'", "$", "@", "  "]
VALUES = [{"N": "1"}, {"S": "x"}, {"L": [{"N": "1"}]}, {"M": {"k": {"S": "v"}}},
          {"SS": ["a"]}, {"NS": ["2"]}, {"B": b"\x00"}, {"BOOL": True}, {"NULL": True}]


def soup(rng: random.Random) -> str:
    return " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 9)))


def test_random_expressions_get_validation_errors_not_500s(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "f"}, "a": {"N": "1"},
                                        "b": {"M": {"c": {"L": []}}}, "d": {"L": []}})
    rng = random.Random(20261123)
    outcomes = {"ok": 0, "rejected": 0}
    for _ in range(150):
        kwargs = {"ExpressionAttributeNames": {"#n": "a"},
                  "ExpressionAttributeValues": {":v": rng.choice(VALUES),
                                                ":w": rng.choice(VALUES)}}
        if rng.random() < 0.5:
            kwargs["UpdateExpression"] = soup(rng)
        else:
            kwargs["ConditionExpression"] = soup(rng)
        try:
            ddb.update_item(TableName=table, Key={"pk": {"S": "f"}}, **kwargs)
            outcomes["ok"] += 1
        except ClientError as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            code = error.response["Error"]["Code"]
            assert status == 400, (kwargs, error.response["Error"])
            assert code in ("ValidationException", "ConditionalCheckFailedException"), kwargs
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 100


STATEMENT_PIECES = ["SELECT", "*", "FROM", "WHERE", "pk", "=", "'a'", "?", "AND", "OR",
                    "INSERT", "INTO", "VALUE", "{", "}", "'pk'", ":", ",", "UPDATE", "SET", "x",
                    "1", "REMOVE", "DELETE", "[", "]", "<<", ">>", "IS", "MISSING", "NOT", "IN",
                    "BETWEEN", "(", ")", ".", "RETURNING", "ALL", "NEW", "-", "+", "EXISTS",
                    "begins_with", "size"]


def test_random_partiql_gets_client_errors_not_500s(ddb, table):
    rng = random.Random(7)
    for _ in range(150):
        words = [rng.choice(STATEMENT_PIECES + [f'"{table}"']) for _ in range(rng.randint(2, 14))]
        statement = " ".join(words)
        parameters = [{"S": "a"}] * statement.count("?")
        try:
            ddb.execute_statement(Statement=statement,
                                  **({"Parameters": parameters} if parameters else {}))
        except ClientError as error:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400, statement

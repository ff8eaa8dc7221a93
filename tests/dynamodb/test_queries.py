"""Query and Scan: DynamoDB's sort order for S, N and B, key conditions, direction, Limit,
the 1 MB page, pagination keys, filters after Limit, Select COUNT, parallel Scan segments."""

from __future__ import annotations

import random
import time
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import validation_error

NUMBERS = ["-1e125", "-1000", "-10.5", "-10", "-1", "-0.5", "-0.0001", "0", "1e-130", "0.001",
           "0.5", "1", "1.5", "2", "9.99", "10", "10.01", "100", "12345678901234567890",
           "9.9e125"]
STRINGS = ["", "0", "A", "Z", "_", "a", "a\x00", "a\x00b", "aa", "ab", "z", "\x7f", "é", "ö",
           "\u4e2d", "\uffff", "\U00010000", "\U0001f600"]
BINARIES = [b"\x00", b"\x00\x00", b"\x00\x01", b"\x01", b"\x7f", b"\x80", b"\xfe", b"\xff",
            b"\xff\x00", b"\xff\xff"]


def query_all(ddb, table, **kwargs) -> list[dict]:
    items, start = [], None
    while True:
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.query(TableName=table, **kwargs)
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


@pytest.mark.parametrize("kind, values", [
    ("N", NUMBERS), ("S", STRINGS[1:]), ("B", BINARIES)])
def test_sort_key_order_matches_dynamodb(ddb, make_table, kind, values):
    table = make_table(range_key=("sk", kind))
    shuffled = values[:]
    random.Random(7).shuffle(shuffled)
    for value in shuffled:
        ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {kind: value}})
    items = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": "p"}})["Items"]
    got = [item["sk"][kind] for item in items]
    if kind == "N":
        assert [Decimal(v) for v in got] == sorted(Decimal(v) for v in values)
    elif kind == "S":
        assert got == sorted(values, key=lambda s: s.encode())
    else:
        assert got == sorted(values)
    backwards = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "p"}},
                          ScanIndexForward=False)["Items"]
    assert [item["sk"][kind] for item in backwards] == got[::-1]


@pytest.fixture
def numbered(ddb, sorted_table):
    """Partition "p" with sk 0..19 (and a neighbour partition "q")."""
    for i in range(20):
        ddb.put_item(TableName=sorted_table, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                                   "even": {"BOOL": i % 2 == 0},
                                                   "name": {"S": f"item-{i:02d}"}})
    ddb.put_item(TableName=sorted_table, Item={"pk": {"S": "q"}, "sk": {"N": "5"}})
    return sorted_table


@pytest.mark.parametrize("condition, values, expected", [
    ("sk = :a", {":a": {"N": "5"}}, [5]),
    ("sk < :a", {":a": {"N": "3"}}, [0, 1, 2]),
    ("sk <= :a", {":a": {"N": "3"}}, [0, 1, 2, 3]),
    ("sk > :a", {":a": {"N": "16"}}, [17, 18, 19]),
    ("sk >= :a", {":a": {"N": "16.5"}}, [17, 18, 19]),
    ("sk BETWEEN :a AND :b", {":a": {"N": "4"}, ":b": {"N": "7"}}, [4, 5, 6, 7]),
])
def test_key_conditions(ddb, numbered, condition, values, expected):
    items = ddb.query(TableName=numbered, KeyConditionExpression=f"pk = :p AND {condition}",
                      ExpressionAttributeValues={":p": {"S": "p"}, **values})["Items"]
    assert [int(item["sk"]["N"]) for item in items] == expected


def test_begins_with_on_string_sort_key(ddb, make_table):
    table = make_table(range_key=("sk", "S"))
    for sk in ("ORDER#1", "ORDER#2", "ORDERS", "ORDER", "USER#1", "ORDER#10"):
        ddb.put_item(TableName=table, Item={"pk": {"S": "c"}, "sk": {"S": sk}})
    items = ddb.query(TableName=table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                      ExpressionAttributeValues={":p": {"S": "c"}, ":s": {"S": "ORDER#"}})
    assert [i["sk"]["S"] for i in items["Items"]] == ["ORDER#1", "ORDER#10", "ORDER#2"]


def test_limit_and_pagination(ddb, numbered):
    page = ddb.query(TableName=numbered, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "p"}}, Limit=7)
    assert [int(i["sk"]["N"]) for i in page["Items"]] == list(range(7))
    assert page["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "6"}}
    everything = query_all(ddb, numbered, KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": {"S": "p"}}, Limit=7)
    assert [int(i["sk"]["N"]) for i in everything] == list(range(20))
    backwards = query_all(ddb, numbered, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "p"}}, Limit=6,
                          ScanIndexForward=False)
    assert [int(i["sk"]["N"]) for i in backwards] == list(range(19, -1, -1))


def test_filter_applies_after_limit(ddb, numbered):
    page = ddb.query(TableName=numbered, KeyConditionExpression="pk = :p",
                     FilterExpression="even = :t", Limit=5,
                     ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"BOOL": True}})
    assert (page["Count"], page["ScannedCount"]) == (3, 5)
    assert [int(i["sk"]["N"]) for i in page["Items"]] == [0, 2, 4]
    empty = ddb.query(TableName=numbered, KeyConditionExpression="pk = :p",
                      FilterExpression="even = :t", Limit=1,
                      ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "0"}},
                      ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"BOOL": True}})
    assert empty["Items"] == [] and empty["ScannedCount"] == 1
    assert empty["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "1"}}


def test_select_count_and_projection(ddb, numbered):
    counted = ddb.query(TableName=numbered, KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "p"}}, Select="COUNT")
    assert counted["Count"] == 20 and "Items" not in counted
    projected = ddb.query(TableName=numbered, KeyConditionExpression="pk = :p AND sk < :n",
                          ProjectionExpression="#n", ExpressionAttributeNames={"#n": "name"},
                          ExpressionAttributeValues={":p": {"S": "p"}, ":n": {"N": "2"}})
    assert projected["Items"] == [{"name": {"S": "item-00"}}, {"name": {"S": "item-01"}}]


@pytest.mark.parametrize("kwargs, message", [
    (dict(KeyConditionExpression="sk = :a", ExpressionAttributeValues={":a": {"N": "1"}}),
     "Query condition missed key schema element: pk"),
    (dict(KeyConditionExpression="pk > :a", ExpressionAttributeValues={":a": {"S": "1"}}),
     "Query key condition not supported"),
    (dict(KeyConditionExpression="pk = :a OR sk = :b",
          ExpressionAttributeValues={":a": {"S": "1"}, ":b": {"N": "1"}}),
     "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR"),
    (dict(KeyConditionExpression="pk = :a AND begins_with(sk, :b)",
          ExpressionAttributeValues={":a": {"S": "1"}, ":b": {"N": "1"}}),
     "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
     "operator or function: begins_with, operand type: N"),
    (dict(KeyConditionExpression="pk = :a", ExpressionAttributeValues={":a": {"N": "1"}}),
     "One or more parameter values were invalid: Condition parameter type does not match "
     "schema type"),
    (dict(KeyConditionExpression="pk = :a", FilterExpression="sk > :a",
          ExpressionAttributeValues={":a": {"S": "1"}}),
     "Filter Expression can only contain non-primary key attributes: Primary key attribute: "
     "sk"),
    (dict(), "Either the KeyConditions or KeyConditionExpression parameter must be specified "
             "in the request."),
    (dict(KeyConditionExpression="pk = :a", IndexName="nope",
          ExpressionAttributeValues={":a": {"S": "1"}}),
     "The table does not have the specified index: nope"),
    (dict(KeyConditionExpression="pk = :a", ExclusiveStartKey={"pk": {"S": "1"}},
          ExpressionAttributeValues={":a": {"S": "1"}}),
     "The provided starting key is invalid: The provided key element does not match the "
     "schema"),
])
def test_query_errors(ddb, numbered, kwargs, message):
    with pytest.raises(ClientError) as excinfo:
        ddb.query(TableName=numbered, **kwargs)
    assert validation_error(excinfo) == message


def test_legacy_key_conditions_and_query_filter(ddb, numbered):
    items = ddb.query(TableName=numbered,
                      KeyConditions={"pk": {"ComparisonOperator": "EQ",
                                            "AttributeValueList": [{"S": "p"}]},
                                     "sk": {"ComparisonOperator": "BETWEEN",
                                            "AttributeValueList": [{"N": "2"}, {"N": "9"}]}},
                      QueryFilter={"even": {"ComparisonOperator": "EQ",
                                            "AttributeValueList": [{"BOOL": False}]}},
                      AttributesToGet=["sk"])["Items"]
    assert items == [{"sk": {"N": str(i)}} for i in (3, 5, 7, 9)]


def test_page_stops_after_one_megabyte(ddb, sorted_table):
    big = "x" * (300 * 1024)
    for i in range(5):
        ddb.put_item(TableName=sorted_table, Item={"pk": {"S": "big"}, "sk": {"N": str(i)},
                                                   "v": {"S": big}})
    page = ddb.query(TableName=sorted_table, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "big"}},
                     ReturnConsumedCapacity="TOTAL")
    assert page["Count"] == 4  # the fourth item crosses 1 MB
    assert page["LastEvaluatedKey"]["sk"] == {"N": "3"}
    # 4 items of just over 300 KB: ceil(1.2 MB / 4 KB) = 301 units, halved (eventual)
    assert page["ConsumedCapacity"]["CapacityUnits"] == 150.5
    scanned = ddb.scan(TableName=sorted_table)
    assert scanned["Count"] == 4 and "LastEvaluatedKey" in scanned


def test_scan_pages_and_parallel_segments(ddb, table):
    keys = {f"k{i}" for i in range(60)}
    for key in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    paged, start = [], None
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = ddb.scan(TableName=table, Limit=13, **kwargs)
        paged += [i["pk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert sorted(paged) == sorted(keys) and len(paged) == 60
    segments = [[i["pk"]["S"] for i in ddb.scan(TableName=table, Segment=s,
                                                   TotalSegments=4)["Items"]]
                for s in range(4)]
    assert sorted(k for segment in segments for k in segment) == sorted(keys)
    assert all(segments)
    with pytest.raises(ClientError) as excinfo:
        ddb.scan(TableName=table, Segment=4, TotalSegments=4)
    assert validation_error(excinfo) == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 4 is not less than TotalSegments: 4")


def test_scan_filter_on_key_and_counts(ddb, table):
    for user in ("john123", "jane", "john123x"):
        ddb.put_item(TableName=table, Item={"pk": {"S": user}, "content": {"S": "hi"}})
    page = ddb.scan(TableName=table, FilterExpression="pk = :u",
                    ExpressionAttributeValues={":u": {"S": "john123"}})
    assert page["Count"] == 1 and page["ScannedCount"] == 3
    legacy = ddb.scan(TableName=table, ScanFilter={"pk": {"ComparisonOperator": "BEGINS_WITH",
                                                          "AttributeValueList": [{"S": "john"}]}})
    assert legacy["Count"] == 2


def test_query_of_1000_items_is_fast(ddb, sorted_table):
    with ddb_batch(ddb, sorted_table) as put:
        for i in range(1000):
            put({"pk": {"S": "bulk"}, "sk": {"N": str(i)}, "name": {"S": f"item {i}"},
                 "n": {"N": str(i * 3)}, "tags": {"SS": ["a", "b"]}})
    ddb.query(TableName=sorted_table, KeyConditionExpression="pk = :p",
              ExpressionAttributeValues={":p": {"S": "bulk"}})
    started = time.perf_counter()
    runs = 5
    for _ in range(runs):
        page = ddb.query(TableName=sorted_table, KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": "bulk"}})
    elapsed = (time.perf_counter() - started) / runs
    assert page["Count"] == 1000
    assert elapsed < 0.4, f"1,000-item Query took {elapsed:.3f}s"  # moto: ~0.6 s to 1.5 s


class ddb_batch:
    """put(item) in BatchWriteItem requests of 25."""

    def __init__(self, ddb, table: str) -> None:
        self.ddb, self.table, self.pending = ddb, table, []

    def __enter__(self):
        return self.put

    def put(self, item: dict) -> None:
        self.pending.append({"PutRequest": {"Item": item}})
        if len(self.pending) == 25:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.ddb.batch_write_item(RequestItems={self.table: self.pending})
            self.pending = []

    def __exit__(self, *exc) -> None:
        self.flush()


def test_resource_api_conditions(ddb_resource, make_table):
    from boto3.dynamodb.conditions import Attr, Key
    table = ddb_resource.Table(make_table(range_key=("sk", "S")))
    with table.batch_writer() as writer:
        for i in range(12):
            writer.put_item(Item={"pk": "user#1", "sk": f"order#{i:03d}", "total": i * 10,
                                  "status": "open" if i % 3 else "closed"})
    page = table.query(KeyConditionExpression=Key("pk").eq("user#1") &
                       Key("sk").begins_with("order#00"),
                       FilterExpression=Attr("status").eq("open") & Attr("total").gte(20))
    assert [item["sk"] for item in page["Items"]] == ["order#002", "order#004", "order#005",
                                                      "order#007", "order#008"]
    between = table.query(KeyConditionExpression=Key("pk").eq("user#1") &
                          Key("sk").between("order#003", "order#005"), ScanIndexForward=False)
    assert [item["sk"] for item in between["Items"]] == ["order#005", "order#004", "order#003"]
    scanned = table.scan(FilterExpression=Attr("status").is_in(["closed"]) &
                         Attr("missing").not_exists())
    assert sorted(item["sk"] for item in scanned["Items"]) == ["order#000", "order#003",
                                                               "order#006", "order#009"]

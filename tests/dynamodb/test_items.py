"""Items: PutItem/GetItem/UpdateItem/DeleteItem, attribute types and their validation, item
and key size limits, ReturnValues and ReturnConsumedCapacity."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import error_of, validation_error

ALL_TYPES = {
    "pk": {"S": "all"},
    "s": {"S": "text ünicode"},
    "empty": {"S": ""},
    "n": {"N": "-12.5"},
    "b": {"B": b"\x00\x01\xff"},
    "empty_b": {"B": b""},
    "t": {"BOOL": True},
    "null": {"NULL": True},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}, {"M": {}}, {"B": b"\x02"}]},
    "m": {"M": {"inner": {"M": {"deep": {"SS": ["a", "b"]}, "bs": {"BS": [b"z", b"\xfe"]}}}}},
    "ss": {"SS": ["a", "b", ""]},
    "ns": {"NS": ["1", "2.5", "-3"]},
    "bs": {"BS": [b"x", b"y"]},
}


def test_all_types_round_trip(ddb, table):
    ddb.put_item(TableName=table, Item=ALL_TYPES)
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "all"}})["Item"]
    assert item == ALL_TYPES
    # Query and Scan write stored items as they are kept: binaries nested in lists and maps too
    queried = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "all"}})["Items"]
    assert queried == [ALL_TYPES]
    scanned = ddb.scan(TableName=table, FilterExpression="pk = :p",
                       ExpressionAttributeValues={":p": {"S": "all"}})["Items"]
    assert scanned == [ALL_TYPES]


def test_numbers_are_stored_canonical(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "a": {"N": "001.500"},
                                        "b": {"N": "1E+3"}, "c": {"N": "-0.0"},
                                        "d": {"N": "1.2e-5"}, "e": {"N": "+7"},
                                        "big": {"N": "9" * 38 + "0" * 87}})
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "n"}})["Item"]
    assert [item[k]["N"] for k in "abcde"] == ["1.5", "1000", "0", "0.000012", "7"]
    assert item["big"]["N"] == "9" * 38 + "0" * 87


@pytest.mark.parametrize("value, message", [
    ({"N": "12a"}, "The parameter cannot be converted to a numeric value: 12a"),
    ({"N": "1" * 39}, "Attempting to store more than 38 significant digits in a Number"),
    ({"N": "1e126"}, "Number overflow. Attempting to store a number with magnitude larger than "
                     "supported range"),
    ({"N": "-1e-131"}, "Number underflow. Attempting to store a number with magnitude smaller "
                       "than supported range"),
    ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
    ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
    ({"BS": []}, "One or more parameter values were invalid: Binary sets should not be empty"),
    ({"SS": ["a", "a"]},
     "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
    ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
    ({"NULL": False},
     "One or more parameter values were invalid: Null attribute value types must have the "
     "value of true"),
    ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must "
                           "contain exactly one of the supported datatypes"),
    ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported "
         "datatypes"),
    ({"L": [{"M": {"x": {}}}]}, "Supplied AttributeValue is empty, must contain exactly one "
                                "of the supported datatypes"),
])
def test_invalid_values(ddb, table, value, message):
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=table, Item={"pk": {"S": "bad"}, "v": value})
    assert validation_error(excinfo) == message


def test_number_limits_accepted(ddb, table):
    item = {"pk": {"S": "limits"}, "small": {"N": "1e-130"}, "large": {"N": "9.9e125"},
            "precise": {"N": "1." + "2" * 37}}
    ddb.put_item(TableName=table, Item=item)
    stored = ddb.get_item(TableName=table, Key={"pk": {"S": "limits"}})["Item"]
    assert stored["small"]["N"] == "0." + "0" * 129 + "1"
    assert stored["precise"]["N"] == "1." + "2" * 37


def test_key_validation(ddb, sorted_table):
    cases = [
        ({"pk": {"S": "a"}}, "One or more parameter values were invalid: Missing the key sk in "
                             "the item"),
        ({"pk": {"N": "1"}, "sk": {"N": "1"}},
         "One or more parameter values were invalid: Type mismatch for key pk expected: S "
         "actual: N"),
        ({"pk": {"S": ""}, "sk": {"N": "1"}},
         "One or more parameter values are not valid. The AttributeValue for a key attribute "
         "cannot contain an empty string value. Key: pk"),
        ({"pk": {"S": "x" * 2049}, "sk": {"N": "1"}},
         "One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
         "size limit of2048 bytes"),
    ]
    for item, message in cases:
        with pytest.raises(ClientError) as excinfo:
            ddb.put_item(TableName=sorted_table, Item=item)
        assert validation_error(excinfo) == message
    for key in ({"pk": {"S": "a"}}, {"pk": {"S": "a"}, "sk": {"S": "1"}},
                {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}}):
        with pytest.raises(ClientError) as excinfo:
            ddb.get_item(TableName=sorted_table, Key=key)
        assert validation_error(excinfo) == "The provided key element does not match the schema"


def test_range_key_size_limit(ddb, make_table):
    name = make_table(range_key=("sk", "S"))
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "x" * 1024}})
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "x" * 1025}})
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: Aggregated size of all range keys has "
        "exceeded the size limit of 1024 bytes")


def test_item_size_limit_counts_names_and_values(ddb, table):
    # size = len("pk") + len("k") + len("v") + len(value)
    fits = 400 * 1024 - 2 - 1 - 1
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"S": "x" * fits}})
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"S": "x" * (fits + 1)}})
    assert validation_error(excinfo) == "Item size has exceeded the maximum allowed size"
    # A number's size: one byte per two digits (aligned on the point) plus one.
    big_number = "11111" + "0" * 121  # 4 bytes
    with pytest.raises(ClientError):
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": big_number},
                                            "v": {"S": "x" * (fits - 1 - 4 + 1)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": big_number},
                                        "v": {"S": "x" * (fits - 1 - 4)}})
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET w = :w",
                        ExpressionAttributeValues={":w": {"S": "xx"}})
    assert validation_error(excinfo) == (
        "Item size to update has exceeded the maximum allowed size")


def test_put_replaces_whole_item_and_returns_old(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "a": {"S": "1"}})
    response = ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "b": {"S": "2"}},
                            ReturnValues="ALL_OLD")
    assert response["Attributes"] == {"pk": {"S": "r"}, "a": {"S": "1"}}
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "r"}})["Item"] == {
        "pk": {"S": "r"}, "b": {"S": "2"}}
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=table, Item={"pk": {"S": "r"}}, ReturnValues="ALL_NEW")
    assert validation_error(excinfo) == "Return values set to invalid value"


def test_get_item_projection(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "a": {"S": "1"},
                                        "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
                                        "l": {"L": [{"S": "0"}, {"S": "1"}, {"S": "2"}]}})
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "p"}},
                        ProjectionExpression="a, m.y, l[2], #missing",
                        ExpressionAttributeNames={"#missing": "nothing"})["Item"]
    assert item == {"a": {"S": "1"}, "m": {"M": {"y": {"N": "2"}}}, "l": {"L": [{"S": "2"}]}}
    with pytest.raises(ClientError) as excinfo:
        ddb.get_item(TableName=table, Key={"pk": {"S": "p"}}, ProjectionExpression="m, m.x")
    assert validation_error(excinfo) == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [m], path two: [m, x]")
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "p"}}, AttributesToGet=["a"])["Item"]
    assert item == {"a": {"S": "1"}}
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "missing"}})


def test_delete_item_with_return_values(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}, "a": {"S": "1"}})
    response = ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}}, ReturnValues="ALL_OLD")
    assert response["Attributes"] == {"pk": {"S": "d"}, "a": {"S": "1"}}
    assert "Attributes" not in ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}},
                                               ReturnValues="ALL_OLD")


@pytest.mark.parametrize("returns, expected", [
    ("ALL_OLD", {"pk": {"S": "u"}, "a": {"N": "1"}, "b": {"S": "keep"}, "c": {"S": "gone"}}),
    ("ALL_NEW", {"pk": {"S": "u"}, "a": {"N": "2"}, "b": {"S": "keep"}, "d": {"S": "new"}}),
    ("UPDATED_OLD", {"a": {"N": "1"}, "c": {"S": "gone"}}),
    ("UPDATED_NEW", {"a": {"N": "2"}, "d": {"S": "new"}}),
])
def test_update_return_values(ddb, table, returns, expected):
    ddb.put_item(TableName=table, Item={"pk": {"S": "u"}, "a": {"N": "1"}, "b": {"S": "keep"},
                                        "c": {"S": "gone"}})
    response = ddb.update_item(TableName=table, Key={"pk": {"S": "u"}},
                               UpdateExpression="SET a = a + :one, d = :new REMOVE c",
                               ExpressionAttributeValues={":one": {"N": "1"},
                                                          ":new": {"S": "new"}},
                               ReturnValues=returns)
    assert response["Attributes"] == expected


def test_update_creates_missing_item(ddb, table):
    response = ddb.update_item(TableName=table, Key={"pk": {"S": "upsert"}},
                               UpdateExpression="SET visits = if_not_exists(visits, :z) + :one",
                               ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"}},
                               ReturnValues="ALL_NEW")
    assert response["Attributes"] == {"pk": {"S": "upsert"}, "visits": {"N": "1"}}
    ddb.update_item(TableName=table, Key={"pk": {"S": "bare"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "bare"}})["Item"] == {
        "pk": {"S": "bare"}}


def test_update_cannot_touch_key(ddb, table):
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression="SET pk = :v",
                        ExpressionAttributeValues={":v": {"S": "other"}})
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute "
        "is part of the key")


def test_conditional_failure_returns_item_when_asked(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=table, Item={"pk": {"S": "c"}},
                     ConditionExpression="attribute_not_exists(pk)",
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert error_of(excinfo) == ("ConditionalCheckFailedException",
                                 "The conditional request failed", 400)
    assert excinfo.value.response["Item"] == {"pk": {"S": "c"}, "v": {"N": "1"}}


def test_consumed_capacity_write_units(ddb, table):
    # 4.5 KB put = 5 WCU (sizes round up to the next KB)
    value = "x" * (4608 - 2 - 1 - 1)
    response = ddb.put_item(TableName=table, Item={"pk": {"S": "w"}, "v": {"S": value}},
                            ReturnConsumedCapacity="TOTAL")
    assert response["ConsumedCapacity"]["TableName"] == table
    assert response["ConsumedCapacity"]["CapacityUnits"] == 5.0
    response = ddb.put_item(TableName=table, Item={"pk": {"S": "w"}},
                            ReturnConsumedCapacity="INDEXES")
    # the larger of the old and new item counts
    assert response["ConsumedCapacity"]["CapacityUnits"] == 5.0
    assert response["ConsumedCapacity"]["Table"]["CapacityUnits"] == 5.0
    response = ddb.delete_item(TableName=table, Key={"pk": {"S": "w"}},
                               ReturnConsumedCapacity="TOTAL")
    assert response["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert "ConsumedCapacity" not in ddb.put_item(TableName=table, Item={"pk": {"S": "w"}})


def test_consumed_capacity_read_units(ddb, table):
    # 6 KB strongly consistent get = 2 RCU; eventually consistent half of that
    value = "x" * (6144 - 2 - 1 - 1)
    ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "v": {"S": value}})
    strong = ddb.get_item(TableName=table, Key={"pk": {"S": "r"}}, ConsistentRead=True,
                          ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    eventual = ddb.get_item(TableName=table, Key={"pk": {"S": "r"}},
                            ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    missing = ddb.get_item(TableName=table, Key={"pk": {"S": "none"}},
                           ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert (strong["CapacityUnits"], eventual["CapacityUnits"],
            missing["CapacityUnits"]) == (2.0, 1.0, 0.5)


def test_resource_table_api(ddb_resource, table):
    from decimal import Decimal
    resource_table = ddb_resource.Table(table)
    resource_table.put_item(Item={"pk": "img1"})
    updated = resource_table.update_item(Key={"pk": "img1"},
                                         UpdateExpression="set labels = :r",
                                         ExpressionAttributeValues={":r": ["cat", "dog"]},
                                         ReturnValues="UPDATED_NEW")
    assert updated["Attributes"] == {"labels": ["cat", "dog"]}
    resource_table.update_item(Key={"pk": "img1"}, UpdateExpression="ADD hits :n",
                               ExpressionAttributeValues={":n": Decimal("2.5")})
    item = resource_table.get_item(Key={"pk": "img1"}, ConsistentRead=True)["Item"]
    assert item == {"pk": "img1", "labels": ["cat", "dog"], "hits": Decimal("2.5")}


def test_nesting_limit(ddb, table):
    def nested(levels: int) -> dict:
        value: dict = {"S": "leaf"}
        for _ in range(levels):
            value = {"M": {"n": value}}
        return value
    ddb.put_item(TableName=table, Item={"pk": {"S": "deep"}, "v": nested(32)})
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=table, Item={"pk": {"S": "deep"}, "v": nested(33)})
    assert validation_error(excinfo) == (
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
        "levels beyond supported limit")

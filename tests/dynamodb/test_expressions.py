"""The expression language: conditions, functions, nested paths, update actions, placeholders
and their errors, and the legacy parameters on the same evaluator."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import error_of, validation_error

PRODUCT = {
    "pk": {"S": "456"},
    "Price": {"N": "650"},
    "ProductCategory": {"S": "Bicycle"},
    "Color": {"SS": ["Red", "Black"]},
    "Pictures": {"M": {"FrontView": {"S": "http://example.com/products/456_front.jpg"}}},
    "ProductReviews": {"M": {"FiveStar": {"L": [{"S": "Excellent!"}]},
                             "OneStar": {"L": [{"S": "Terrible"}]}}},
    "Sizes": {"L": [{"N": "10"}, {"N": "12"}, {"M": {"custom": {"BOOL": True}}}]},
    "Payload": {"B": b"\x01\x02\x03"},
}


@pytest.fixture
def product(ddb, table):
    ddb.put_item(TableName=table, Item=PRODUCT)
    return table


def holds(ddb, table, expression, values=None, names=None) -> bool:
    """Whether the condition holds for the product (a conditional no-op update tells)."""
    kwargs = {"ConditionExpression": expression}
    if values is not None:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    try:
        ddb.update_item(TableName=table, Key={"pk": {"S": "456"}}, **kwargs)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


@pytest.mark.parametrize("expression, values, expected", [
    ("Price = :v", {":v": {"N": "650.0"}}, True),
    ("Price <> :v", {":v": {"N": "650"}}, False),
    ("Price < :v", {":v": {"N": "1000"}}, True),
    ("Price >= :v", {":v": {"N": "650"}}, True),
    ("Price > :v", {":v": {"S": "1"}}, False),  # different types never compare
    ("ProductCategory < :v", {":v": {"S": "Car"}}, True),
    ("Payload < :v", {":v": {"B": b"\x02"}}, True),
    ("Price BETWEEN :lo AND :hi", {":lo": {"N": "500"}, ":hi": {"N": "650"}}, True),
    ("ProductCategory IN (:a, :b)", {":a": {"S": "Car"}, ":b": {"S": "Bicycle"}}, True),
    ("(ProductCategory IN (:a, :b)) and (Price between :lo and :hi)",
     {":a": {"S": "Sporting Goods"}, ":b": {"S": "Gardening Supplies"}, ":lo": {"N": "500"},
      ":hi": {"N": "600"}}, False),
    ("begins_with(Pictures.FrontView, :v)", {":v": {"S": "http://"}}, True),
    ("contains(Color, :v)", {":v": {"S": "Red"}}, True),
    ("contains(Color, :v)", {":v": {"S": "Blue"}}, False),
    ("contains(ProductCategory, :v)", {":v": {"S": "cycl"}}, True),
    ("contains(Sizes, :v)", {":v": {"N": "12"}}, True),
    ("contains(Payload, :v)", {":v": {"B": b"\x02\x03"}}, True),
    ("size(Color) = :two", {":two": {"N": "2"}}, True),
    ("size(ProductCategory) > :n", {":n": {"N": "6"}}, True),
    ("size(Pictures) = :n", {":n": {"N": "1"}}, True),
    ("size(absent) = :n", {":n": {"N": "0"}}, False),
    ("attribute_type(Price, :t)", {":t": {"S": "N"}}, True),
    ("attribute_type(Color, :t)", {":t": {"S": "SS"}}, True),
    ("Sizes[2].custom = :t", {":t": {"BOOL": True}}, True),
    ("Sizes[5] = :t", {":t": {"BOOL": True}}, False),
    ("NOT Price = :v OR ProductCategory = :c", {":v": {"N": "650"}, ":c": {"S": "Bicycle"}},
     True),
    ("NOT (Price = :v OR ProductCategory = :c)", {":v": {"N": "650"}, ":c": {"S": "Bicycle"}},
     False),
    ("Price = :v OR Price = :w AND Price = :w", {":v": {"N": "650"}, ":w": {"N": "1"}}, True),
    ("absent <> :v", {":v": {"N": "1"}}, True),
])
def test_conditions(ddb, product, expression, values, expected):
    assert holds(ddb, product, expression, values) is expected


def test_attribute_exists_on_nested_paths(ddb, product):
    assert holds(ddb, product, "attribute_exists(ProductReviews.OneStar)")
    assert not holds(ddb, product, "attribute_exists(ProductReviews.TwoStar)")
    assert holds(ddb, product, "attribute_not_exists(price)")  # names are case-sensitive
    assert holds(ddb, product, "attribute_exists(#r.#o[0])",
                 names={"#r": "ProductReviews", "#o": "OneStar"})


def test_checklist_conditional_update(ddb, product):
    values = {":discount": {"N": "150"}, ":limit": {"N": "500"}}
    response = ddb.update_item(TableName=product, Key={"pk": {"S": "456"}},
                               UpdateExpression="SET Price = Price - :discount",
                               ConditionExpression="Price > :limit",
                               ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
    assert response["Attributes"]["Price"] == {"N": "500"}
    with pytest.raises(ClientError) as excinfo:
        ddb.update_item(TableName=product, Key={"pk": {"S": "456"}},
                        UpdateExpression="SET Price = Price - :discount",
                        ConditionExpression="Price > :limit", ExpressionAttributeValues=values)
    assert error_of(excinfo)[0] == "ConditionalCheckFailedException"


def update(ddb, table, expression, values=None, names=None) -> dict:
    kwargs = {"UpdateExpression": expression, "ReturnValues": "ALL_NEW"}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    return ddb.update_item(TableName=table, Key={"pk": {"S": "456"}}, **kwargs)["Attributes"]


def test_set_actions(ddb, product):
    item = update(ddb, product,
                  "SET Pictures.SideView = :side, Sizes[1] = :s, Sizes[9] = :appended, "
                  "#n = list_append(:first, if_not_exists(#n, :empty)), Price = :p - Price",
                  {":side": {"S": "side.jpg"}, ":s": {"N": "14"}, ":appended": {"N": "99"},
                   ":first": {"L": [{"S": "a"}]}, ":empty": {"L": []}, ":p": {"N": "1000"}},
                  {"#n": "Notes"})
    assert item["Pictures"]["M"]["SideView"] == {"S": "side.jpg"}
    assert item["Sizes"]["L"][1] == {"N": "14"}
    assert item["Sizes"]["L"][-1] == {"N": "99"} and len(item["Sizes"]["L"]) == 4
    assert item["Notes"] == {"L": [{"S": "a"}]}
    assert item["Price"] == {"N": "350"}


def test_remove_add_delete_actions(ddb, product):
    item = update(ddb, product,
                  "REMOVE Sizes[0], Sizes[2], Pictures.FrontView ADD Price :n, Color :more, "
                  "Tally :n",
                  {":n": {"N": "5"}, ":more": {"SS": ["Blue"]}})
    assert sorted(item["Color"]["SS"]) == ["Black", "Blue", "Red"]
    item = update(ddb, product, "DELETE Color :gone", {":gone": {"SS": ["Black", "Green"]}})
    assert item["Sizes"] == {"L": [{"N": "12"}]}
    assert item["Pictures"] == {"M": {}}
    assert item["Price"] == {"N": "655"} and item["Tally"] == {"N": "5"}
    assert sorted(item["Color"]["SS"]) == ["Blue", "Red"]
    item = update(ddb, product, "DELETE Color :all", {":all": {"SS": ["Blue", "Red"]}})
    assert "Color" not in item


def test_atomic_counter_increments_add_up(ddb, product):
    for step in ("1", "2"):
        update(ddb, product, "SET hits = if_not_exists(hits, :zero) + :step",
               {":zero": {"N": "0"}, ":step": {"N": step}})
    assert update(ddb, product, "ADD hits :n", {":n": {"N": "0"}})["hits"] == {"N": "3"}


@pytest.mark.parametrize("expression, values, message", [
    ("SET a", None, 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a"'),
    ("SET a = :v,", {":v": {"N": "1"}},
     'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","'),
    ("SET a = :v SET b = :v", {":v": {"N": "1"}},
     'Invalid UpdateExpression: The "SET" section can only be used once in an update '
     'expression;'),
    ("SET a = :v, a = :v", {":v": {"N": "1"}},
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [a], path two: [a]"),
    ("SET Pictures = :v REMOVE Pictures.FrontView", {":v": {"N": "1"}},
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [Pictures], path two: [Pictures, FrontView]"),
    ("SET a = size(b)", None,
     "Invalid UpdateExpression: The function is not allowed in an update expression; "
     "function: size"),
    ("SET a = :v", {":v": {"N": "1"}, ":unused": {"N": "2"}},
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"),
    ("SET #status = :v", {":v": {"N": "1"}},
     "Invalid UpdateExpression: An expression attribute name used in the document path is "
     "not defined; attribute name: #status"),
    ("SET status = :v", {":v": {"N": "1"}},
     "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: "
     "status"),
    ("ADD ProductCategory :v", {":v": {"N": "1"}},
     "An operand in the update expression has an incorrect data type"),
    ("ADD x :v", {":v": {"S": "a"}},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
     "ADD, operand type: STRING"),
    ("SET x = Price + ProductCategory", None,
     "An operand in the update expression has an incorrect data type"),
    ("SET x = nothing + Price", None,
     "The provided expression refers to an attribute that does not exist in the item"),
    ("SET nothing.leaf = :v", {":v": {"N": "1"}},
     "The document path provided in the update expression is invalid for update"),
    ("SET x = :v", {":v": {"SS": []}},
     "ExpressionAttributeValues contains invalid value: One or more parameter values were "
     "invalid: An string set  may not be empty for key :v"),
])
def test_update_expression_errors(ddb, product, expression, values, message):
    with pytest.raises(ClientError) as excinfo:
        update(ddb, product, expression, values)
    assert validation_error(excinfo) == message


@pytest.mark.parametrize("expression, values, names, message", [
    ("foo", None, None, 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "foo"'),
    ("Price = :v b", {":v": {"N": "1"}}, None,
     'Invalid ConditionExpression: Syntax error; token: "b", near: ":v b"'),
    ("Price = :missing", {":v": {"N": "1"}}, None,
     "Invalid ConditionExpression: An expression attribute value used in expression is not "
     "defined; attribute value: :missing"),
    ("unknown_fn(Price)", None, None,
     "Invalid ConditionExpression: Invalid function name; function: unknown_fn"),
    ("attribute_exists(Price) = :v", {":v": {"N": "1"}}, None,
     "Invalid ConditionExpression: The function is not allowed to be used this way in an "
     "expression; function: attribute_exists"),
    ("begins_with(Price)", None, None,
     "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
     "operator or function: begins_with, number of operands: 1"),
    ("attribute_type(Price, :t)", {":t": {"S": "X"}}, None,
     "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: "
     "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
    ("Price BETWEEN :hi AND :lo", {":lo": {"N": "1"}, ":hi": {"N": "5"}}, None,
     "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
     "than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound "
     "operand: AttributeValue: {N:1}"),
    ("Price = :v", {":v": {"N": "1"}}, {"#unused": "x"},
     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"),
    ("Price = :v", {"v": {"N": "1"}}, None,
     'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'),
    ("Price = :v", {}, None, "ExpressionAttributeValues must not be empty"),
    ("", None, None, "Invalid ConditionExpression: The expression can not be empty;"),
])
def test_condition_expression_errors(ddb, product, expression, values, names, message):
    with pytest.raises(ClientError) as excinfo:
        holds(ddb, product, expression, values, names)
    assert validation_error(excinfo) == message


def test_placeholders_need_expressions(ddb, product):
    with pytest.raises(ClientError) as excinfo:
        ddb.get_item(TableName=product, Key={"pk": {"S": "456"}},
                     ExpressionAttributeNames={"#a": "a"})
    assert validation_error(excinfo) == (
        "ExpressionAttributeNames can only be specified when using expressions")


def test_mixing_legacy_and_expressions_is_rejected(ddb, product):
    with pytest.raises(ClientError) as excinfo:
        ddb.get_item(TableName=product, Key={"pk": {"S": "456"}}, AttributesToGet=["Price"],
                     ProjectionExpression="Price")
    assert validation_error(excinfo) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}")


def test_legacy_expected_and_attribute_updates(ddb, product):
    ddb.update_item(TableName=product, Key={"pk": {"S": "456"}},
                    AttributeUpdates={"Price": {"Action": "ADD", "Value": {"N": "10"}},
                                      "Color": {"Action": "DELETE"},
                                      "Tag": {"Action": "PUT", "Value": {"S": "new"}}},
                    Expected={"Price": {"Value": {"N": "650"}},
                              "Missing": {"Exists": False}})
    item = ddb.get_item(TableName=product, Key={"pk": {"S": "456"}})["Item"]
    assert item["Price"] == {"N": "660"} and item["Tag"] == {"S": "new"}
    assert "Color" not in item
    with pytest.raises(ClientError) as excinfo:
        ddb.delete_item(TableName=product, Key={"pk": {"S": "456"}},
                        Expected={"Price": {"ComparisonOperator": "LT",
                                            "AttributeValueList": [{"N": "100"}]},
                                  "Tag": {"ComparisonOperator": "NOT_NULL"}},
                        ConditionalOperator="AND")
    assert error_of(excinfo)[0] == "ConditionalCheckFailedException"
    ddb.delete_item(TableName=product, Key={"pk": {"S": "456"}},
                    Expected={"Price": {"ComparisonOperator": "LT",
                                        "AttributeValueList": [{"N": "100"}]},
                              "Tag": {"ComparisonOperator": "BEGINS_WITH",
                                      "AttributeValueList": [{"S": "ne"}]}},
                    ConditionalOperator="OR")
    assert "Item" not in ddb.get_item(TableName=product, Key={"pk": {"S": "456"}})


def test_legacy_wrong_argument_count(ddb, product):
    with pytest.raises(ClientError) as excinfo:
        ddb.delete_item(TableName=product, Key={"pk": {"S": "456"}},
                        Expected={"Price": {"ComparisonOperator": "BETWEEN",
                                            "AttributeValueList": [{"N": "1"}]}})
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: Invalid number of argument(s) for the "
        "BETWEEN ComparisonOperator")


def test_legacy_add_appends_to_lists(ddb, product):
    for _ in range(2):
        ddb.update_item(TableName=product, Key={"pk": {"S": "456"}},
                        AttributeUpdates={"History": {"Action": "ADD",
                                                      "Value": {"L": [{"S": "seen"}]}}})
    item = ddb.get_item(TableName=product, Key={"pk": {"S": "456"}})["Item"]
    assert item["History"] == {"L": [{"S": "seen"}, {"S": "seen"}]}


def test_expression_size_limit(ddb, product):
    with pytest.raises(ClientError) as excinfo:
        holds(ddb, product, "a" * 4092 + " = :v", {":v": {"N": "1"}})  # 4,097 bytes
    assert validation_error(excinfo) == (
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        "expression size: 4097")
    assert not holds(ddb, product, "a" * 4091 + " = :v", {":v": {"N": "1"}})  # 4,096 bytes

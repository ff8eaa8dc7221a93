"""Local and global secondary indexes: creation rules, projections, sparse indexes, Query and
Scan on them, GSIs added by UpdateTable and backfilled, index maintenance on writes."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import key_schema, unique, validation_error


@pytest.fixture
def game_table(ddb, make_table):
    """The notes' table: user_id + Game_TS, an LSI on Game_ID, a KEYS_ONLY GSI on game_id."""
    name = make_table(
        hash_key=("user_id", "S"), range_key=("Game_TS", "N"),
        AttributeDefinitions=[{"AttributeName": "Game_ID", "AttributeType": "S"},
                              {"AttributeName": "score", "AttributeType": "N"}],
        LocalSecondaryIndexes=[{
            "IndexName": "by_game", "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"},
                          {"AttributeName": "Game_ID", "KeyType": "RANGE"}]}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_score", "Projection": {"ProjectionType": "INCLUDE",
                                                    "NonKeyAttributes": ["note"]},
            "KeySchema": [{"AttributeName": "Game_ID", "KeyType": "HASH"},
                          {"AttributeName": "score", "KeyType": "RANGE"}]}])
    rows = [("ann", 1, "chess", 30, "a"), ("ann", 2, "go", 10, "b"), ("bob", 1, "chess", 50, "c"),
            ("bob", 2, "chess", 20, "d"), ("cid", 1, None, None, "e")]
    for user, ts, game, score, note in rows:
        item = {"user_id": {"S": user}, "Game_TS": {"N": str(ts)}, "note": {"S": note},
                "secret": {"S": "hidden"}}
        if game:
            item["Game_ID"] = {"S": game}
            item["score"] = {"N": str(score)}
        ddb.put_item(TableName=name, Item=item)
    return name


def test_describe_indexes(ddb, game_table):
    table = ddb.describe_table(TableName=game_table)["Table"]
    [lsi] = table["LocalSecondaryIndexes"]
    [gsi] = table["GlobalSecondaryIndexes"]
    assert lsi["IndexName"] == "by_game" and lsi["ItemCount"] == 4
    assert gsi["IndexStatus"] == "ACTIVE" and gsi["ItemCount"] == 4
    assert gsi["IndexArn"] == table["TableArn"] + "/index/by_score"


def test_query_local_index(ddb, game_table):
    items = ddb.query(TableName=game_table, IndexName="by_game",
                      KeyConditionExpression="user_id = :u AND Game_ID = :g",
                      ExpressionAttributeValues={":u": {"S": "bob"}, ":g": {"S": "chess"}},
                      ConsistentRead=True)["Items"]
    assert [i["Game_TS"]["N"] for i in items] == ["1", "2"]
    assert items[0]["secret"] == {"S": "hidden"}


def test_query_global_index_with_projection(ddb, game_table):
    page = ddb.query(TableName=game_table, IndexName="by_score",
                     KeyConditionExpression="Game_ID = :g AND score > :s",
                     ExpressionAttributeValues={":g": {"S": "chess"}, ":s": {"N": "25"}},
                     ScanIndexForward=False)
    assert [i["score"]["N"] for i in page["Items"]] == ["50", "30"]
    assert set(page["Items"][0]) == {"user_id", "Game_TS", "Game_ID", "score", "note"}
    limited = ddb.query(TableName=game_table, IndexName="by_score", Limit=1,
                        KeyConditionExpression="Game_ID = :g",
                        ExpressionAttributeValues={":g": {"S": "chess"}})
    assert limited["LastEvaluatedKey"] == {"user_id": {"S": "bob"}, "Game_TS": {"N": "2"},
                                           "Game_ID": {"S": "chess"}, "score": {"N": "20"}}
    rest = ddb.query(TableName=game_table, IndexName="by_score",
                     KeyConditionExpression="Game_ID = :g",
                     ExclusiveStartKey=limited["LastEvaluatedKey"],
                     ExpressionAttributeValues={":g": {"S": "chess"}})
    assert [i["score"]["N"] for i in rest["Items"]] == ["30", "50"]


def test_global_index_rules(ddb, game_table):
    with pytest.raises(ClientError) as excinfo:
        ddb.query(TableName=game_table, IndexName="by_score", ConsistentRead=True,
                  KeyConditionExpression="Game_ID = :g",
                  ExpressionAttributeValues={":g": {"S": "chess"}})
    assert validation_error(excinfo) == (
        "Consistent reads are not supported on global secondary indexes")
    with pytest.raises(ClientError) as excinfo:
        ddb.query(TableName=game_table, IndexName="by_score", Select="ALL_ATTRIBUTES",
                  KeyConditionExpression="Game_ID = :g",
                  ExpressionAttributeValues={":g": {"S": "chess"}})
    assert "projection type is not ALL" in validation_error(excinfo)


def test_index_follows_updates_and_deletes(ddb, game_table):
    ddb.update_item(TableName=game_table, Key={"user_id": {"S": "ann"}, "Game_TS": {"N": "2"}},
                    UpdateExpression="SET Game_ID = :g, score = :s",
                    ExpressionAttributeValues={":g": {"S": "chess"}, ":s": {"N": "99"}})
    ddb.delete_item(TableName=game_table, Key={"user_id": {"S": "bob"}, "Game_TS": {"N": "1"}})
    items = ddb.query(TableName=game_table, IndexName="by_score",
                      KeyConditionExpression="Game_ID = :g",
                      ExpressionAttributeValues={":g": {"S": "chess"}})["Items"]
    assert [(i["user_id"]["S"], i["score"]["N"]) for i in items] == [
        ("bob", "20"), ("ann", "30"), ("ann", "99")]
    go = ddb.query(TableName=game_table, IndexName="by_score",
                   KeyConditionExpression="Game_ID = :g",
                   ExpressionAttributeValues={":g": {"S": "go"}})["Items"]
    assert go == []


def test_index_key_type_is_checked_on_write(ddb, game_table):
    with pytest.raises(ClientError) as excinfo:
        ddb.put_item(TableName=game_table, Item={"user_id": {"S": "x"}, "Game_TS": {"N": "1"},
                                                 "score": {"S": "high"}})
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: Type mismatch for Index Key score "
        "Expected: N Actual: S IndexName: by_score")


def test_scan_index_is_sparse(ddb, game_table):
    scanned = ddb.scan(TableName=game_table, IndexName="by_score")
    assert scanned["Count"] == 4  # cid has no Game_ID/score


def test_gsi_added_later_is_backfilled(ddb, game_table):
    response = ddb.update_table(TableName=game_table,
                     AttributeDefinitions=[{"AttributeName": "note", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": "by_note", "Projection": {"ProjectionType": "KEYS_ONLY"},
                         "KeySchema": [{"AttributeName": "note", "KeyType": "HASH"}]}}])
    statuses = {i["IndexName"]: i["IndexStatus"]
                for i in response["TableDescription"]["GlobalSecondaryIndexes"]}
    assert statuses == {"by_score": "ACTIVE", "by_note": "CREATING"}
    deadline = time.time() + 10
    while True:  # the backfill runs in the background
        described = ddb.describe_table(TableName=game_table)["Table"]
        indexes = {i["IndexName"]: i for i in described["GlobalSecondaryIndexes"]}
        if indexes["by_note"]["IndexStatus"] == "ACTIVE":
            break
        assert indexes["by_note"]["Backfilling"] is True
        assert time.time() < deadline, "backfill did not finish"
        time.sleep(0.1)
    assert (indexes["by_score"]["ItemCount"], indexes["by_note"]["ItemCount"]) == (4, 5)
    items = ddb.query(TableName=game_table, IndexName="by_note",
                      KeyConditionExpression="note = :n",
                      ExpressionAttributeValues={":n": {"S": "e"}})["Items"]
    assert items == [{"user_id": {"S": "cid"}, "Game_TS": {"N": "1"}, "note": {"S": "e"}}]
    ddb.update_table(TableName=game_table,
                     GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_note"}}])
    names = [i["IndexName"] for i in
             ddb.describe_table(TableName=game_table)["Table"]["GlobalSecondaryIndexes"]]
    assert names == ["by_score"]


def test_lsi_requires_a_sort_key_table(ddb):
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(TableName=unique(), BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "x", "AttributeType": "S"}],
                         LocalSecondaryIndexes=[{
                             "IndexName": "lsi", "Projection": {"ProjectionType": "ALL"},
                             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                           {"AttributeName": "x", "KeyType": "RANGE"}]}])
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: Table KeySchema does not have a range key, "
        "which is required when specifying a LocalSecondaryIndex")


def test_provisioned_gsi_needs_throughput(ddb):
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(TableName=unique(), **key_schema(("pk", "S")),
                         ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                "WriteCapacityUnits": 1},
                         GlobalSecondaryIndexes=[{
                             "IndexName": "gsi", "Projection": {"ProjectionType": "ALL"},
                             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}])
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: ProvisionedThroughput is not specified for "
        "index: gsi")


def test_backfill_of_a_larger_table_meets_concurrent_writes(ddb, make_table):
    name = make_table(range_key=("sk", "N"))
    for start in range(0, 600, 25):
        ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": {"pk": {"S": f"p{i % 7}"}, "sk": {"N": str(i)},
                                     "g": {"S": f"g{i % 3}"}}}} for i in range(start, start + 25)]})
    ddb.update_table(TableName=name,
                     AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": "by_g", "Projection": {"ProjectionType": "KEYS_ONLY"},
                         "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}]}}])
    # writes while the backfill runs: moved, deleted and new items
    for i in range(0, 600, 50):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"p{i % 7}"}, "sk": {"N": str(i)},
                                           "g": {"S": "moved"}})
        ddb.delete_item(TableName=name, Key={"pk": {"S": f"p{(i + 1) % 7}"},
                                             "sk": {"N": str(i + 1)}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "new"}, "sk": {"N": "1000"},
                                       "g": {"S": "moved"}})
    deadline = time.time() + 20
    while ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0][
            "IndexStatus"] != "ACTIVE":
        assert time.time() < deadline, "backfill did not finish"
        time.sleep(0.1)
    index = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["ItemCount"] == ddb.scan(TableName=name, Select="COUNT")["Count"] == 589
    moved = ddb.query(TableName=name, IndexName="by_g", KeyConditionExpression="g = :g",
                      ExpressionAttributeValues={":g": {"S": "moved"}})["Items"]
    assert sorted(int(i["sk"]["N"]) for i in moved) == list(range(0, 600, 50)) + [1000]
    for group in ("g0", "g1", "g2"):
        expected = sum(1 for i in range(600) if i % 3 == int(group[1]) and i % 50 != 0
                       and (i - 1) % 50 != 0)
        items = ddb.query(TableName=name, IndexName="by_g", KeyConditionExpression="g = :g",
                          ExpressionAttributeValues={":g": {"S": group}})["Items"]
        assert len(items) == expected


def test_local_index_reads_fetch_unprojected_attributes(ddb, make_table):
    name = make_table(
        range_key=("sk", "N"),
        AttributeDefinitions=[{"AttributeName": "rank", "AttributeType": "N"}],
        LocalSecondaryIndexes=[{
            "IndexName": "by_rank", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "rank", "KeyType": "RANGE"}]}])
    for i in range(3):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                           "rank": {"N": str(10 - i)}, "label": {"S": f"l{i}"}})
    keys_only = ddb.query(TableName=name, IndexName="by_rank", KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "p"}})["Items"]
    assert [set(i) for i in keys_only] == [{"pk", "sk", "rank"}] * 3
    fetched = ddb.query(TableName=name, IndexName="by_rank", KeyConditionExpression="pk = :p",
                        ProjectionExpression="label", FilterExpression="label <> :l",
                        ExpressionAttributeValues={":p": {"S": "p"}, ":l": {"S": "l1"}})
    assert fetched["Items"] == [{"label": {"S": "l2"}}, {"label": {"S": "l0"}}]
    everything = ddb.query(TableName=name, IndexName="by_rank", Select="ALL_ATTRIBUTES",
                           KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": {"S": "p"}})["Items"]
    assert [i["label"]["S"] for i in everything] == ["l2", "l1", "l0"]


def test_item_collection_metrics_of_writes_to_a_table_with_a_local_index(ddb, game_table,
                                                                          table):
    expected = {"ItemCollectionKey": {"user_id": {"S": "ann"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
    item = {"user_id": {"S": "ann"}, "Game_TS": {"N": "9"}}
    put = ddb.put_item(TableName=game_table, Item=item, ReturnItemCollectionMetrics="SIZE")
    assert put["ItemCollectionMetrics"] == expected
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName=game_table, Item=item)
    assert "ItemCollectionMetrics" not in ddb.put_item(
        TableName=table, Item={"pk": {"S": "x"}}, ReturnItemCollectionMetrics="SIZE")
    batch = ddb.batch_write_item(RequestItems={
        game_table: [{"PutRequest": {"Item": dict(item, Game_TS={"N": "10"})}},
                     {"DeleteRequest": {"Key": item}},
                     {"PutRequest": {"Item": {"user_id": {"S": "bob"}, "Game_TS": {"N": "9"}}}}],
        table: [{"PutRequest": {"Item": {"pk": {"S": "y"}}}}]}, ReturnItemCollectionMetrics="SIZE")
    assert batch["ItemCollectionMetrics"] == {game_table: [
        expected, dict(expected, ItemCollectionKey={"user_id": {"S": "bob"}})]}
    transaction = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": game_table, "Item": item}},
        {"ConditionCheck": {"TableName": game_table, "Key": {"user_id": {"S": "bob"},
                                                             "Game_TS": {"N": "9"}},
                            "ConditionExpression": "attribute_exists(user_id)"}}],
        ReturnItemCollectionMetrics="SIZE")
    assert transaction["ItemCollectionMetrics"] == {game_table: [expected]}

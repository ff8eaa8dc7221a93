"""PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import error_of, validation_error


@pytest.fixture
def music(ddb, make_table):
    name = make_table(hash_key=("Artist", "S"), range_key=("SongTitle", "S"))
    for artist, song, year in (("Acme Band", "Happy Day", 2019), ("Acme Band", "PartiQL Rocks", 2020),
                               ("No One You Know", "Call Me Today", 2018)):
        ddb.execute_statement(Statement=f'INSERT INTO "{name}" VALUE {{\'Artist\': ?, '
                                        f"'SongTitle': ?, 'Year': ?, 'Tags': <<'a', 'b'>>}}",
                              Parameters=[{"S": artist}, {"S": song}, {"N": str(year)}])
    return name


def test_insert_and_select(ddb, music):
    item = ddb.get_item(TableName=music, Key={"Artist": {"S": "Acme Band"},
                                              "SongTitle": {"S": "Happy Day"}})["Item"]
    assert item["Year"] == {"N": "2019"} and sorted(item["Tags"]["SS"]) == ["a", "b"]
    rows = ddb.execute_statement(
        Statement=f'SELECT SongTitle, "Year" FROM "{music}" WHERE Artist = ? AND "Year" >= 2020',
        Parameters=[{"S": "Acme Band"}])["Items"]
    assert rows == [{"SongTitle": {"S": "PartiQL Rocks"}, "Year": {"N": "2020"}}]
    everything = ddb.execute_statement(Statement=f'SELECT * FROM "{music}"')["Items"]
    assert len(everything) == 3
    missing = ddb.execute_statement(
        Statement=f"SELECT * FROM \"{music}\" WHERE Artist = 'Acme Band' AND Label IS MISSING")
    assert len(missing["Items"]) == 2


def test_select_pages_with_next_token(ddb, music):
    first = ddb.execute_statement(Statement=f'SELECT * FROM "{music}"', Limit=2)
    assert len(first["Items"]) == 2 and "NextToken" in first
    rest = ddb.execute_statement(Statement=f'SELECT * FROM "{music}"', Limit=2,
                                 NextToken=first["NextToken"])
    titles = {i["SongTitle"]["S"] for i in first["Items"] + rest["Items"]}
    assert titles == {"Happy Day", "PartiQL Rocks", "Call Me Today"}


def test_duplicate_insert(ddb, music):
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement=f"INSERT INTO \"{music}\" VALUE {{'Artist': 'Acme Band', "
                                        f"'SongTitle': 'Happy Day'}}")
    assert error_of(excinfo) == ("DuplicateItemException",
                                 "Duplicate primary key exists in table", 400)


def test_update_and_delete(ddb, music):
    updated = ddb.execute_statement(
        Statement=f"UPDATE \"{music}\" SET Plays = 10, \"Year\" = \"Year\" + 1 REMOVE Tags "
                  f"WHERE Artist = 'Acme Band' AND SongTitle = 'Happy Day' RETURNING ALL NEW *")
    assert updated["Items"] == [{"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"},
                                 "Year": {"N": "2020"}, "Plays": {"N": "10"}}]
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement=f"UPDATE \"{music}\" SET Plays = 1 WHERE "
                                        f"Artist = 'Nobody' AND SongTitle = 'None'")
    assert error_of(excinfo)[0] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement=f"UPDATE \"{music}\" SET Plays = 1 WHERE "
                                        f"Artist = 'Acme Band'")
    assert validation_error(excinfo) == (
        "Where clause does not contain a mandatory equality on all key attributes")
    ddb.execute_statement(Statement=f"DELETE FROM \"{music}\" WHERE Artist = 'Acme Band' AND "
                                    f"SongTitle = 'Happy Day'")
    assert "Item" not in ddb.get_item(TableName=music, Key={"Artist": {"S": "Acme Band"},
                                                            "SongTitle": {"S": "Happy Day"}})


def test_malformed_statement(ddb, music):
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement=f'SELEKT * FROM "{music}"')
    assert validation_error(excinfo).startswith(
        "Statement wasn't well formed, can't be processed:")
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement=f'SELECT * FROM "{music}" WHERE Artist = ?')
    assert validation_error(excinfo) == (
        "Number of parameters in request and statement don't match.")


def test_batch_execute_statement(ddb, music):
    responses = ddb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT * FROM \"{music}\" WHERE Artist = ? AND SongTitle = ?",
         "Parameters": [{"S": "Acme Band"}, {"S": "Happy Day"}]},
        {"Statement": f"SELECT * FROM \"{music}\" WHERE Artist = 'x' AND SongTitle = 'y'"},
    ])["Responses"]
    assert responses[0]["Item"]["Year"] == {"N": "2019"}
    assert "Item" not in responses[1]
    writes = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{music}\" VALUE {{'Artist': 'New', 'SongTitle': 'One'}}"},
        {"Statement": f"INSERT INTO \"{music}\" VALUE {{'Artist': 'Acme Band', "
                      f"'SongTitle': 'Happy Day'}}"},
    ])["Responses"]
    assert "Error" not in writes[0]
    assert writes[1]["Error"]["Code"] == "DuplicateItem"


def test_execute_transaction(ddb, music):
    ddb.execute_transaction(TransactStatements=[
        {"Statement": f"INSERT INTO \"{music}\" VALUE {{'Artist': 'T', 'SongTitle': 'One'}}"},
        {"Statement": f"UPDATE \"{music}\" SET Plays = 5 WHERE Artist = 'Acme Band' AND "
                      f"SongTitle = 'Happy Day'"},
    ])
    reads = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT Plays FROM \"{music}\" WHERE Artist = 'Acme Band' AND "
                      f"SongTitle = 'Happy Day'"}])["Responses"]
    assert reads == [{"Item": {"Plays": {"N": "5"}}}]
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"UPDATE \"{music}\" SET Plays = 6 WHERE Artist = 'Acme Band' AND "
                          f"SongTitle = 'Happy Day'"},
            {"Statement": f"INSERT INTO \"{music}\" VALUE {{'Artist': 'T', 'SongTitle': 'One'}}"},
        ])
    assert error_of(excinfo)[0] == "TransactionCanceledException"
    assert [r["Code"] for r in excinfo.value.response["CancellationReasons"]] == [
        "None", "DuplicateItem"]
    assert ddb.get_item(TableName=music, Key={"Artist": {"S": "Acme Band"},
                                              "SongTitle": {"S": "Happy Day"}})["Item"][
        "Plays"] == {"N": "5"}


def test_reads_answer_stored_items_and_evaluate_the_rest_of_the_where(ddb, make_table):
    """SELECTs whose WHERE is only the key answer the stored items as GetItem/Query do
    (binary and number values intact); the rest of a WHERE still filters, including a second,
    contradicting equality on a key attribute."""
    name = make_table(hash_key=("pk", "S"), range_key=("sk", "N"))
    for sk in (1, 2, 3):
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": str(sk)},
                                           "bin": {"B": bytes([sk, 0, 255])},
                                           "n": {"N": "1.50"}, "flag": {"BOOL": sk == 2}})
    table = f'"{name}"'
    whole = ddb.execute_statement(Statement=f"SELECT * FROM {table} WHERE pk = 'a'")["Items"]
    assert [i["sk"] for i in whole] == [{"N": "1"}, {"N": "2"}, {"N": "3"}]
    assert whole[0]["bin"] == {"B": bytes([1, 0, 255])} and whole[0]["n"] == {"N": "1.5"}
    contradicting = f"SELECT * FROM {table} WHERE pk = 'a' AND pk = 'b'"
    assert ddb.execute_statement(Statement=contradicting)["Items"] == []
    flagged = ddb.execute_statement(
        Statement=f"SELECT sk FROM {table} WHERE pk = 'a' AND flag = true")["Items"]
    assert flagged == [{"sk": {"N": "2"}}]
    page = ddb.execute_statement(Statement=f"SELECT * FROM {table} WHERE pk = 'a'", Limit=2)
    rest = ddb.execute_statement(Statement=f"SELECT * FROM {table} WHERE pk = 'a'",
                                 NextToken=page["NextToken"])["Items"]
    assert [i["sk"]["N"] for i in page["Items"] + rest] == ["1", "2", "3"]

    one = f"SELECT * FROM {table} WHERE pk = ? AND sk = ?"
    responses = ddb.batch_execute_statement(Statements=[
        {"Statement": one, "Parameters": [{"S": "a"}, {"N": "2.0"}]},  # a number's forms
        {"Statement": f"{one} AND flag = true", "Parameters": [{"S": "a"}, {"N": "1"}]},
        {"Statement": f"SELECT bin FROM {table} WHERE sk = 3 AND pk = 'a'"},
        {"Statement": f"{one} AND sk = 3", "Parameters": [{"S": "a"}, {"N": "2"}]},
    ])["Responses"]
    assert responses[0]["Item"]["sk"] == {"N": "2"} and \
        responses[0]["Item"]["bin"] == {"B": bytes([2, 0, 255])}
    assert "Item" not in responses[1] and "Item" not in responses[3]
    assert responses[2]["Item"] == {"bin": {"B": bytes([3, 0, 255])}}
    reads = ddb.execute_transaction(TransactStatements=[
        {"Statement": one, "Parameters": [{"S": "a"}, {"N": "1"}]},
        {"Statement": f"{one} AND flag = true", "Parameters": [{"S": "a"}, {"N": "3"}]},
    ])["Responses"]
    assert reads[0]["Item"]["bin"] == {"B": bytes([1, 0, 255])} and reads[1] == {}


def test_a_statement_repeated_with_other_parameters(ddb, make_table):
    """Statements of one text with other parameters (parsed once) each get their own values;
    a wrong number of parameters is still refused, statement by statement."""
    name = make_table(hash_key=("pk", "S"))
    table = f'"{name}"'
    insert = f"INSERT INTO {table} VALUE {{'pk': ?, 'n': ?, 'tags': <<?>>}}"
    ddb.batch_execute_statement(Statements=[
        {"Statement": insert, "Parameters": [{"S": f"k{n}"}, {"N": str(n)}, {"S": f"t{n}"}]}
        for n in range(3)])
    update = f"UPDATE {table} SET n = n + ?, doc = {{'seen': [1, ?]}} WHERE pk = ?"
    responses = ddb.batch_execute_statement(Statements=[
        {"Statement": update, "Parameters": [{"N": "10"}, {"S": "first"}, {"S": "k0"}]},
        {"Statement": update, "Parameters": [{"N": "30"}, {"S": "third"}, {"S": "k2"}]},
    ])["Responses"]
    assert ["Error" in r for r in responses] == [False, False]
    with pytest.raises(ClientError) as excinfo:  # one too few
        ddb.execute_statement(Statement=update, Parameters=[{"N": "20"}, {"S": "k1"}])
    assert validation_error(excinfo) == (
        "Number of parameters in request and statement don't match.")
    select = f"SELECT n, doc, tags FROM {table} WHERE pk = ?"
    items = [ddb.execute_statement(Statement=select, Parameters=[{"S": f"k{n}"}])["Items"][0]
             for n in range(3)]
    assert [i["n"]["N"] for i in items] == ["10", "1", "32"]
    assert items[0]["doc"] == {"M": {"seen": {"L": [{"N": "1"}, {"S": "first"}]}}}
    assert items[2]["doc"] == {"M": {"seen": {"L": [{"N": "1"}, {"S": "third"}]}}}
    assert "doc" not in items[1] and items[1]["tags"] == {"SS": ["t1"]}
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement=select, Parameters=[{"S": "k0"}, {"S": "extra"}])
    assert validation_error(excinfo) == (
        "Number of parameters in request and statement don't match.")

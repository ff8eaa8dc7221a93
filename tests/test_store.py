"""The store's own guarantees, on a real SQLite file: group commit keeps each transaction
atomic on its own, and nothing is acknowledged before it is on disk."""

import asyncio
import sqlite3

import pytest

from nubo.store import Store, TableSpec

ITEMS = TableSpec("items", key=("id",), columns={"id": "text", "n": "int"},
                  indexes={"by_n": ("n",)})


def read_back(path) -> dict:
    """What another process would find on disk now."""
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, n FROM items").fetchall())


def test_group_commit_is_atomic_per_transaction_and_durable_when_awaited(tmp_path):
    path = tmp_path / "nubo.db"

    async def scenario() -> None:
        store = Store(path)
        store.group_commits(asyncio.get_running_loop())
        items = store.table(ITEMS)
        await store.committed()
        with store.transaction():
            items.put({"id": "a", "n": 1})
        with pytest.raises(RuntimeError):
            with store.transaction():
                items.put({"id": "b", "n": 2})
                items.update(("a",), {"n": 99})
                raise RuntimeError("handler failed half way")
        with store.transaction():
            items.put({"id": "c", "n": 3})
        # Within the group, the failed transaction left no trace and the others are visible.
        assert [r["id"] for r in items.find("by_n")] == ["a", "c"]
        assert items.get(("a",))["n"] == 1
        assert read_back(path) == {}  # not committed yet: nobody has been answered
        pending = store.committed()
        assert pending is not None
        await pending
        assert read_back(path) == {"a": 1, "c": 3}
        assert store.committed() is None  # nothing left to wait for
        store.close()

    asyncio.run(scenario())


def test_transactions_without_a_loop_commit_immediately(tmp_path):
    path = tmp_path / "nubo.db"
    store = Store(path)
    items = store.table(ITEMS)
    with store.transaction():
        items.put({"id": "a", "n": 1})
    assert read_back(path) == {"a": 1}
    with pytest.raises(ValueError):
        with store.transaction():
            items.put({"id": "b", "n": 2})
            raise ValueError
    assert read_back(path) == {"a": 1}
    assert store.sequence("s") == 1 and store.sequence("s") == 2
    store.reset()
    assert read_back(path) == {} and store.sequence("s") == 1
    store.close()


def test_a_table_first_created_by_a_failed_transaction_still_exists(tmp_path):
    """A provider first loaded inside a request that then fails keeps usable tables."""
    async def scenario() -> None:
        store = Store(tmp_path / "nubo.db")
        store.group_commits(asyncio.get_running_loop())
        with pytest.raises(RuntimeError):
            with store.transaction():
                items = store.table(ITEMS)  # created inside the failing transaction
                items.put({"id": "lost", "n": 1})
                raise RuntimeError("the request failed")
        items.put({"id": "kept", "n": 2})  # the table object the provider kept still works
        await store.committed()
        assert read_back(tmp_path / "nubo.db") == {"kept": 2}
        store.close()

    asyncio.run(scenario())


def test_find_values_reads_the_columns_asked_for_in_index_order(tmp_path):
    store = Store(tmp_path / "nubo.db")
    items = store.table(ITEMS)
    with store.transaction():
        for name, n in (("a", 3), ("b", 1), ("c", 2), ("d", 5)):
            items.put({"id": name, "n": n, "note": "kept in the document"})
    assert items.find_values(("id",), "by_n", lo=2, hi=5) == [("c",), ("a",)]
    assert items.find_values(("n", "id"), "by_n", limit=2, reverse=True) == [(5, "d"), (3, "a")]
    with pytest.raises(ValueError):
        items.find_values(("note",))  # a document field is no column
    store.close()


def test_a_table_keyed_by_one_integer_appends_under_new_keys(tmp_path):
    blobs = TableSpec("blobs", key=("blob",), columns={"blob": "int", "data": "blob"})
    store = Store(tmp_path / "nubo.db")
    table = store.table(blobs)
    first, second = table.append({"data": b"a" * 3000}), table.append({"data": b"b"})
    assert second > first
    assert table.get((first,))["data"] == b"a" * 3000
    assert table.delete((first,)) and table.get((first,)) is None
    with pytest.raises(ValueError):
        store.table(ITEMS).append({"n": 1})  # a text key is the caller's to choose
    store.close()
    reopened = Store(tmp_path / "nubo.db")
    assert reopened.table(blobs).get((second,))["data"] == b"b"
    assert reopened.table(blobs).append({"data": b"c"}) > second
    reopened.close()


def test_pages_read_in_index_order_without_sorting(tmp_path):
    # an index holding key columns (as S3's listing index holds the object key)
    versions = TableSpec("versions", key=("bucket", "key", "rank"),
                         columns={"bucket": "text", "key": "text", "rank": "int", "listed": "int"},
                         indexes={"by_listing": ("bucket", "listed", "key")})
    store = Store(tmp_path / "nubo.db")
    table = store.table(versions)
    sql = table._range("select", "by_listing", ("b", 1), "a", None, False, True)
    plan = " ".join(row[-1] for row in store._db.execute("EXPLAIN QUERY PLAN " + sql,
                                                          ("b", 1, "a", 10)))
    assert "TEMP B-TREE" not in plan, plan
    store.close()


def test_replace_writes_only_what_changed_and_keeps_indexes_true(tmp_path):
    store = Store(tmp_path / "nubo.db")
    items = store.table(ITEMS)
    items.put({"id": "a", "n": 1, "note": "old"})
    old = items.get(("a",))
    items.replace(old, {**old, "note": "new"})  # no column changed: only the document
    items.replace(items.get(("a",)), {"id": "a", "n": 7, "note": "newer"})
    assert items.get(("a",)) == {"id": "a", "n": 7, "note": "newer"}
    assert items.find_values(("id",), "by_n", eq=(7,)) == [("a",)]
    assert items.find_values(("id",), "by_n", eq=(1,)) == []
    store.close()

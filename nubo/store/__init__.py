"""The one store API for all of nubo's state.

Services declare tables (``TableSpec``) of records: dicts whose key and queryable fields are real
columns and whose other fields live in a per-row CBOR document. Every read or write names a key or
an index range, so each request costs O(log n) in the stored data; nothing scans a whole table.

The default engine is SQLite in WAL mode in the data directory: a committed transaction survives
``kill -9`` (with ``synchronous=NORMAL`` only an OS crash may lose the last commits). ``--ephemeral``
runs the same code on an in-memory SQLite database. The API speaks in keys, index prefixes and
ranges, not SQL, so a PostgreSQL engine shared by several nubo processes can implement it later.

Concurrency: the server runs handlers on one event-loop thread and each request's writes in one
transaction, so readers never see half a request. Code running in other threads must not touch
the store.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import cbor2

__all__ = ["Store", "TableSpec", "Table"]

_COLUMN_TYPES = {"text": "TEXT", "int": "INTEGER", "real": "REAL", "blob": "BLOB"}
_DOC = "_doc"  # the column holding the fields that are not declared columns


@dataclass(frozen=True)
class TableSpec:
    """A table of records.

    key: primary-key columns. columns: every real column (key columns included) with its type
    (text|int|real|blob). indexes: name -> column tuple, for ordered lookups by prefix and range.
    version: the record layout's version; ``migrations[v]`` upgrades a record from v to v+1.
    """

    name: str
    key: tuple[str, ...]
    columns: dict[str, str]
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    version: int = 1
    migrations: dict[int, Callable[[dict], dict]] = field(default_factory=dict)

    @property
    def rowid(self) -> bool:
        """A single integer key is SQLite's rowid (and ``Table.append`` can choose it)."""
        return len(self.key) == 1 and self.columns[self.key[0]] == "int"

    def __post_init__(self) -> None:
        for column in self.key + tuple(c for cols in self.indexes.values() for c in cols):
            if column not in self.columns:
                raise ValueError(f"{self.name}: {column} is used as key/index but not declared")
        for kind in self.columns.values():
            if kind not in _COLUMN_TYPES:
                raise ValueError(f"{self.name}: unknown column type {kind}")


class Table:
    """Records of one TableSpec. Obtain with ``Store.table(spec)``."""

    def __init__(self, store: "Store", spec: TableSpec) -> None:
        self._store = store
        self.spec = spec
        self._columns = tuple(spec.columns)
        self._key_where = " AND ".join(f'"{c}"=?' for c in spec.key)
        names = ", ".join(f'"{c}"' for c in self._columns + (_DOC,))
        marks = ", ".join("?" for _ in range(len(self._columns) + 1))
        self._select = f'SELECT {names} FROM "{spec.name}"'
        self._get_sql = f"{self._select} WHERE {self._key_where}"
        self._replace_sql = f'INSERT OR REPLACE INTO "{spec.name}" ({names}) VALUES ({marks})'
        self._insert_sql = f'INSERT OR IGNORE INTO "{spec.name}" ({names}) VALUES ({marks})'
        self._append_sql = f'INSERT INTO "{spec.name}" ({names}) VALUES ({marks})'
        self._delete_sql = f'DELETE FROM "{spec.name}" WHERE {self._key_where}'
        self._range_sql: dict[tuple, str] = {}
        self._update_sql: dict[tuple, str] = {}

    # -- records <-> rows -------------------------------------------------------------------

    def _row(self, record: dict) -> tuple:
        return tuple(record.get(c) for c in self._columns) + (self._doc(record),)

    def _doc(self, record: dict) -> bytes | None:
        """The encoded fields that are not columns."""
        doc = {k: v for k, v in record.items() if k not in self.spec.columns}
        return cbor2.dumps(doc) if doc else None

    def _record(self, row: tuple) -> dict:
        record = dict(zip(self._columns, row))
        doc = row[-1]
        if doc is not None:
            record.update(cbor2.loads(doc))
        return record

    def _key_of(self, record: dict) -> tuple:
        return tuple(record[c] for c in self.spec.key)

    # -- single records ---------------------------------------------------------------------

    def get(self, key: tuple) -> dict | None:
        row = self._store._execute(self._get_sql, key).fetchone()
        return None if row is None else self._record(row)

    def put(self, record: dict) -> None:
        """Insert or replace the record with this key."""
        self._store._write(self._replace_sql, self._row(record))

    def insert(self, record: dict) -> bool:
        """Insert; False (and no change) if a record with this key exists."""
        return self._store._write(self._insert_sql, self._row(record)).rowcount == 1

    def replace(self, old: dict, new: dict) -> None:
        """Write ``new`` over ``old`` (as read, same key), setting only the columns whose
        values differ: SQLite then leaves the index entries of the others alone, where ``put``
        rewrites every index."""
        changed = tuple(c for c in self._columns if old.get(c) != new.get(c))
        self._store._write(self._update(changed + (_DOC,)), tuple(new.get(c) for c in changed)
                           + (self._doc(new),) + self._key_of(old))

    def set_columns(self, key: tuple, values: dict) -> bool:
        """Set these columns of the record with this key, in one statement (the record is not
        read, its other columns and document stay); False if there is none."""
        return self._store._write(self._update(tuple(values)),
                                  tuple(values.values()) + key).rowcount > 0

    def _update(self, columns: tuple[str, ...]) -> str:
        sql = self._update_sql.get(columns)
        if sql is None:
            sets = ", ".join(f'"{c}"=?' for c in columns)
            sql = self._update_sql[columns] = \
                f'UPDATE "{self.spec.name}" SET {sets} WHERE {self._key_where}'
        return sql

    def append(self, record: dict) -> int:
        """Insert under a new key, one above the largest (tables with a single integer key);
        returns the key."""
        if not self.spec.rowid:
            raise ValueError(f"{self.spec.name}: append needs a single integer key")
        # a NULL rowid is SQLite's to choose
        row = self._row({**record, self.spec.key[0]: None})
        return self._store._write(self._append_sql, row).lastrowid

    def update(self, key: tuple, changes: dict) -> dict | None:
        """Merge ``changes`` into the record; returns the new record, None if there is none."""
        with self._store.transaction():
            record = self.get(key)
            if record is None:
                return None
            record.update(changes)
            self.put(record)
            return record

    def delete(self, key: tuple) -> bool:
        return self._store._write(self._delete_sql, key).rowcount > 0

    # -- ordered ranges ---------------------------------------------------------------------

    def _range(self, verb: str, index: str | None, eq: tuple, lo: Any, hi: Any,
               reverse: bool, limited: bool) -> str:
        shape = (verb, index, len(eq), lo is not None, hi is not None, reverse, limited)
        sql = self._range_sql.get(shape)
        if sql is None:
            columns = self.spec.key if index is None else self.spec.indexes[index]
            if len(eq) >= len(columns) and (lo is not None or hi is not None):
                raise ValueError("range bound needs a column after the equality prefix")
            where = [f'"{c}"=?' for c in columns[: len(eq)]]
            if lo is not None:
                where.append(f'"{columns[len(eq)]}">=?')
            if hi is not None:
                where.append(f'"{columns[len(eq)]}"<?')
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            if verb == "select":
                direction = " DESC" if reverse else ""
                # an index's entries end with the key columns it lacks, so this order is the
                # index's own and SQLite sorts nothing (a column named twice makes it sort)
                tail = tuple(c for c in self.spec.key if c not in columns)
                order = ", ".join(f'"{c}"{direction}' for c in columns + tail)
                sql = f"{self._select}{clause} ORDER BY {order}" + (" LIMIT ?" if limited else "")
            elif verb == "count":
                sql = f'SELECT COUNT(*) FROM "{self.spec.name}"{clause}'
            else:
                sql = f'DELETE FROM "{self.spec.name}"{clause}'
            self._range_sql[shape] = sql
        return sql

    @staticmethod
    def _args(eq: tuple, lo: Any, hi: Any) -> list:
        args = list(eq)
        if lo is not None:
            args.append(lo)
        if hi is not None:
            args.append(hi)
        return args

    def find(self, index: str | None = None, eq: tuple = (), lo: Any = None, hi: Any = None,
             limit: int | None = None, reverse: bool = False) -> list[dict]:
        """Records whose index columns start with ``eq`` and whose next column is in [lo, hi),
        in index order (then key order)."""
        sql = self._range("select", index, eq, lo, hi, reverse, limit is not None)
        args = self._args(eq, lo, hi)
        if limit is not None:
            args.append(limit)
        return [self._record(row) for row in self._store._execute(sql, args)]

    def find_values(self, columns: tuple[str, ...], index: str | None = None, eq: tuple = (),
                    lo: Any = None, hi: Any = None, limit: int | None = None,
                    reverse: bool = False) -> list[tuple]:
        """As ``find``, but only these declared columns' values, a tuple per record: no record
        is built (reads of thousands of rows, such as a DynamoDB Scan page)."""
        shape = ("values", columns, index, len(eq), lo is not None, hi is not None, reverse,
                 limit is not None)
        sql = self._range_sql.get(shape)
        if sql is None:
            unknown = [c for c in columns if c not in self.spec.columns]
            if unknown:
                raise ValueError(f"{self.spec.name}: no column {unknown[0]}")
            names = ", ".join(f'"{c}"' for c in columns)
            sql = self._range("select", index, eq, lo, hi, reverse, limit is not None).replace(
                self._select, f'SELECT {names} FROM "{self.spec.name}"', 1)
            self._range_sql[shape] = sql
        args = self._args(eq, lo, hi)
        if limit is not None:
            args.append(limit)
        return self._store._execute(sql, args).fetchall()

    def count(self, index: str | None = None, eq: tuple = (), lo: Any = None,
              hi: Any = None) -> int:
        sql = self._range("count", index, eq, lo, hi, False, False)
        return self._store._execute(sql, self._args(eq, lo, hi)).fetchone()[0]

    def delete_where(self, index: str | None = None, eq: tuple = (), lo: Any = None,
                     hi: Any = None) -> int:
        sql = self._range("delete", index, eq, lo, hi, False, False)
        return self._store._write(sql, self._args(eq, lo, hi)).rowcount


class Store:
    """All of nubo's state. ``path=None`` keeps it in memory (``--ephemeral``)."""

    SCHEMA = 1  # version of the store's own bookkeeping tables

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly
        # the scope of ``transaction()``.
        # cached_statements: every table's statements stay prepared (the default 128 is fewer
        # than all services' together, and re-preparing costs more than running most of them)
        self._db = sqlite3.connect(":memory:" if self.path is None else str(self.path),
                                   isolation_level=None, check_same_thread=False,
                                   cached_statements=2048)
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=OFF")
        self._db.execute("PRAGMA cache_size=-16000")  # 16 MB page cache
        self._depth = 0
        self._loop: asyncio.AbstractEventLoop | None = None  # set by group_commits
        self._group_open = False
        self._waiters: list[asyncio.Future] = []
        self._lock = threading.RLock()  # guards the connection if a helper thread ever uses it
        self._tables: dict[str, Table] = {}
        # Tables created by writes not committed yet. DDL rolls back with the transaction that
        # ran it (a provider first loaded by a request that then failed), while the Table
        # objects live on in the providers: such tables are created again after a rollback.
        self._created: list[TableSpec] = []
        self._db.execute("CREATE TABLE IF NOT EXISTS _nubo_tables "
                         "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS _nubo_sequences "
                         "(name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS _nubo_meta (key TEXT PRIMARY KEY, value)")
        self._db.execute("INSERT OR IGNORE INTO _nubo_meta VALUES ('schema', ?)", (self.SCHEMA,))

    # -- low level ------------------------------------------------------------------------

    def _execute(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, args)

    def _write(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        if self._depth:
            return self._db.execute(sql, args)
        with self.transaction():
            return self._db.execute(sql, args)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together, or none do. Nested calls join the outer one.

        With ``group_commits`` on, a transaction is a savepoint of the open group: its writes
        roll back alone on error, and become durable when the group commits (``committed``).
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            if self._loop is None:
                begin, undo, end = ("BEGIN IMMEDIATE",), ("ROLLBACK",), ("COMMIT",)
            else:
                self._open_group()
                begin, undo, end = ("SAVEPOINT tx",), ("ROLLBACK TO tx", "RELEASE tx"), \
                    ("RELEASE tx",)
            for sql in begin:
                self._db.execute(sql)
            self._depth = 1
            mark = len(self._created)
            try:
                yield
            except BaseException:
                self._depth = 0
                for sql in undo:
                    self._db.execute(sql)
                self._recreate(mark)
                raise
            self._depth = 0
            for sql in end:
                self._db.execute(sql)
            if self._loop is None:
                self._created.clear()

    def _recreate(self, mark: int) -> None:
        lost, self._created[mark:] = self._created[mark:], []
        for spec in lost:
            self._tables.pop(spec.name, None)
        for spec in lost:
            self.table(spec)

    # -- group commit ---------------------------------------------------------------------
    # A commit costs more than a typical request's writes. On the event loop, every request
    # that writes before the group commits shares its commit; each answers only after it
    # (``committed``), so an acknowledged write is still a durable one. The group commits on
    # the pass after the next, not on the next: the requests read in between join it (with
    # 8-16 busy connections, ~6.5 requests a commit instead of ~4, and 20-30% more small
    # writes a second, for the latency of one more loop pass).

    def group_commits(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit transactions run on ``loop``'s thread together (a group per two loop
        passes, see above)."""
        self._loop = loop

    def _open_group(self) -> None:
        if not self._group_open:
            self._db.execute("BEGIN IMMEDIATE")
            self._group_open = True
            self._loop.call_soon(self._loop.call_soon, self.commit)

    def commit(self) -> None:
        """Commit the open group now and wake everyone waiting on it."""
        if not self._group_open:
            return
        error: BaseException | None = None
        with self._lock:
            try:
                self._db.execute("COMMIT")
                self._created.clear()
            except sqlite3.Error as failure:
                error = failure
                self._db.execute("ROLLBACK")
                self._group_open = False
                self._recreate(0)
            self._group_open = False
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done() and not waiter.get_loop().is_closed():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

    def committed(self) -> Awaitable[None] | None:
        """Something to await until every write made so far is durable; None if all are."""
        if not self._group_open:
            return None
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        return waiter

    # -- tables ---------------------------------------------------------------------------

    def table(self, spec: TableSpec) -> Table:
        """The table for ``spec``, created or migrated to ``spec.version`` on first use."""
        table = self._tables.get(spec.name)
        if table is not None:
            return table
        with self.transaction():
            row = self._db.execute("SELECT version FROM _nubo_tables WHERE name=?",
                                   (spec.name,)).fetchone()
            columns = ", ".join(f'"{c}" {_COLUMN_TYPES[t]}' for c, t in spec.columns.items())
            if spec.rowid:  # the key is the rowid: one B-tree, rows of kilobytes kept in it
                columns = columns.replace(f'"{spec.key[0]}" INTEGER',
                                          f'"{spec.key[0]}" INTEGER PRIMARY KEY', 1)
                self._db.execute(f'CREATE TABLE IF NOT EXISTS "{spec.name}" ({columns}, '
                                 f'"{_DOC}" BLOB)')
            else:
                key = ", ".join(f'"{c}"' for c in spec.key)
                self._db.execute(f'CREATE TABLE IF NOT EXISTS "{spec.name}" ({columns}, '
                                 f'"{_DOC}" BLOB, PRIMARY KEY ({key})) WITHOUT ROWID')
            existing = {r[1] for r in self._db.execute(f'PRAGMA table_info("{spec.name}")')}
            for column, kind in spec.columns.items():
                if column not in existing:
                    self._db.execute(f'ALTER TABLE "{spec.name}" ADD COLUMN "{column}" '
                                     f"{_COLUMN_TYPES[kind]}")
            for name, cols in spec.indexes.items():
                names = ", ".join(f'"{c}"' for c in cols)
                self._db.execute(f'CREATE INDEX IF NOT EXISTS "{spec.name}__{name}" '
                                 f'ON "{spec.name}" ({names})')
            table = Table(self, spec)
            if row is not None and row[0] < spec.version:
                self._migrate(table, row[0])
            elif row is not None and row[0] > spec.version:
                raise RuntimeError(f"table {spec.name} has version {row[0]}, newer than this "
                                   f"nubo ({spec.version}); upgrade nubo")
            self._db.execute("INSERT OR REPLACE INTO _nubo_tables VALUES (?, ?)",
                             (spec.name, spec.version))
        self._tables[spec.name] = table
        if row is None:
            self._created.append(spec)
        return table

    def _migrate(self, table: Table, version: int) -> None:
        # Upgrades run once, at startup, when a newer nubo opens an older data directory.
        records = [table._record(row) for row in self._db.execute(table._select)]
        for v in range(version, table.spec.version):
            step = table.spec.migrations.get(v)
            if step is not None:
                records = [step(r) for r in records]
        self._db.execute(f'DELETE FROM "{table.spec.name}"')
        for record in records:
            table.put(record)

    def sequence(self, name: str) -> int:
        """The next value of a durable counter that only grows."""
        with self.transaction():
            row = self._db.execute(
                "INSERT INTO _nubo_sequences VALUES (?, 1) ON CONFLICT(name) "
                "DO UPDATE SET value=value+1 RETURNING value", (name,)).fetchone()
        return row[0]

    def populated_tables(self) -> set[str]:
        """The tables holding at least one row (one indexed probe per table)."""
        names = [name for (name,) in self._db.execute("SELECT name FROM _nubo_tables")]
        return {name for name in names
                if self._db.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}")').fetchone()[0]}

    def reset(self) -> None:
        """Wipe every service's state (``nubo reset``); table definitions stay."""
        with self.transaction():
            # Every table ever created here, loaded by this process or not.
            for (name,) in self._db.execute("SELECT name FROM _nubo_tables").fetchall():
                self._db.execute(f'DELETE FROM "{name}"')
            self._db.execute("DELETE FROM _nubo_sequences")

    def close(self) -> None:
        self.commit()
        self._db.close()

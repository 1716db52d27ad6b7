"""Provides the lifecycle database: one SQLite file (WAL, 0600 in a 0700 directory), its schema, short transactions."""

# Why SQLite in WAL mode: the resident agent writes every poll while a CLI (`show`, `peer remove`) reads or writes
# now and then; WAL lets readers run during a write, busy_timeout makes a second writer wait for the first instead of
# failing, and BEGIN IMMEDIATE takes the write lock up front so that a read-then-write transaction never dies half
# way with SQLITE_BUSY. Transactions are kept short (one per poll; no network I/O inside one). synchronous=NORMAL:
# in WAL mode a power cut can lose the last commits but never corrupts the file, and a lost poll is recounted from
# the previous persisted reading (readings and the usage they produced are committed together).

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from wgtui import paths, store

DEFAULT_STATE_DIR = paths.STATE_DIR
"""Where the agent keeps its database (StateDirectory=wgtui in the systemd unit). To move into wgtui.paths."""
DB_NAME = "wgtui.db"
BUSY_TIMEOUT = 5.0
"""Seconds a writer waits for another process's transaction before giving up."""
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value
) WITHOUT ROWID;

-- One row per interface: `generation` grows with every write that touches the interface's readings, so that a
-- process caching them (the agent) notices another process's writes; `epoch` identifies the interface instance
-- (boot id, network namespace, ifindex) to catch restarts that happened while nobody was polling; `recorded` is 1
-- once a full poll was recorded (the counters found at the first one are lifetime, not usage of that minute).
CREATE TABLE IF NOT EXISTS interfaces (
    name TEXT PRIMARY KEY,
    generation INTEGER NOT NULL DEFAULT 0,
    epoch TEXT,
    recorded INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- A stable peer: what usage belongs to. `peer_id` is random and short; keys come and go (rotation), it stays.
CREATE TABLE IF NOT EXISTS peers (
    pid INTEGER PRIMARY KEY,
    peer_id TEXT NOT NULL UNIQUE,
    interface TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Every public key ever seen on an interface, and the peer it belongs to.
CREATE TABLE IF NOT EXISTS keys (
    kid INTEGER PRIMARY KEY,
    interface TEXT NOT NULL,
    public_key TEXT NOT NULL,
    pid INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    UNIQUE (interface, public_key)
);
CREATE INDEX IF NOT EXISTS keys_by_pid ON keys (pid);

-- Per key: the latest counter reading, and the bytes it has added up to (lifetime of the key). Narrow on purpose:
-- this is the table every poll rewrites, so many rows share a page. 0/0 after the peer left the interface.
CREATE TABLE IF NOT EXISTS counters (
    kid INTEGER PRIMARY KEY,
    rx_last INTEGER NOT NULL,
    tx_last INTEGER NOT NULL,
    rx_sum INTEGER NOT NULL,
    tx_sum INTEGER NOT NULL
);

-- Usage per peer in buckets starting at t (unix seconds): minutes (the last day), local hours (~90 days), local
-- days (two years). Every byte is in exactly one row: a roll-up moves rows to the coarser table in one transaction.
CREATE TABLE IF NOT EXISTS usage_minute (
    pid INTEGER NOT NULL, t INTEGER NOT NULL, rx INTEGER NOT NULL, tx INTEGER NOT NULL, PRIMARY KEY (pid, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_hour (
    pid INTEGER NOT NULL, t INTEGER NOT NULL, rx INTEGER NOT NULL, tx INTEGER NOT NULL, PRIMARY KEY (pid, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_day (
    pid INTEGER NOT NULL, t INTEGER NOT NULL, rx INTEGER NOT NULL, tx INTEGER NOT NULL, PRIMARY KEY (pid, t)
) WITHOUT ROWID;

-- The event outbox: the exact bytes that are POSTed (and signed), in order.
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    occurred_at REAL NOT NULL,
    body BLOB NOT NULL
);

-- Delivery state per webhook target: events are delivered in order, so a cursor (the last seq done) is enough.
CREATE TABLE IF NOT EXISTS webhook_targets (
    url TEXT PRIMARY KEY,
    cursor INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt REAL,
    delivered INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Events a receiver refused for good (400, 410, 413, 415, 422): skipped, so they cannot block the queue forever.
CREATE TABLE IF NOT EXISTS webhook_rejections (
    url TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (url, seq)
) WITHOUT ROWID;
"""


class DatabaseError(Exception):
    """The lifecycle database cannot be opened or used; the message is a sentence for the user."""


class DatabaseMissing(DatabaseError):
    """There is no database yet (nothing was ever recorded) and the caller asked not to create one."""


def db_path(state_dir: Path) -> Path:
    return state_dir / DB_NAME


def connect(path: Path, *, create: bool = True, timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """A connection to the database at `path` (created 0600, its directory 0700, when missing and `create`), in WAL
    mode with a busy timeout, schema in place. One connection per thread."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        if not create:
            raise DatabaseMissing(f"There is no wgtui database at {path} yet (the agent creates it).") from None
        try:
            store.ensure_private_dir(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except store.StoreError as exc:
            raise DatabaseError(str(exc)) from None
        except OSError as exc:
            raise DatabaseError(f"Cannot create the wgtui database {path}: {exc.strerror or exc}.") from None
        os.close(fd)
    except OSError as exc:
        raise DatabaseError(f"Cannot use the wgtui database {path}: {exc.strerror or exc}.") from None
    else:
        if not os.path.isfile(path) or os.path.islink(path):
            raise DatabaseError(f"{path} is not a regular file; the wgtui database must be one (not a link).")
    try:
        # isolation_level=None: no implicit transactions; every write goes through write() below.
        conn = sqlite3.connect(os.fspath(path), timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseError(f"Cannot open the wgtui database {path}: {exc}.") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise DatabaseError(f"The wgtui database {path} cannot use WAL mode (journal mode {mode}).")
        conn.execute("PRAGMA synchronous = NORMAL")
        _ensure_schema(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseError(f"The wgtui database {path} cannot be used: {exc}.") from None
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise DatabaseError(f"The wgtui database {path} was made by a newer wgtui (schema {version}, this one knows "
                            f"{SCHEMA_VERSION}); upgrade wgtui.")
    with write(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:  # another process may have just done it
            for statement in SCHEMA.split(";\n"):  # not executescript(): it would commit the transaction first
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextlib.contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, the write lock taken at its start (BEGIN IMMEDIATE): commit, or roll back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def get_meta(conn: sqlite3.Connection, name: str) -> object:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return None if row is None else row[0]


def set_meta(conn: sqlite3.Connection, name: str, value: object) -> None:
    conn.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                 (name, value))

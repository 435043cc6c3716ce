"""The results store: SQLite in WAL mode, one row per (configuration key, fingerprint).

The key is RunConfig.key(); the fingerprint is Record.env["fingerprint"], made by fingerprint(env)
(engine.env's, re-exported here) from the hardware and software the record was measured on.

put() upserts and commits at once, so a kill loses at most the configuration in flight. Failed
records are stored too, but has() counts only status "ok" as measured: a rerun retries failures and
its record replaces the failed one. Several processes may write one database at once (WAL, a busy
timeout, short BEGIN IMMEDIATE transactions); open one Store per process (a Store may be shared
between threads, not across fork).

Concurrent sweeps share work through the claims table: a sweep claims a configuration before
measuring it, for a lease it renews while it lives (engine.claims); a claim whose lease ran out, or
whose owner is a process of this host that is gone, may be taken by another sweep.

A database is ours when its PRAGMA application_id is APPLICATION_ID; PRAGMA user_version is the
schema version, also kept in the meta table. An older schema is migrated when opened (_MIGRATIONS);
anything else at the path raises StoreError, and the file is left as it was.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from engine.env import fingerprint as fingerprint  # the hash records carry in env["fingerprint"]
from engine.record import Record, utc_now

if TYPE_CHECKING:
    from engine.claims import Claimant

APPLICATION_ID = 0x54524F46  # "TROF"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 30.0
_CHUNK = 500  # keys per query, under SQLite's limit on bound parameters
_COLUMNS = (
    "key",
    "fingerprint",
    "status",
    "created",
    "family",
    "size",
    "task",
    "input_len",
    "batch_size",
    "device",
    "dtype",
    "weights",
    "record",
)
_UPSERT = f"INSERT OR REPLACE INTO records ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_SCHEMA = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE records (key TEXT NOT NULL, fingerprint TEXT NOT NULL, status TEXT NOT NULL,"
    " created TEXT NOT NULL, family TEXT NOT NULL, size TEXT NOT NULL, task TEXT NOT NULL,"
    " input_len INTEGER NOT NULL, batch_size NOT NULL, device TEXT NOT NULL, dtype TEXT NOT NULL,"
    " weights TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (key, fingerprint))",
    "CREATE INDEX records_fingerprint ON records (fingerprint, status)",
)
_CLAIMS = (
    "CREATE TABLE claims (key TEXT NOT NULL, fingerprint TEXT NOT NULL, owner TEXT NOT NULL,"
    " host TEXT NOT NULL, pid INTEGER NOT NULL, started REAL NOT NULL, expires REAL NOT NULL,"
    " PRIMARY KEY (key, fingerprint))",
    "CREATE INDEX claims_owner ON claims (owner)",
)
_MIGRATIONS = {1: _CLAIMS}  # from schema version N to N + 1
_TABLES = {"meta", "records", "claims"}


class StoreError(Exception):
    """A database that cannot be used (missing, unreadable, foreign, newer). str(): one line naming it."""


def default_db_path() -> Path:
    """The default database: results.sqlite in the user data directory (not created here)."""
    return Path(platformdirs.user_data_dir("tradeoff-tui")) / "results.sqlite"


class Store:
    """Records in one SQLite file. Store(path, create=True) creates it (and its folder) when absent."""

    def __init__(self, path: str | Path, *, create: bool = False):
        self.path = Path(path).expanduser().absolute()
        self._lock = threading.Lock()
        if self.path.is_dir():
            raise StoreError(f"{self.path}: a folder, not a results database")
        if not self.path.exists():
            if not create:
                raise StoreError(f"{self.path}: no results database here")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"{self.path}: cannot create its folder: {e.strerror or e}") from None
        try:
            self._db = sqlite3.connect(
                f"{self.path.as_uri()}?mode={'rwc' if create else 'rw'}",
                uri=True,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot open the database: {e}") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._open(create)
        except sqlite3.OperationalError as e:  # locked, unreadable, read-only
            self._db.close()
            raise StoreError(f"{self.path}: cannot use the database: {e}") from None
        except sqlite3.DatabaseError as e:  # not SQLite at all
            self._db.close()
            raise StoreError(f"{self.path}: not a tradeoff-tui results database ({e})") from None
        except StoreError:
            self._db.close()
            raise

    def _open(self, create: bool) -> None:
        if create and _identity(self._db) == (0, 0, ()):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if _identity(self._db) == (0, 0, ()):  # nobody created it while we waited for the lock
                    self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    for statement in (*_SCHEMA, *_CLAIMS):
                        self._db.execute(statement)
                    self._db.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [("schema_version", str(SCHEMA_VERSION)), ("created", utc_now())],
                    )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("PRAGMA journal_mode = WAL")
        version = _check_identity(self.path, *_identity(self._db))
        if version < SCHEMA_VERSION:
            self._migrate(version)
        app_id, version, tables = _identity(self._db)
        if version != SCHEMA_VERSION or not _TABLES <= set(tables):
            raise StoreError(
                f"{self.path}: damaged results database (schema version {version}, tables: {tables})"
            )

    def _migrate(self, version: int) -> None:
        """Bring an older schema up to SCHEMA_VERSION in one transaction (one process does it)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            current = self._db.execute("PRAGMA user_version").fetchone()[0]
            for v in range(current, SCHEMA_VERSION):
                for statement in _MIGRATIONS[v]:
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute(begin)
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                raise StoreError(f"{self.path}: {e}") from None

    def put(self, record: Record) -> None:
        """Insert or replace the record of (its config key, its env's fingerprint), committed at once."""
        fp = record.env.get("fingerprint")
        if not fp:
            raise ValueError("record.env has no 'fingerprint' (make one with engine.store.fingerprint)")
        c = record.config
        row = (
            c.key(),
            fp,
            record.status,
            record.created or utc_now(),
            c.family,
            c.size,
            c.task,
            c.input_len,
            c.batch_size,
            c.device,
            c.dtype,
            c.weights,
            json.dumps(record.to_dict()),
        )
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.execute(_UPSERT, row)

    def has(self, key: str, fingerprint: str) -> bool:
        """Whether the configuration was measured successfully on this fingerprint."""
        with self._transaction("BEGIN") as db:
            query = "SELECT 1 FROM records WHERE key = ? AND fingerprint = ? AND status = 'ok'"
            return db.execute(query, (key, fingerprint)).fetchone() is not None

    def records(self, *, fingerprint: str | None = None, keys: Iterable[str] | None = None) -> list[Record]:
        """Stored records, optionally of one fingerprint and some config keys, oldest first."""
        where, params = ["1"], []
        if fingerprint is not None:
            where.append("fingerprint = ?")
            params.append(fingerprint)
        rows = []
        with self._transaction("BEGIN") as db:
            for chunk in _chunks(keys):
                clause = " AND ".join(where + ([f"key IN ({', '.join('?' * len(chunk))})"] if chunk else []))
                query = f"SELECT created, key, fingerprint, record FROM records WHERE {clause}"
                rows += db.execute(query, (*params, *chunk)).fetchall()
        return [Record.from_dict(json.loads(r[3])) for r in sorted(rows)]

    def delete(self, keys: Iterable[str], fingerprint: str) -> int:
        """Forget these configurations on this fingerprint (for --fresh); returns how many rows went."""
        deleted = 0
        with self._transaction("BEGIN IMMEDIATE") as db:
            for chunk in _chunks(keys):
                query = (
                    f"DELETE FROM records WHERE fingerprint = ? AND key IN ({', '.join('?' * len(chunk))})"
                )
                deleted += db.execute(query, (fingerprint, *chunk)).rowcount
        return deleted

    def merge(self, rows: Iterable[tuple]) -> tuple[int, int]:
        """Rows of another database (read_rows) into this one, in one transaction: one row per (key,
        fingerprint), the newer (by created, then by content) where both hold one. Returns (added,
        replaced); merging the same rows again changes nothing."""
        added = replaced = 0
        with self._transaction("BEGIN IMMEDIATE") as db:
            for row in rows:
                query = "SELECT created, record FROM records WHERE key = ? AND fingerprint = ?"
                held = db.execute(query, row[:2]).fetchone()
                if held is None or (row[3], row[-1]) > held:
                    db.execute(_UPSERT, row)
                    added, replaced = (added + 1, replaced) if held is None else (added, replaced + 1)
        return added, replaced

    def claim(self, key: str, fingerprint: str, who: Claimant, since: str) -> str:
        """Claim a configuration for `who`: "mine" (claimed, or already ours), "busy" (another live
        sweep holds it) or "done" (stored ok, or stored failed at or after `since`, by another sweep).

        A claim is live while its lease runs and, for an owner on this host, while its process lives.
        """
        with self._transaction("BEGIN IMMEDIATE") as db:
            query = "SELECT status, created FROM records WHERE key = ? AND fingerprint = ?"
            row = db.execute(query, (key, fingerprint)).fetchone()
            if row and (row[0] == "ok" or row[1] >= since):
                return "done"
            query = "SELECT owner, host, pid, started, expires FROM claims WHERE key = ? AND fingerprint = ?"
            held = db.execute(query, (key, fingerprint)).fetchone()
            if held and held[0] != who.owner and who.sees_alive(*held[1:]):
                return "busy"
            db.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, fingerprint, who.owner, who.host, who.pid, who.started, time.time() + who.lease_s),
            )
            return "mine"

    def renew(self, who: Claimant) -> None:
        """Extend the lease of every claim `who` holds."""
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.execute(
                "UPDATE claims SET expires = ? WHERE owner = ?", (time.time() + who.lease_s, who.owner)
            )

    def release(self, who: Claimant, key: str | None = None) -> None:
        """Give up one claim of `who` (its key's, on every fingerprint), or all of them."""
        with self._transaction("BEGIN IMMEDIATE") as db:
            if key is None:
                db.execute("DELETE FROM claims WHERE owner = ?", (who.owner,))
            else:
                db.execute("DELETE FROM claims WHERE owner = ? AND key = ?", (who.owner, key))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _identity(db: sqlite3.Connection) -> tuple[int, int, tuple[str, ...]]:
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return app_id, version, tuple(r[0] for r in rows)


def _check_identity(path: Path, app_id: int, version: int, tables: tuple[str, ...]) -> int:
    """The schema version of a database of ours that this version reads; StoreError for anything else."""
    if app_id != APPLICATION_ID:
        what = f"application_id {app_id}" if app_id else "an empty database"
        what = f"tables: {', '.join(tables)}" if tables else what
        raise StoreError(f"{path}: not a tradeoff-tui results database ({what})")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: schema version {version} is newer than this tradeoff-tui's "
            f"({SCHEMA_VERSION}); upgrade tradeoff-tui"
        )
    if version < 1 or not {"meta", "records"} <= set(tables):
        raise StoreError(f"{path}: damaged results database (schema version {version}, tables: {tables})")
    return version


def read_rows(path: str | Path) -> list[tuple]:
    """Every record row of a database (Store.merge's input), read only: the file is left byte for byte
    as it was. StoreError for a file that is missing, unreadable, foreign, damaged or newer."""
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise StoreError(f"{path}: no results database here")
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as e:
        raise StoreError(f"{path}: cannot open the database: {e}") from None
    try:
        _check_identity(path, *_identity(db))
        return db.execute(f"SELECT {', '.join(_COLUMNS)} FROM records").fetchall()
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: not a tradeoff-tui results database ({e})") from None
    finally:
        db.close()


def _chunks(keys: Iterable[str] | None) -> Iterator[tuple[str, ...]]:
    """Distinct keys in chunks small enough to bind; one empty chunk when keys is None (no filter)."""
    if keys is None:
        yield ()
        return
    unique = tuple(dict.fromkeys(keys))
    for i in range(0, len(unique), _CHUNK):
        yield unique[i : i + _CHUNK]

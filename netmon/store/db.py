"""The connection, its transactions and the schema version: what every part of the store stands on.

SQLite in WAL mode (readers never wait for the writer), ``synchronous=FULL``
(every commit synced before it returns: an answered record survives a power cut), foreign keys on. One writer
thread at a time: the scheduler hands every write to a single worker thread.
Every write is one ``BEGIN IMMEDIATE`` ... ``COMMIT``: a crash mid-write
leaves the previous committed state intact.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from netmon.errors import StoreError, explain
from netmon.store.migrations import MIGRATIONS


class Database:
    """The connection and its transactions; the concern classes of :class:`netmon.store.Store` build on it."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        existed = self.path.exists()
        try:
            self.conn = self._connect(readonly)
        except (OSError, sqlite3.Error) as exc:
            self._forget(existed)
            raise StoreError(f"{self.path}: {explain(exc)}") from None
        except BaseException:
            self._forget(existed)
            raise
        self.db = sqlite_utils.Database(self.conn)
        if not readonly:
            try:
                self.migrate()
            except BaseException as exc:
                self.conn.close()
                self._forget(existed)
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{self.path}: {explain(exc)}") from None
                raise

    def _forget(self, existed: bool) -> None:
        """A database this open created and then could not use (a full disk) is removed: a failed command leaves
        no file behind."""
        if existed:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):  # never created (its folder is a file, say)
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        if readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        else:
            blocked = next((p for p in self.path.parents if p.exists() and not p.is_dir()), None)
            if blocked is not None:
                raise NotADirectoryError(20, f"{blocked} is a file, not a folder")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One writer thread at a time (the scheduler hands writes to a single worker thread).
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            if not readonly:
                self._check_owner(conn)  # before anything writes to the file, its header included
                conn.execute("PRAGMA journal_mode=WAL")
                # FULL: every commit is synced to the disk before COMMIT returns. The listener answers a NAS only
                # after the commit of its record, and a NAS that got an answer never sends the record again: with
                # NORMAL (synced only at checkpoints) a power cut could lose records already answered. Group
                # commits keep the cost to one sync per batch (docs/reliability.md).
                conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        conn.row_factory = sqlite3.Row
        return conn

    def _check_owner(self, conn: sqlite3.Connection) -> None:
        """A database of a newer netmon, or of another program, is refused before it is changed."""
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_migrations" in tables:
            current = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path}: schema version {current} is newer than this netmon's ({len(MIGRATIONS)}): "
                    "use the netmon that wrote it, or a newer one"
                )
        elif {t for t in tables if not t.startswith("sqlite_")}:
            raise StoreError(f"{self.path}: not a netmon database: it holds another program's tables ({len(tables)})")

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every read inside sees the same committed state (WAL keeps it while the writer
        goes on), so a scrape never shows half of a poll."""
        self.conn.execute("BEGIN DEFERRED")
        try:
            yield self.conn
        finally:
            self.conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception rolls everything back."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def schema_version(self) -> int:
        if not self.db["schema_migrations"].exists():
            return 0
        row = self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return row[0] or 0

    def migrate(self) -> list[int]:
        """Apply the migrations the database lacks; refuse, writing nothing, one from a newer netmon."""
        known = len(MIGRATIONS)
        current = self.schema_version()
        if current > known:
            raise StoreError(
                f"{self.path}: schema version {current} is newer than this netmon's ({known}): "
                "use the netmon that wrote it, or a newer one"
            )
        applied = []
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            current = self.schema_version()
            for version, script in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in statements(script):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))
                applied.append(version)
        return applied

    def table_exists(self, name: str) -> bool:
        return table_exists(self.conn, name)


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def marks(values) -> str:
    """``?, ?, ?``: one placeholder per value (or ``values`` placeholders when it is a number)."""
    return ", ".join("?" * values) if isinstance(values, int) else ", ".join("?" for _ in values)


def statements(script: str) -> list[str]:
    """The script's statements. Split at each ``;`` that ends one: a trigger's body has semicolons of its own."""
    out, pending = [], ""
    for piece in script.split(";"):
        pending = f"{pending};{piece}" if pending else piece
        if sqlite3.complete_statement(pending + ";"):
            if pending.strip():
                out.append(pending.strip())
            pending = ""
    if pending.strip():
        out.append(pending.strip())
    return out

"""The session catalogue: an SQLite index of a folder of recordings, kept beside them.

``<folder>/.myoflow-catalogue.sqlite`` (:data:`CATALOGUE_NAME`) holds one row per recording:
its path relative to the folder, size and modification time (the key that says whether the
row is still true), and what an indexer made of it (subject, exercise, start, duration,
streams, metrics as JSON, or the error). It is a cache, never the source of truth: deleting it
loses nothing, the next use rebuilds it.

* :meth:`Catalogue.plan` compares the folder with the rows: files added or changed (size or
  modification time differ) are to be indexed, rows of deleted files are dropped.
* The file is rebuilt from nothing when it is not an SQLite database (corrupt, truncated),
  has another :data:`SCHEMA_VERSION`, or was made by another indexer version (the caller's
  ``version``: a new analysis makes every row stale). :attr:`Catalogue.rebuilt` says why.
* Several processes may use it at once: write-ahead logging lets readers read while one
  writer writes, each write is one transaction, and a writer waits up to ``timeout_s`` for
  another.
* A folder that cannot be written (read-only media) gets an in-memory catalogue, rebuilt by
  each use (:attr:`Catalogue.in_memory`).

What goes into a row is the caller's: this module knows no analysis (storage sits below it);
:mod:`myoflow.reports.catalogue_index` fills it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CATALOGUE_NAME", "SCHEMA_VERSION", "Catalogue", "Entry", "FileKey", "Plan"]

CATALOGUE_NAME = ".myoflow-catalogue.sqlite"
#: Bumped when the tables change; an older file is rebuilt.
SCHEMA_VERSION = 1
_SUFFIXES = ("", "-wal", "-shm")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    subject TEXT,
    exercise TEXT,
    start_utc TEXT,
    duration_s REAL,
    streams TEXT NOT NULL,
    error TEXT,
    metrics TEXT NOT NULL,
    indexed_unix_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_subject ON sessions (subject);
"""


@dataclass(frozen=True)
class FileKey:
    """A recording as found on disk: ``path`` relative to the folder (``/`` separators),
    ``size`` in bytes, ``mtime_ns`` its modification time in ns."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Entry:
    """One row: the file's key and what the indexer made of it.

    ``metrics`` is any JSON-able dict (the indexer's); ``error`` is set (and the rest may be
    empty) when the file could not be indexed, so it is not retried until it changes.
    """

    key: FileKey
    subject: str | None = None
    exercise: str | None = None
    start_utc: str | None = None
    duration_s: float | None = None
    streams: tuple[str, ...] = ()
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """What :meth:`Catalogue.plan` found: files to (re)index, rows to drop, rows still true."""

    to_index: list[FileKey]
    removed: list[str]
    unchanged: int


class Catalogue:
    """The index of one folder (module docstring).

    Parameters
    ----------
    folder
        The folder of recordings.
    version
        The indexer's version: rows made by another version are stale (the file is rebuilt).
    pattern
        Which files are recordings (a glob relative to ``folder``; ``**`` recurses).
    path
        The catalogue file (default ``folder / CATALOGUE_NAME``).
    timeout_s
        How long a writer waits for another process's write.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        version: str,
        *,
        pattern: str = "**/*.h5",
        path: str | os.PathLike[str] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise NotADirectoryError(f"{self.folder}: not a folder of recordings")
        self.version = version
        self.pattern = pattern
        self.path = Path(path) if path is not None else self.folder / CATALOGUE_NAME
        self.timeout_s = timeout_s
        self.in_memory = False
        self.rebuilt: str | None = None
        self._conn = self._open()

    # ------------------------------------------------------------------ opening

    def _open(self) -> sqlite3.Connection:
        try:
            conn = self._connect(self.path)
        except sqlite3.OperationalError as exc:  # the folder cannot be written: a cache in memory
            self.in_memory = True
            self.rebuilt = f"{self.path} cannot be used ({exc}): the catalogue is kept in memory"
            conn = sqlite3.connect(":memory:")
            self._create(conn)
            return conn
        problem = self._problem(conn)
        if problem is None:
            return conn
        conn.close()
        self.rebuilt = problem
        for suffix in _SUFFIXES:
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        conn = self._connect(self.path)
        return conn

    def _connect(self, path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=self.timeout_s)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                self._create(conn)
        except sqlite3.OperationalError:  # cannot write here (read-only folder, locked): the caller decides
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:  # not an SQLite file
            conn.close()
            self.rebuilt = f"{path.name} was not a readable catalogue ({exc})"
            for suffix in _SUFFIXES:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            conn = sqlite3.connect(path, timeout=self.timeout_s)
            conn.execute("PRAGMA journal_mode=WAL")
            self._create(conn)
        return conn

    def _create(self, conn: sqlite3.Connection) -> None:
        with conn:
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (self.version,))
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _problem(self, conn: sqlite3.Connection) -> str | None:
        """Why an existing file must be rebuilt, or None."""
        try:
            schema = conn.execute("PRAGMA user_version").fetchone()[0]
            if schema != SCHEMA_VERSION:
                return f"{self.path.name} has schema {schema}, this myoflow writes {SCHEMA_VERSION}"
            row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if row is None or row[0] != self.version:
                return f"{self.path.name} was made by indexer {row and row[0]!r}, this is {self.version!r}"
            conn.execute("SELECT count(*) FROM sessions").fetchone()
        except sqlite3.DatabaseError as exc:
            return f"{self.path.name} was not a readable catalogue ({exc})"
        return None

    # ------------------------------------------------------------------ use

    def files(self) -> list[FileKey]:
        """The recordings in the folder now (sorted by path)."""
        out = []
        for p in sorted(self.folder.glob(self.pattern)):
            if not p.is_file() or p.name.startswith(CATALOGUE_NAME):
                continue
            try:
                st = p.stat()
            except FileNotFoundError:  # deleted while we looked
                continue
            out.append(FileKey(p.relative_to(self.folder).as_posix(), st.st_size, st.st_mtime_ns))
        return out

    def plan(self) -> Plan:
        """Compare the folder with the rows (module docstring)."""
        known = {
            path: (size, mtime)
            for path, size, mtime in self._conn.execute("SELECT path, size, mtime_ns FROM sessions")
        }
        on_disk = self.files()
        to_index = [f for f in on_disk if known.get(f.path) != (f.size, f.mtime_ns)]
        present = {f.path for f in on_disk}
        removed = sorted(p for p in known if p not in present)
        return Plan(to_index, removed, len(on_disk) - len(to_index))

    def store(self, entries: Iterable[Entry]) -> int:
        """Insert or replace rows, in one transaction; returns how many."""
        now = time.time()
        rows = [
            (
                e.key.path,
                e.key.size,
                e.key.mtime_ns,
                e.subject,
                e.exercise,
                e.start_utc,
                e.duration_s,
                json.dumps(list(e.streams)),
                e.error,
                json.dumps(e.metrics, allow_nan=False),
                now,
            )
            for e in entries
        ]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    def drop(self, paths: Sequence[str]) -> int:
        """Delete the rows of these relative paths, in one transaction."""
        with self._conn:
            self._conn.executemany("DELETE FROM sessions WHERE path = ?", [(p,) for p in paths])
        return len(paths)

    def entries(self, subject: str | None = None) -> list[Entry]:
        """Rows (of one subject, or all), ordered by start time then path."""
        sql = (
            "SELECT path, size, mtime_ns, subject, exercise, start_utc, duration_s, streams, error, metrics "
            "FROM sessions"
        )
        args: tuple[Any, ...] = ()
        if subject is not None:
            sql, args = sql + " WHERE subject = ?", (subject,)
        sql += " ORDER BY start_utc, path"
        return [
            Entry(
                FileKey(path, size, mtime),
                subj,
                ex,
                start,
                dur,
                tuple(json.loads(streams)),
                err,
                json.loads(metrics),
            )
            for path, size, mtime, subj, ex, start, dur, streams, err, metrics in self._conn.execute(
                sql, args
            )
        ]

    def subjects(self) -> list[str]:
        """The subjects with at least one row, sorted."""
        rows = self._conn.execute("SELECT DISTINCT subject FROM sessions WHERE subject IS NOT NULL")
        return sorted(r[0] for r in rows)

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Errors that mean the input cannot be used (exit 2, one line): raised where found, printed by the CLI."""

from __future__ import annotations

import sqlite3


class StoreError(Exception):
    """The database cannot be used as it is (a newer schema than this netmon knows, not a database, not writable)."""


def explain(exc: OSError | sqlite3.Error) -> str:
    """What an operator can do about a database that cannot be opened or written, in a few words."""
    if isinstance(exc, OSError):
        return f"cannot create its folder: {exc.strerror or type(exc).__name__}"
    text = str(exc)
    if "file is not a database" in text:
        return "not an SQLite database (a corrupt or foreign file: restore it, or move it away)"
    if "unable to open database file" in text:
        return "cannot open: its folder is missing or not writable, or the path is not a file"
    if "readonly database" in text:
        return "read-only: netmon needs to write it (check the file's and its folder's permissions)"
    if "database is locked" in text or "database is busy" in text:
        return "busy: another process (a running `netmon run`?) held it for more than 5 s; try again"
    if "disk is full" in text:
        return f"cannot write: {text} (free some space on its disk)"
    if "disk I/O error" in text:
        return f"cannot write: {text} (the disk or its filesystem failed: check the system log)"
    return f"SQLite: {text}"

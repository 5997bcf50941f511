"""Errors that mean the input cannot be used (exit 2, one line): raised where found, printed by the CLI."""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used as it is (a newer schema than this netmon knows, not a database, not writable)."""

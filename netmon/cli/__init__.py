"""The ``netmon`` command line: one entry point, ``--help`` everywhere. It parses and prints; the work is elsewhere.

One module per command group, each with ``add(subparsers)``. Exit codes: 0
success, 1 a runtime failure (device, store), 2 bad input (usage, inventory,
configuration, secrets).
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys

from inventory import InventoryError
from netmon import __version__
from netmon import config as config_mod
from netmon import secrets as secrets_mod
from netmon.cli import db, demo, ingest, inventory, poll, radius, report, run, usage
from netmon.cli.common import EXIT_BAD_INPUT, UserError
from netmon.errors import StoreError, explain

log = logging.getLogger("netmon")
GROUPS = (run, poll, inventory, db, usage, report, ingest, radius, demo)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # pysnmp logs every timed-out request at WARNING; our poller reports them once per device.
    logging.getLogger("pysnmp").setLevel(logging.ERROR)
    # paramiko logs a traceback for every SSH banner timeout; the cli collector reports it once, briefly.
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return args.func(args) or 0
    except (UserError, InventoryError, config_mod.ConfigError, secrets_mod.SecretsError, StoreError) as exc:
        # An inventory error is one line per bad line, each `netmon: FILE:LINE: why`, like every other refusal.
        lines = exc.problems if isinstance(exc, InventoryError) else [str(exc)]
        print("\n".join(line if line.startswith("netmon: ") else f"netmon: {line}" for line in lines), file=sys.stderr)
        return EXIT_BAD_INPUT
    except sqlite3.Error as exc:  # the database failed a command mid-way (locked, full, gone): one line, not a trace
        db = config_mod.load(args.config, db=args.db, secrets=args.secrets).db
        print(f"netmon: {db}: {explain(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="netmon", description="Network and Wi-Fi operations monitor.")
    p.add_argument("--version", action="version", version=f"netmon {__version__}")
    p.add_argument("-c", "--config", help="configuration file (default: $NETMON_CONFIG)")
    p.add_argument("--db", help="SQLite database (default: netmon.db, or $NETMON_DB)")
    p.add_argument("--secrets", help="secrets file, mode 0600 (default: $NETMON_SECRETS)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")
    for group in GROUPS:
        group.add(sub)
    return p

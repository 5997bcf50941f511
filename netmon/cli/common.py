"""What every command shares: configuration, secrets, store and inventory loading, periods, tables, bad input.

Commands import what they run when they run: ``netmon --help`` and the quick
commands load no SNMP engine, scheduler, exporter or chart library.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import inventory
from netmon import config as config_mod
from netmon import secrets as secrets_mod
from netmon import usage

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Bad input: printed as is, exit code 2."""


def add_period(parser: argparse.ArgumentParser, spelling: str) -> None:
    """--from and --to, the first and last local day of a period (both included)."""
    parser.add_argument("--from", dest="first", required=True, metavar="DATE", help=f"first day, {spelling}")
    parser.add_argument("--to", dest="last", required=True, metavar="DATE", help=f"last day, {spelling}")


def load_config(args, **overrides) -> config_mod.Config:
    return config_mod.load(args.config, db=args.db, secrets=args.secrets, **overrides)


def load_secrets(cfg: config_mod.Config) -> secrets_mod.Secrets:
    return secrets_mod.load(cfg.secrets)


def open_store(cfg: config_mod.Config, create: bool = False):
    """The store; a command that only reads (or needs what an import put there) does not create a database."""
    from netmon.store import Store

    if not create and not cfg.db.exists():
        raise UserError(f"{cfg.db}: no such database (`netmon inventory import FILE` creates it)")
    return Store(cfg.db)


def config_and_store(args, create: bool = False):
    cfg = load_config(args)
    return cfg, open_store(cfg, create)


def load_inventory(cfg: config_mod.Config, path: str | Path) -> inventory.Inventory:
    """Load and validate, credential profile names included: without a secrets file every profile is unknown."""
    s = load_secrets(cfg)
    try:
        return inventory.load(path, snmp_profiles=set(s.snmp), ssh_profiles=set(s.ssh))
    except inventory.InventoryError as exc:
        if cfg.secrets is None and any("credential profile" in p for p in exc.problems):
            exc.problems.append(
                "netmon: no secrets file configured (--secrets, $NETMON_SECRETS or 'secrets:' in the "
                "configuration), so every credential profile is unknown"
            )
            exc.args = ("\n".join(exc.problems),)
        raise


def parse_day(text: str, tz=None):
    if text == "today":
        return usage.local_day(time.time(), tz or usage.local_zone())
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"not a date: {text!r} (YYYY-MM-DD)") from None


def period(args, tz):
    first, last = parse_day(args.first, tz), parse_day(args.last, tz)
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    if (last - first).days > 3660:
        raise UserError("a period of at most ten years")
    return first, last


def num(value) -> str:
    return "" if value is None else f"{value:g}"


def format_table(headers: list[str], rows: list[list]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))

    def line(values):
        return "  ".join(v.ljust(widths[i]) for i, v in enumerate(values)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    if not rows:
        out.append("(none)")
    return "\n".join(out)

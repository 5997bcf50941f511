"""``netmon db``: schema, events, retention."""

from __future__ import annotations

import time

from netmon.cli.common import (
    EXIT_BAD_INPUT,
    UserError,
    config_and_store,
    format_table,
)


def add(sub) -> None:
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(title="db commands", metavar="ACTION")
    m = db_sub.add_parser("migrate", help="apply pending schema migrations")
    m.set_defaults(func=cmd_db_migrate)
    ev = db_sub.add_parser("events", help="print the most recent events")
    ev.add_argument("-n", type=int, default=30)
    ev.set_defaults(func=cmd_db_events)
    ret = db_sub.add_parser(
        "retention",
        help="prune raw Wi-Fi sessions and samples older than N days (aggregated first; open sessions kept)",
    )
    ret.add_argument("--days", type=int, help="days of raw data to keep (default: retention_days, 90)")
    ret.add_argument("--dry-run", action="store_true", help="only say what would be aggregated and deleted")
    ret.set_defaults(func=cmd_db_retention)
    db.set_defaults(func=lambda a: db.print_help() or EXIT_BAD_INPUT)


def cmd_db_migrate(args) -> int:
    cfg, store = config_and_store(args, create=True)
    print(f"{cfg.db}: schema version {store.schema_version()}")
    return 0


def cmd_db_events(args) -> int:
    _cfg, store = config_and_store(args)
    rows = [
        [
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["ts"])),
            e["hostname"],
            e["kind"],
            e["ifname"] or "",
            e["old"] or "",
            e["new"] or "",
            e["message"],
        ]
        for e in store.events(args.n)
    ]
    print(format_table(["time", "device", "event", "interface", "from", "to", "detail"], rows))
    return 0


def cmd_db_retention(args) -> int:

    cfg, store = config_and_store(args)
    keep = cfg.retention_days if args.days is None else args.days
    if keep < 1:
        raise UserError("--days must be at least 1")
    done = store.apply_retention(keep, cfg.zone(), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    if done.aggregated_first:
        print(f"{'would aggregate' if args.dry_run else 'aggregated'} {len(done.aggregated_first)} days first")
    counts = ", ".join(f"{n} {table}" for table, n in done.deleted.items())
    print(f"{verb} {counts} from before {done.cutoff_day} (open sessions kept; daily aggregates kept)")
    return 0

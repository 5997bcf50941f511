"""``netmon usage``: daily Wi-Fi usage aggregates."""

from __future__ import annotations

from netmon.cli.common import (
    EXIT_BAD_INPUT,
    add_period,
    config_and_store,
    period,
)


def add(sub) -> None:
    use = sub.add_parser("usage", help="daily Wi-Fi usage aggregates")
    use_sub = use.add_subparsers(title="usage commands", metavar="ACTION")
    rb = use_sub.add_parser("rebuild", help="aggregate sessions into daily usage for local days FROM..TO (idempotent)")
    add_period(rb, "YYYY-MM-DD or 'today'")
    rb.set_defaults(func=cmd_usage_rebuild)
    use.set_defaults(func=lambda a: use.print_help() or EXIT_BAD_INPUT)


def cmd_usage_rebuild(args) -> int:

    cfg, store = config_and_store(args)
    tz = cfg.zone()
    first, last = period(args, tz)
    done = store.rebuild_usage(first, last, tz)
    print(f"aggregated {len(done.days)} days ({tz.key}) from {done.source_sessions} sessions in {done.seconds:.1f} s")
    if done.skipped_pruned:
        print(
            f"kept {len(done.skipped_pruned)} days as they are: their raw sessions were pruned "
            f"({done.skipped_pruned[0]} .. {done.skipped_pruned[-1]})"
        )
    return 0

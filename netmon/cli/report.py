"""``netmon report``: reports for planners."""

from __future__ import annotations

import sys
from pathlib import Path

from netmon.cli.common import (
    EXIT_BAD_INPUT,
    UserError,
    add_period,
    config_and_store,
    period,
)


def add(sub) -> None:
    rep = sub.add_parser("report", help="reports for planners")
    rep_sub = rep.add_subparsers(title="reports", metavar="REPORT")
    wifi = rep_sub.add_parser("wifi", help="Wi-Fi usage report for a period: HTML, CSV tables (zip) or PDF")
    add_period(wifi, "YYYY-MM-DD")
    wifi.add_argument("--site", action="append", default=[], help="only this site (repeat for several)")
    wifi.add_argument("--format", choices=("html", "csv", "pdf"), default="html")
    wifi.add_argument("--out", required=True, help="file to write (csv: a .zip of one table per section)")
    wifi.add_argument(
        "--capacity-threshold", type=int, help="peak clients per AP that make a hot spot (default: configuration)"
    )
    wifi.set_defaults(func=cmd_report_wifi)
    rep.set_defaults(func=lambda a: rep.print_help() or EXIT_BAD_INPUT)


def cmd_report_wifi(args) -> int:
    from netmon.reports import build

    cfg, store = config_and_store(args)
    tz = cfg.zone()
    first, last = period(args, tz)
    threshold = cfg.capacity_peak_clients if args.capacity_threshold is None else args.capacity_threshold
    if threshold < 1:
        raise UserError("--capacity-threshold must be at least 1")
    try:
        path = build.write(store, first, last, tz, args.format, Path(args.out), sites=args.site, threshold=threshold)
    except build.NoData as exc:
        print(f"netmon: {exc}", file=sys.stderr)
        return 1
    except build.UnknownSite as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {path}")
    return 0

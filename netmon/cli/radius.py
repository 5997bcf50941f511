"""``netmon radius``: accounting status per NAS, and the latest sessions."""

from __future__ import annotations

import time

from netmon.cli.common import (
    EXIT_BAD_INPUT,
    config_and_store,
    format_table,
)


def add(sub) -> None:
    rad = sub.add_parser("radius", help="RADIUS accounting: NAS status and sessions")
    rad_sub = rad.add_subparsers(title="radius commands", metavar="ACTION")
    rs = rad_sub.add_parser("status", help="per NAS: last packet and packets by result; open sessions by realm")
    rs.set_defaults(func=cmd_radius_status)
    rl = rad_sub.add_parser("sessions", help="the latest accounting sessions (pseudonyms shortened)")
    rl.add_argument("--open", action="store_true", help="only sessions without a Stop")
    rl.add_argument("-n", type=int, default=30, help="how many (default 30)")
    rl.set_defaults(func=cmd_radius_sessions)
    rad.set_defaults(func=lambda a: rad.print_help() or EXIT_BAD_INPUT)


def cmd_radius_status(args) -> int:
    _cfg, store = config_and_store(args)
    now = time.time()
    last = store.radius_last_packets()
    print(format_table(
        ["nas", "last packet", "seconds ago"],
        [[nas, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)), f"{now - ts:.0f}"]
         for nas, ts in sorted(last.items())],
    ))  # fmt: skip
    print()
    print(format_table(["type", "result", "packets"], [[r["type"], r["result"], r["count"]]
                                                        for r in store.radius_packet_counts()]))  # fmt: skip
    print()
    realms: dict[str, int] = {}
    for r in store.radius_active():
        key = (r["realm"] or "-") if r["eduroam"] else f"({r['ssid'] or 'no SSID'})"
        realms[key] = realms.get(key, 0) + r["sessions"]
    rows = sorted(realms.items(), key=lambda kv: (-kv[1], kv[0]))
    print(format_table(["open sessions: realm (eduroam) or (SSID)", "sessions"], [list(r) for r in rows]))
    return 0


def cmd_radius_sessions(args) -> int:
    _cfg, store = config_and_store(args)
    rows = store.radius_sessions(open_only=args.open)[-args.n :] if args.n > 0 else []
    now = time.time()
    table = []
    for r in rows:
        end = r["stop"] if r["stop"] is not None else now
        table.append([
            r["nas"], r["site"] or "-", r["ssid"] or "-", r["realm"] or "-", (r["client"] or "-")[:8],
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["start"])), f"{(end - r['start']) / 60:.1f}",
            r["input_octets"], r["output_octets"], r["terminate_cause"] or ("open" if r["stop"] is None else "-"),
        ])  # fmt: skip
    print(format_table(
        ["nas", "site", "ssid", "realm", "client", "start", "minutes", "in octets", "out octets", "end"], table
    ))  # fmt: skip
    return 0

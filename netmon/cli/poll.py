"""``netmon poll``: poll devices once, through the same poller as ``netmon run``, and print what they said."""

from __future__ import annotations

import asyncio

from netmon.cli.common import (
    UserError,
    format_table,
    load_config,
    load_secrets,
    open_store,
)


def add(sub) -> None:
    poll = sub.add_parser("poll", help="poll devices once and print what they said")
    target = poll.add_mutually_exclusive_group(required=True)
    target.add_argument("hostname", nargs="?", help="device to poll (prints its interfaces)")
    target.add_argument("--all", action="store_true", help="poll every device in the store")
    poll.add_argument("--no-store", action="store_true", help="do not record the result in the database")
    poll.set_defaults(func=cmd_poll)


def cmd_poll(args) -> int:
    from netmon.app import check_site_rules
    from netmon.poller import Poller
    from netmon.scheduler import poll_all

    cfg = load_config(args)
    secrets = load_secrets(cfg)
    store = open_store(cfg)
    devices = store.devices() if args.all else store.devices(args.hostname)
    if not devices:
        raise UserError(f"no device {args.hostname!r} in {cfg.db}" if args.hostname else f"no devices in {cfg.db}")
    if not args.no_store:
        check_site_rules(cfg, store)  # as `netmon run` does: a controller's APs are placed by them

    async def go():
        poller = Poller(cfg, secrets)
        try:
            if args.no_store:
                return await asyncio.gather(*(poller.poll(d) for d in devices))
            return await poll_all(poller, store, devices)
        finally:
            poller.close()

    results = asyncio.run(go())
    rows = []
    for r in results:
        ifs = r.interfaces or []
        rows.append(
            [
                r.device.hostname,
                r.device.site,
                "up" if r.up else "DOWN",
                r.system.name if r.system else "",
                _uptime(r.system.uptime_ticks) if r.system and r.system.uptime_ticks is not None else "",
                f"{sum(1 for i in ifs if i.oper_up)}/{len(ifs)}" if r.interfaces is not None else "",
                f"{r.duration:.2f}",
                r.varbinds,
                "; ".join(f"{e.collector}: {e.reason}" for e in r.errors),
            ]
        )
    print(
        format_table(["device", "site", "status", "sysName", "uptime", "ifs up", "seconds", "varbinds", "errors"], rows)
    )
    if not args.all and results[0].interfaces:
        print()
        print(
            format_table(
                [
                    "ifindex",
                    "name",
                    "alias",
                    "admin",
                    "oper",
                    "speed",
                    "bits",
                    "in octets",
                    "out octets",
                    "in err",
                    "out err",
                ],
                [
                    [
                        i.ifindex,
                        i.name,
                        i.alias,
                        "up" if i.admin_up else "down",
                        "up" if i.oper_up else "down",
                        _speed(i.speed_bps),
                        i.counter_bits,
                        i.in_octets,
                        i.out_octets,
                        i.in_errors,
                        i.out_errors,
                    ]
                    for i in results[0].interfaces
                ],
            )
        )
    return 0 if all(r.up for r in results) else 1


def _uptime(ticks: int) -> str:
    s = ticks // 100
    return f"{s // 86400}d {s % 86400 // 3600:02d}:{s % 3600 // 60:02d}"


def _speed(bps: int | None) -> str:
    if bps is None:
        return ""
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if bps >= size:
            return f"{bps / size:g}{unit}"
    return str(bps)

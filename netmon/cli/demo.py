"""``netmon demo``: build the simulated city on loopback and run netmon against it.

The one part of the product that imports the lab (:mod:`netmon.lab`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import inventory
from netmon import config as config_mod
from netmon.cli.common import (
    UserError,
    load_secrets,
)


def add(sub) -> None:
    demo = sub.add_parser("demo", help="build the simulated city lab on loopback and run netmon against it")
    demo.add_argument("--dir", default=".netmon-lab", help="lab folder (default .netmon-lab)")
    demo.add_argument("--sites", type=int, default=6, help="number of sites, one switch each (default 6)")
    demo.add_argument("--ports", type=int, default=24, help="access ports per switch (default 24)")
    demo.add_argument(
        "--aps-per-site", type=int, default=40, metavar="N",
        help="access points per site on wlc-city, and on wlc-9800 at every other site (default 40; the city's "
        "1,752 APs over 290 sites: 4)",
    )  # fmt: skip
    demo.add_argument(
        "--people", type=int, default=6000, metavar="N", help="Wi-Fi users a day over the city (default 6000)"
    )
    demo.add_argument("--interval", type=int, default=15, help="poll interval in seconds (default 15)")
    demo.add_argument("--listen", default="127.0.0.1:9310", help="address:port for /metrics")
    demo.add_argument("--duration", type=float, help="stop after this many seconds")
    demo.add_argument(
        "--prometheus",
        default="127.0.0.1:9090",
        metavar="ADDRESS:PORT|off",
        help="also run Prometheus (when installed) there, scraping netmon with its rules (default 127.0.0.1:9090)",
    )
    demo.add_argument(
        "--history", type=int, default=0, metavar="DAYS",
        help="first synthesise DAYS of past Wi-Fi sessions for the lab city (365: a year) and aggregate them",
    )  # fmt: skip
    demo.add_argument("--no-run", action="store_true", help="build the lab (and its history), then exit")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from netmon import app, prometheus_server
    from netmon import lab as lab_mod
    from netmon.lab.city import RADIUS_SOURCES
    from netmon.lab.serve import LabProcess

    root = Path(args.dir)
    for flag, value, low, high in (
        ("--sites", args.sites, 1, 2000),
        ("--ports", args.ports, 1, 512),
        ("--aps-per-site", args.aps_per_site, 1, 200),
        ("--people", args.people, 1, 1_000_000),
        ("--interval", args.interval, 1, 86400),
    ):
        if not low <= value <= high:
            raise UserError(f"{flag} must be {low} to {high}")
    t0 = time.perf_counter()
    lab = lab_mod.build(
        root, sites=args.sites, ports=args.ports, interval=args.interval, listen=args.listen,
        wlc_aps_per_site=args.aps_per_site, wlc_people=args.people,
    )  # fmt: skip
    aps = sum(len(m.aps()) for m in lab.wlc_models())
    print(
        f"lab: {len(lab.devices)} simulated devices and {aps} access points at {len(lab.sites)} sites in {lab.root}",
        file=sys.stderr,
    )
    if args.history:
        _demo_history(lab, args.history)
    if args.no_run:
        return 0
    # The simulators in a process of their own: what netmon run costs is netmon's alone.
    peers = LabProcess(lab).start()
    prometheus = None
    try:
        print(f"lab: simulators serving (pid {peers.proc.pid}) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        print(f"lab: snmpsim agent on udp://127.0.0.1:{lab.agent_port} (one community per device)", file=sys.stderr)
        for model in lab.wlc_models():
            port = lab.wlc_port_of(model.hostname)
            where = f"udp://127.0.0.1:{port}" if port else f"ssh://127.0.0.1:{lab.wlc_annex_port} (CLI only, no SNMP)"
            print(
                f"lab: Wi-Fi controller {model.hostname} ({model.kind}) on {where}: "
                f"{len(model.aps())} APs, residents coming and going",
                file=sys.stderr,
            )
        streams = [(m.hostname, RADIUS_SOURCES[m.hostname]) for m in lab.wlc_models() if m.hostname in lab.nas_secrets]
        if lab.radius_port and streams:
            senders = " and ".join(f"{name} (from {source})" for name, source in streams)
            print(
                f"lab: {senders} send RADIUS accounting for their eduroam visitors to "
                f"udp://127.0.0.1:{lab.radius_port}, and F-Ticks (syslog) to udp://127.0.0.1:{lab.fticks_port}",
                file=sys.stderr,
            )
        ssh_host = next(d.hostname for d in lab.devices if d.ssh)
        print(f"lab: {ssh_host} also answers SSH on 127.0.0.1:{lab.ssh_port} (Cisco IOS CLI)", file=sys.stderr)
        cfg = config_mod.load(lab.config_path, environ={})
        prometheus, note = prometheus_server.beside_netmon(
            args.prometheus, cfg.listen, lab.root / "prometheus", cfg.interval
        )
        print(note, file=sys.stderr)
        return app.run(cfg, duration=args.duration, banner=f"try: netmon --config {lab.config_path} poll --all\n")
    finally:
        if prometheus is not None:
            prometheus.stop()
        peers.stop()


def _demo_history(lab, days: int) -> None:
    from netmon.lab import history
    from netmon.store import Store

    if not 1 <= days <= 3660:
        raise UserError("--history must be 1 to 3660 days")
    cfg = config_mod.load(lab.config_path, environ={})
    secrets = load_secrets(cfg)
    store = Store(cfg.db)
    try:
        store.import_inventory(
            inventory.load(cfg.inventory, snmp_profiles=set(secrets.snmp), ssh_profiles=set(secrets.ssh))
        )
        tz = cfg.zone()
        t0 = time.perf_counter()
        made = history.synthesise(store, lab, days, tz, secrets.privacy)
        print(
            f"lab: {made.sessions} Wi-Fi sessions over {days} days ({made.first} .. {made.last}) "
            f"in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        done = store.rebuild_usage(made.first, made.last, tz)
        print(f"lab: aggregated {len(done.days)} days in {done.seconds:.1f} s; try:", file=sys.stderr)
        print(
            f"  netmon --config {lab.config_path} report wifi --from {made.first} --to {made.last} "
            "--format html --out wifi-report.html",
            file=sys.stderr,
        )
    finally:
        store.close()

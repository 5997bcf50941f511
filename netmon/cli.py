"""The ``netmon`` command line: one entry point, ``--help`` everywhere.

Exit codes: 0 success, 1 a runtime failure (device, store), 2 bad input
(usage, inventory, configuration, secrets).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

import inventory
from netmon import __version__
from netmon import config as config_mod
from netmon import secrets as secrets_mod
from netmon.tables import format_table

log = logging.getLogger("netmon")
EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Bad input: printed as is, exit code 2."""


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
    except (UserError, inventory.InventoryError, config_mod.ConfigError, secrets_mod.SecretsError) as exc:
        print(f"netmon: {exc}" if not isinstance(exc, inventory.InventoryError) else str(exc), file=sys.stderr)
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

    run = sub.add_parser("run", help="poll every device on schedule and serve /metrics")
    run.add_argument("--listen", help="address:port for /metrics (default 127.0.0.1:9310)")
    run.add_argument("--duration", type=float, help="stop after this many seconds (default: run until signalled)")
    run.set_defaults(func=cmd_run)

    poll = sub.add_parser("poll", help="poll devices once and print what they said")
    target = poll.add_mutually_exclusive_group(required=True)
    target.add_argument("hostname", nargs="?", help="device to poll (prints its interfaces)")
    target.add_argument("--all", action="store_true", help="poll every device in the store")
    poll.add_argument("--no-store", action="store_true", help="do not record the result in the database")
    poll.set_defaults(func=cmd_poll)

    inv = sub.add_parser("inventory", help="validate, import and list the site inventory")
    inv_sub = inv.add_subparsers(title="inventory commands", metavar="ACTION")
    v = inv_sub.add_parser("validate", help="check an inventory file; print FILE:LINE: problem for each bad line")
    v.add_argument("file")
    v.set_defaults(func=cmd_inventory_validate)
    i = inv_sub.add_parser("import", help="validate and load an inventory file into the database (all or nothing)")
    i.add_argument("file")
    i.add_argument(
        "--prune",
        action="store_true",
        help="also remove devices and sites the file does not declare, with their state and history",
    )
    i.set_defaults(func=cmd_inventory_import)
    lst = inv_sub.add_parser("list", help="print sites and devices")
    lst.set_defaults(func=cmd_inventory_list)
    hw = inv_sub.add_parser("hardware", help="print the hardware netmon found: chassis, modules, transceivers")
    hw.add_argument("site", nargs="?", help="only this site")
    hw.set_defaults(func=cmd_inventory_hardware)
    disc = inv_sub.add_parser("discover", help="walk LLDP/CDP neighbours from seed devices; propose missing devices")
    disc.add_argument("seeds", nargs="+", metavar="SEED", help="hostnames of inventory devices to start from")
    disc.add_argument("--depth", type=int, default=2, help="hops to follow from the seeds (default 2, at most 6)")
    disc.add_argument("--apply", action="store_true", help="add the proposed devices to the database")
    disc.set_defaults(func=cmd_inventory_discover)
    aps = inv_sub.add_parser("aps", help="print the access points the controllers report, with their sites")
    aps.add_argument("--unassigned", action="store_true", help="only APs no site rule matched")
    aps.set_defaults(func=cmd_inventory_aps)
    aps_map = inv_sub.add_parser(
        "ap-sites", help="load the explicit AP-to-site mapping (CSV: ap,site; AP name or MAC); all or nothing"
    )
    aps_map.add_argument("file")
    aps_map.add_argument("--check", action="store_true", help="only validate against the database's sites")
    aps_map.set_defaults(func=cmd_inventory_ap_sites)
    opt = inv_sub.add_parser("optics", help="print transceiver readings and how close each is to its thresholds")
    opt.set_defaults(func=cmd_inventory_optics)
    inv.set_defaults(func=lambda a: inv.print_help() or EXIT_BAD_INPUT)

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

    use = sub.add_parser("usage", help="daily Wi-Fi usage aggregates")
    use_sub = use.add_subparsers(title="usage commands", metavar="ACTION")
    rb = use_sub.add_parser("rebuild", help="aggregate sessions into daily usage for local days FROM..TO (idempotent)")
    add_period(rb, "YYYY-MM-DD or 'today'")
    rb.set_defaults(func=cmd_usage_rebuild)
    use.set_defaults(func=lambda a: use.print_help() or EXIT_BAD_INPUT)

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

    ingest = sub.add_parser("ingest", help="read logs and captures into the database")
    ingest_sub = ingest.add_subparsers(title="ingest commands", metavar="KIND")
    ft = ingest_sub.add_parser(
        "fticks", help="F-Ticks lines (eduroam authentications per realm) from a log file, or - for stdin"
    )
    ft.add_argument("file", help="log file (syslog lines are fine: other lines are skipped), or - for stdin")
    ft.set_defaults(func=cmd_ingest_fticks)
    pc = ingest_sub.add_parser(
        "pcap", help="RADIUS Accounting-Requests from a packet capture (pcap/pcapng), checked like the listener's"
    )
    pc.add_argument("file", help="capture file (tcpdump -w, Wireshark)")
    pc.add_argument("--port", type=int, default=1813, help="accounting UDP port in the capture (default 1813)")
    pc.add_argument(
        "--no-verify",
        action="store_true",
        help="accept requests whose authenticator does not match the NAS secret (anonymised captures)",
    )
    pc.set_defaults(func=cmd_ingest_pcap)
    sn = ingest_sub.add_parser(
        "sniff", help="capture Accounting-Requests live from an interface (a mirror port; needs root or CAP_NET_RAW)"
    )
    sn.add_argument("--interface", "-i", required=True, help="interface to capture on")
    sn.add_argument("--port", type=int, default=1813, help="accounting UDP port (default 1813)")
    sn.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    sn.set_defaults(func=cmd_ingest_sniff)
    ingest.set_defaults(func=lambda a: ingest.print_help() or EXIT_BAD_INPUT)

    rad = sub.add_parser("radius", help="RADIUS accounting: NAS status and sessions")
    rad_sub = rad.add_subparsers(title="radius commands", metavar="ACTION")
    rs = rad_sub.add_parser("status", help="per NAS: last packet and packets by result; open sessions by realm")
    rs.set_defaults(func=cmd_radius_status)
    rl = rad_sub.add_parser("sessions", help="the latest accounting sessions (pseudonyms shortened)")
    rl.add_argument("--open", action="store_true", help="only sessions without a Stop")
    rl.add_argument("-n", type=int, default=30, help="how many (default 30)")
    rl.set_defaults(func=cmd_radius_sessions)
    rad.set_defaults(func=lambda a: rad.print_help() or EXIT_BAD_INPUT)

    demo = sub.add_parser("demo", help="build the simulated city lab on loopback and run netmon against it")
    demo.add_argument("--dir", default=".netmon-lab", help="lab folder (default .netmon-lab)")
    demo.add_argument("--sites", type=int, default=6, help="number of sites, one switch each (default 6)")
    demo.add_argument("--ports", type=int, default=24, help="access ports per switch (default 24)")
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
    return p


# -- helpers ------------------------------------------------------------------


def add_period(parser: argparse.ArgumentParser, spelling: str) -> None:
    """--from and --to, the first and last local day of a period (both included)."""
    parser.add_argument("--from", dest="first", required=True, metavar="DATE", help=f"first day, {spelling}")
    parser.add_argument("--to", dest="last", required=True, metavar="DATE", help=f"last day, {spelling}")


def load_config(args, **overrides) -> config_mod.Config:
    return config_mod.load(args.config, db=args.db, secrets=args.secrets, **overrides)


def load_secrets(cfg: config_mod.Config) -> secrets_mod.Secrets:
    return secrets_mod.load(cfg.secrets)


def open_store(cfg: config_mod.Config):
    from netmon.store import Store

    return Store(cfg.db)


def config_and_store(args):
    cfg = load_config(args)
    return cfg, open_store(cfg)


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


# -- commands -----------------------------------------------------------------


def cmd_inventory_validate(args) -> int:
    cfg = load_config(args)
    inv = load_inventory(cfg, args.file)
    print(f"{args.file}: OK: {len(inv.sites)} sites, {len(inv.devices)} devices")
    return 0


def cmd_inventory_import(args) -> int:
    cfg = load_config(args)
    inv = load_inventory(cfg, args.file)
    store = open_store(cfg)
    counts = store.import_inventory(inv, prune=args.prune)
    print(f"imported {counts['sites']} sites and {counts['devices']} devices into {cfg.db}")
    if args.prune:
        print(f"removed {counts['removed_sites']} sites and {counts['removed_devices']} devices not in {args.file}")
    elif counts["kept_undeclared_devices"]:
        print(
            f"kept {counts['kept_undeclared_devices']} devices that {args.file} does not declare "
            "(--prune removes them and their history)"
        )
    return 0


def cmd_inventory_list(args) -> int:
    cfg, store = config_and_store(args)
    sites = store.sites()
    print(
        format_table(
            ["site", "kind", "address", "lat", "lon", "devices"],
            [[s["name"], s["kind"], s["address"], _num(s["lat"]), _num(s["lon"]), s["devices"]] for s in sites],
        )
    )
    print()
    devices = store.devices()
    print(
        format_table(
            ["device", "site", "role", "address", "port", "snmp", "ssh", "interval"],
            [
                [
                    d.hostname,
                    d.site,
                    d.role,
                    d.address,
                    d.port,
                    d.snmp_profile or "-",
                    d.ssh_profile or "-",
                    d.interval or cfg.interval,
                ]
                for d in devices
            ],
        )
    )
    return 0


def cmd_inventory_hardware(args) -> int:
    cfg, store = config_and_store(args)
    if args.site and args.site not in {s["name"] for s in store.sites()}:
        raise UserError(f"no site {args.site!r} in {cfg.db}")
    rows = [
        [h["site"], h["hostname"], h["class"], h["name"], h["model"], h["serial"], h["firmware"] or h["software"]]
        for h in store.hardware(args.site)
    ]
    print(format_table(["site", "device", "class", "name", "model", "serial", "firmware"], rows))
    return 0


def cmd_inventory_discover(args) -> int:
    from netmon import discover

    if not 1 <= args.depth <= 6:
        raise UserError("--depth must be 1 to 6")
    cfg = load_config(args)
    secrets = load_secrets(cfg)
    store = open_store(cfg)
    known = store.devices()
    names = {d.hostname.lower() for d in known}
    missing = [s for s in args.seeds if s.lower() not in names]
    if missing:
        raise UserError(f"not in the inventory: {', '.join(missing)}")
    found = discover.run(cfg, secrets, known, args.seeds, args.depth)
    print(file=sys.stderr)
    print(format_table(
        ["proposed device", "address", "site (seen from)", "snmp profile"],
        [[d.hostname, d.address, d.site, d.snmp_profile or "-"] for d in found.proposals],
    ))  # fmt: skip
    for name, reason in found.unreachable.items():
        print(f"netmon: {name}: not reachable over SNMP ({reason})", file=sys.stderr)
    if found.proposals and not args.apply:
        print("\n# for the inventory file (check site and role), or run again with --apply:")
        for d in found.proposals:
            print(f"  - {{hostname: {d.hostname}, address: {d.address}, site: {d.site}, role: {d.role}, "
                  f"snmp: {d.snmp_profile}}}")  # fmt: skip
    if args.apply and found.proposals:
        added = store.add_devices(found.proposals)
        print(f"added {added} devices to {cfg.db}")
    return 0


def cmd_inventory_aps(args) -> int:
    _cfg, store = config_and_store(args)
    rows = [
        [a["controller"], a["name"], a["mac"], a["model"], a["location"], a["status"], a["site"] or "-"]
        for a in store.access_points()
        if not args.unassigned or a["site"] is None
    ]
    print(format_table(["controller", "ap", "mac", "model", "location", "status", "site"], rows))
    return 0


def cmd_inventory_ap_sites(args) -> int:
    from inventory import ap_sites

    cfg, store = config_and_store(args)
    mapping = ap_sites.load(args.file, store.site_ids())
    if args.check:
        print(f"{args.file}: OK: {len(mapping)} access points mapped")
        return 0
    counts = store.import_ap_sites(mapping)
    print(f"imported {counts['mappings']} AP-to-site mappings into {cfg.db}; {counts['aps_placed']} known APs placed")
    return 0


def cmd_inventory_optics(args) -> int:
    _cfg, store = config_and_store(args)
    rows = []
    for o in store.optic_states():
        low = o["low_warning"]
        margin = "" if low is None else f"{o['value'] - low:+.2f}"
        rows.append(
            [
                o["hostname"],
                o["ifname"],
                o["lane"],
                o["kind"],
                f"{o['value']:g}",
                _num(low),
                _num(o["low_alarm"]),
                margin,
            ]
        )
    print(format_table(["device", "port", "lane", "sensor", "value", "low warn", "low alarm", "to warn"], rows))
    return 0


def _num(value) -> str:
    return "" if value is None else f"{value:g}"


def cmd_db_migrate(args) -> int:
    cfg, store = config_and_store(args)
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


def parse_day(text: str, tz=None):
    from datetime import date

    from netmon import usage

    if text == "today":
        return usage.local_day(time.time(), tz or usage.local_zone())
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"not a date: {text!r} (YYYY-MM-DD)") from None


def _period(args, tz):
    first, last = parse_day(args.first, tz), parse_day(args.last, tz)
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    if (last - first).days > 3660:
        raise UserError("a period of at most ten years")
    return first, last


def cmd_usage_rebuild(args) -> int:

    cfg, store = config_and_store(args)
    tz = cfg.zone()
    first, last = _period(args, tz)
    done = store.rebuild_usage(first, last, tz)
    print(f"aggregated {len(done.days)} days ({tz.key}) from {done.source_sessions} sessions in {done.seconds:.1f} s")
    if done.skipped_pruned:
        print(
            f"kept {len(done.skipped_pruned)} days as they are: their raw sessions were pruned "
            f"({done.skipped_pruned[0]} .. {done.skipped_pruned[-1]})"
        )
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


def cmd_report_wifi(args) -> int:
    from netmon.reports import build

    cfg, store = config_and_store(args)
    tz = cfg.zone()
    first, last = _period(args, tz)
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


FTICKS_CHUNK = 20_000  # events per transaction: a month of logs must not sit in memory at once


def cmd_ingest_fticks(args) -> int:
    from collectors.radius import fticks

    cfg, store = config_and_store(args)
    privacy = load_secrets(cfg).privacy
    if privacy is None:
        raise UserError(
            "F-Ticks station ids are stored only as pseudonyms: add 'privacy: {key: ...}' to the secrets file"
        )
    name = "<stdin>" if args.file == "-" else args.file
    try:
        stream = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError as exc:
        raise UserError(f"{args.file}: cannot read: {exc.strerror}") from None
    totals: dict[str, int] = {}
    malformed = other = 0
    offset = 0
    try:
        while True:
            chunk = [line for _, line in zip(range(FTICKS_CHUNK), stream, strict=False)]
            if not chunk:
                break
            parsed = fticks.parse_lines(chunk)
            for number, why in parsed.malformed:
                print(f"{name}:{offset + number}: not a valid F-Ticks line: {why}", file=sys.stderr)
            store.record_fticks(parsed.events, privacy, malformed=len(parsed.malformed))
            for e in parsed.events:
                totals[e.result] = totals.get(e.result, 0) + e.repeat
            malformed += len(parsed.malformed)
            other += parsed.other
            offset += len(chunk)
    finally:
        if stream is not sys.stdin:
            stream.close()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "none"
    print(f"{name}: {sum(totals.values())} F-Ticks events ({counts}) stored in {cfg.db}; "
          f"{malformed} malformed lines; {other} other lines skipped")  # fmt: skip
    return EXIT_BAD_INPUT if malformed else 0


def _accounting_setup(args):
    """Configuration, store, secrets and session settings for the accounting ingest commands."""
    from netmon.store.radius import SessionSettings

    cfg, store = config_and_store(args)
    secrets = load_secrets(cfg)
    if secrets.privacy is None:
        raise UserError(
            "accounting sessions are stored only as pseudonyms: add 'privacy: {key: ...}' to the secrets file"
        )
    if not secrets.radius:
        raise UserError("no RADIUS clients in the secrets file: a request is only accepted from a declared NAS")
    interval = cfg.radius.interim_interval if cfg.radius else 600
    return cfg, store, secrets, SessionSettings(frozenset(cfg.eduroam_ssids), interval)


def cmd_ingest_sniff(args) -> int:
    import threading

    from collectors.radius import pcap
    from collectors.radius.listener import NasTable

    _cfg, store, secrets, settings = _accounting_setup(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    timer = threading.Timer(args.duration, stop.set) if args.duration else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    print(f"netmon: capturing RADIUS accounting on {args.interface}, udp port {args.port}", file=sys.stderr, flush=True)
    try:

        def record(batch):
            return store.record_radius(batch, secrets.privacy, settings)

        totals = pcap.sniff(args.interface, NasTable(secrets.radius.values()), record, stop, args.port)
    except pcap.PcapError as exc:
        raise UserError(str(exc)) from None
    finally:
        if timer is not None:
            timer.cancel()
    print(f"{args.interface}: {pcap.summary(totals)}")
    return 0


def cmd_ingest_pcap(args) -> int:
    from collections import Counter

    from collectors.radius import pcap
    from collectors.radius.listener import NasTable

    _cfg, store, secrets, settings = _accounting_setup(args)
    totals: Counter = Counter()
    try:
        for batch in pcap.read(args.file, NasTable(secrets.radius.values()), args.port, verify=not args.no_verify):
            totals.update(batch.counts)
            totals.update(store.record_radius(batch, secrets.privacy, settings))
    except pcap.PcapError as exc:
        raise UserError(str(exc)) from None
    print(f"{args.file}: {pcap.summary(totals)}")
    return 0


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


def cmd_poll(args) -> int:
    from netmon.poller import Poller
    from netmon.scheduler import poll_all

    cfg = load_config(args)
    secrets = load_secrets(cfg)
    store = open_store(cfg)
    devices = store.devices() if args.all else store.devices(args.hostname)
    if not devices:
        raise UserError(f"no device {args.hostname!r} in {cfg.db}" if args.hostname else f"no devices in {cfg.db}")

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


def cmd_run(args) -> int:
    cfg = load_config(args, listen=args.listen)
    return run(cfg, duration=args.duration)


def run(cfg: config_mod.Config, duration: float | None = None, banner: str = "") -> int:
    from exporters.prometheus import serve
    from netmon.poller import Poller
    from netmon.scheduler import Scheduler, start_accounting

    secrets = load_secrets(cfg)
    store = open_store(cfg)
    if cfg.inventory is not None:
        store.import_inventory(
            inventory.load(cfg.inventory, snmp_profiles=set(secrets.snmp), ssh_profiles=set(secrets.ssh))
        )
    devices = store.devices()
    if not devices and cfg.radius is None:
        raise UserError(f"no devices in {cfg.db}: run `netmon inventory import FILE`, or `netmon demo`")
    host, port = cfg.listen_host_port
    try:
        server, _thread = serve(cfg.db, host, port, cfg)
    except OSError as exc:
        raise UserError(f"cannot listen on {cfg.listen}: {exc.strerror}") from None
    print(
        f"{banner}netmon {__version__}: {len(devices)} devices, every {cfg.interval} s; "
        f"metrics at http://{host}:{port}/metrics",
        file=sys.stderr,
        flush=True,
    )

    async def main_loop():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        poller = Poller(cfg, secrets)
        scheduler = Scheduler(cfg, store, poller, spread=min(cfg.interval, 5.0))
        try:
            listeners = await start_accounting(cfg, secrets, store, scheduler.writer)
        except Exception:
            scheduler.shutdown()
            poller.close()
            raise
        scheduler.start(devices)
        for listener in listeners:
            host, port = listener.address
            print(f"netmon: {type(listener).__name__} on udp {host}:{port}", file=sys.stderr, flush=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=duration)
        except TimeoutError:
            pass
        for listener in listeners:
            listener.close()
        scheduler.shutdown()
        poller.close()

    try:
        asyncio.run(main_loop())
    finally:
        server.shutdown()
        store.close()
    return 0


def cmd_demo(args) -> int:
    from netmon import lab as lab_mod
    from netmon import prometheus_server

    root = Path(args.dir)
    lab = lab_mod.build(root, sites=args.sites, ports=args.ports, interval=args.interval, listen=args.listen)
    print(f"lab: {len(lab.devices)} simulated devices at {len(lab.sites)} sites in {lab.root}", file=sys.stderr)
    if args.history:
        _demo_history(lab, args.history)
    if args.no_run:
        return 0
    sim = lab_mod.Simulator(lab.data_dir, lab.agent_port, lab.root).start()
    ssh = lab_mod.SshDevice(lab)
    controller = lab_mod.WlcDevice(lab)
    prometheus = None
    nas = lab_mod.RadiusNas(lab)
    try:
        print(f"lab: snmpsim agent on udp://127.0.0.1:{lab.agent_port} (one community per device)", file=sys.stderr)
        ssh.start()
        controller.start()
        for model in lab.wlc_models():
            port = lab.wlc_port_of(model.hostname)
            where = f"udp://127.0.0.1:{port}" if port else f"ssh://127.0.0.1:{lab.wlc_annex_port} (CLI only, no SNMP)"
            print(
                f"lab: Wi-Fi controller {model.hostname} ({model.kind}) on {where}: "
                f"{len(model.aps())} APs, residents coming and going",
                file=sys.stderr,
            )
        nas.start()
        if nas.streams:
            senders = " and ".join(f"{s.model.hostname} (from {s.source})" for s in nas.streams)
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
        return run(cfg, duration=args.duration, banner=f"try: netmon --config {lab.config_path} poll --all\n")
    finally:
        if prometheus is not None:
            prometheus.stop()
        nas.stop()
        controller.stop()
        ssh.stop()
        sim.stop()


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

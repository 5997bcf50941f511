"""``netmon ingest``: F-Ticks logs and RADIUS captures into the store, checked like the listeners' input."""

from __future__ import annotations

import signal
import sys

from netmon.cli.common import (
    EXIT_BAD_INPUT,
    UserError,
    load_config,
    load_secrets,
    open_store,
)


def add(sub) -> None:
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


FTICKS_CHUNK = 20_000  # events per transaction: a month of logs must not sit in memory at once


def cmd_ingest_fticks(args) -> int:
    from collectors.radius import fticks

    cfg = load_config(args)
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
    store = open_store(cfg, create=True)  # only once everything it needs is there
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

    cfg = load_config(args)
    secrets = load_secrets(cfg)
    if secrets.privacy is None:
        raise UserError(
            "accounting sessions are stored only as pseudonyms: add 'privacy: {key: ...}' to the secrets file"
        )
    if not secrets.radius:
        raise UserError("no RADIUS clients in the secrets file: a request is only accepted from a declared NAS")
    store = open_store(cfg, create=True)
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

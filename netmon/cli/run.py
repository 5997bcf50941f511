"""``netmon run``: poll every device on schedule and serve /metrics (the wiring is :mod:`netmon.app`)."""

from __future__ import annotations

from netmon.cli.common import load_config


def add(sub) -> None:
    run = sub.add_parser("run", help="poll every device on schedule and serve /metrics")
    run.add_argument("--listen", help="address:port for /metrics (default 127.0.0.1:9310)")
    run.add_argument("--duration", type=float, help="stop after this many seconds (default: run until signalled)")
    run.add_argument(
        "--shard", metavar="K/N", help="poll only shard K of N: the devices whose md5(hostname) mod N is K (hashmod)"
    )
    run.add_argument("--web-config", help="TLS and basic auth for /metrics: an exporter-toolkit web configuration file")
    run.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    from netmon import app

    cfg = load_config(args, listen=args.listen, web_config=args.web_config, shard=args.shard)
    return app.run(cfg, duration=args.duration)

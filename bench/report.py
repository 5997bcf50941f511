#!/usr/bin/env python3
"""Benchmark: a year of the lab city's Wi-Fi sessions aggregated and reported.

Synthesises DAYS of sessions (netmon.lab.history, ~6,000 users a day) into a
fresh store, or reuses --db, then times separately:

- synthesis (bulk inserts),
- the reference floors on the same table: the ``sqlite3`` command-line
  shell scanning it (``SELECT count(*), sum(...)``) and Python reading every
  row through the sqlite3 module (what any Python aggregation must pay),
- aggregation: ``Store.rebuild_usage`` of every day (sessions/s),
- rendering: reading the report's data from the aggregates, then HTML, CSV
  (zip) and PDF, each on its own.

There is no other tool that computes these aggregates, so no ratio against
one is meaningful: the floors say how far aggregation is from just reading
the data. Only files in a temporary directory (or --db) are touched; nothing
goes on the network.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netmon import lab as lab_mod  # noqa: E402
from netmon import secrets as secrets_mod  # noqa: E402
from netmon import usage  # noqa: E402
from netmon.lab import history  # noqa: E402
from netmon.reports import build, data  # noqa: E402
from netmon.store import Store  # noqa: E402
from netmon.store import usage as store_usage  # noqa: E402


def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=365, help="days of history to synthesise (default 365)")
    p.add_argument("--users-per-day", type=int, default=history.USERS_PER_DAY)
    p.add_argument("--db", help="reuse this database (synthesised into it when it has no sessions yet)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="netmon-bench-report-"))
    try:
        lab = lab_mod.build(tmp / "lab", sites=6, ports=8, seed=1)
        db = Path(args.db) if args.db else lab.db_path
        store = Store(db)
        tz = usage.local_zone()
        figures: dict = {"days": args.days, "timezone": tz.key}
        existing = store.conn.execute("SELECT count(*), min(start), max(start) FROM wifi_sessions").fetchone()
        if existing[0]:
            first, last = usage.local_day(existing[1], tz), usage.local_day(existing[2], tz)
            figures["synthesis_s"] = None
            print(f"reusing {db}: {existing[0]:,} sessions, {first} .. {last}", file=sys.stderr)
        else:
            import inventory

            secrets = secrets_mod.load(lab.secrets_path)
            store.import_inventory(
                inventory.load(lab.inventory_path, snmp_profiles=set(secrets.snmp), ssh_profiles=set(secrets.ssh))
            )
            print(f"synthesising {args.days} days into {db} ...", file=sys.stderr)
            made, figures["synthesis_s"] = _timed(
                history.synthesise, store, lab, args.days, tz, secrets.privacy, users_per_day=args.users_per_day
            )
            first, last = made.first, made.last
        sessions = store.conn.execute("SELECT count(*) FROM wifi_sessions").fetchone()[0]
        figures["sessions"] = sessions
        figures["first"], figures["last"] = first.isoformat(), last.isoformat()

        # Reference floors: reading the same table, nothing computed.
        sqlite3_cli = shutil.which("sqlite3")
        if sqlite3_cli:
            _, figures["sqlite3_cli_scan_s"] = _timed(
                subprocess.run,
                [sqlite3_cli, str(db), "SELECT count(*), sum(bytes_rx + bytes_tx), max(end) FROM wifi_sessions"],
                check=True, capture_output=True,
            )  # fmt: skip
        else:
            figures["sqlite3_cli_scan_s"] = None
            print("sqlite3 (Debian sqlite3) not found: no command-line reference", file=sys.stderr)
        _, figures["python_read_all_s"] = _timed(
            lambda: store.conn.execute(
                "SELECT client, ssid, ap_mac, site_id, start, coalesce(end, last_seen), bytes_rx + bytes_tx, eduroam, "
                "realm, user FROM wifi_sessions"
            ).fetchall()
        )

        with store.transaction() as c:  # aggregate from scratch
            for table in (*store_usage.TABLES, "usage_days"):
                c.execute(f"DELETE FROM {table}")
        print(f"aggregating {first} .. {last} ...", file=sys.stderr)
        result, figures["aggregation_s"] = _timed(store.rebuild_usage, first, last, tz)
        figures["aggregated_days"] = len(result.days)
        figures["sessions_per_s"] = sessions / figures["aggregation_s"]

        rep, figures["report_data_s"] = _timed(build.report, store, first, last, tz, [], 30)
        for fmt in build.FORMATS:
            content, figures[f"render_{fmt}_s"] = _timed(build.render, rep, fmt)
            figures[f"{fmt}_bytes"] = len(content)
            (tmp / f"report.{fmt}").write_bytes(content)
        figures["unique_clients"] = int(rep.tables["totals"].rows[0][1])
        figures["years_of_wifi"] = round(rep.tables["totals"].rows[3][1], 1)
        figures["report_days"] = (last - first + timedelta(days=1)).days
        store.close()
        if args.json:
            print(json.dumps(figures, indent=2))
        else:
            _print(figures)
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        return 0
    except data.NoData as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _print(f: dict) -> None:
    def s(key):
        return "-" if f.get(key) is None else f"{f[key]:.2f} s"

    print(f"{f['sessions']:,} sessions, {f['first']} .. {f['last']} ({f['timezone']})")
    print(f"  synthesis                  {s('synthesis_s')}")
    print(f"  sqlite3 CLI scan (floor)   {s('sqlite3_cli_scan_s')}")
    print(f"  Python reads every row     {s('python_read_all_s')}")
    print(
        f"  aggregation ({f['aggregated_days']} days)    {s('aggregation_s')}   {f['sessions_per_s']:,.0f} sessions/s"
    )
    if f.get("sqlite3_cli_scan_s"):
        print(f"    ratio to the sqlite3 CLI scan: {f['aggregation_s'] / f['sqlite3_cli_scan_s']:.0f}x; "
              f"to Python reading every row: {f['aggregation_s'] / f['python_read_all_s']:.1f}x")  # fmt: skip
    print(f"  report data from aggregates {s('report_data_s')}")
    for fmt in build.FORMATS:
        print(f"  render {fmt:<4}                {s(f'render_{fmt}_s')}   {f[f'{fmt}_bytes'] / 1e3:,.0f} kB")
    print(f"  unique clients {f['unique_clients']:,}, years of Wi-Fi {f['years_of_wifi']}")


if __name__ == "__main__":
    sys.exit(main())

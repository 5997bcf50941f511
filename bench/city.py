"""Run the whole city for K poll cycles and measure netmon's process alone, beside snmp_exporter.

The lab at the city's size (default 290 sites x 48-port switches, 4 APs per
site on wlc-city and on wlc-9800 at every other site: 1,752 APs, 6,000
people a day), its simulators in a process of their own
(``python -m netmon.lab serve``), ``netmon run`` as a child process. For K
cycles of the poll interval it prints, for netmon's process only:

- CPU per cycle and as a fraction of one core, RSS (now and peak);
- one scrape of /metrics per cycle, plain and gzip: wall time, netmon's CPU
  for it, bytes, series;
- DB growth as MB/day (the logical size: pages in use, WAL included), and
  which tables grow;
- deadline misses and collector errors over the cycles.

Beside it, in the same run and the same cycles, Debian's
``prometheus-snmp-exporter`` walks the same switches' interface columns once
per cycle (``/snmp?target=...``, 16 at a time): its CPU per cycle and its
scrape times, the reference the ratios are printed against.

    .venv/bin/python bench/city.py                          # the city, 5 cycles of 60 s (~7 min)
    .venv/bin/python bench/city.py --cycles 3 --interval 30 # quicker, same city
    .venv/bin/python bench/city.py --sites 20 --cycles 2 --interval 10 --json

Only 127.0.0.1 is used; every process is stopped on exit (also on SIGTERM).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import poll as poll_bench  # noqa: E402  (bench/poll.py: snmp_exporter's config and client)

from netmon import lab as lab_mod  # noqa: E402
from netmon import process  # noqa: E402
from netmon.lab.serve import LabProcess  # noqa: E402

GOALS = {"scrape_wall_s": 0.5, "scrape_cpu_s": 0.3, "rss_mb": 300.0, "db_mb_per_day": 50.0, "cpu_ratio": 1.0}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def db_bytes(db: Path) -> tuple[int, dict[str, int]]:
    """Bytes in use (pages minus free pages, the WAL's newer pages included) and bytes per table with its
    indexes, read through a connection of our own."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        used = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        owner = {name: tbl for name, tbl in conn.execute("SELECT name, tbl_name FROM sqlite_schema")}
        tables: dict[str, int] = {}
        try:
            for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
                table = owner.get(name, name)
                tables[table] = tables.get(table, 0) + size
        except sqlite3.OperationalError:
            pass  # no dbstat in this SQLite: the total alone
        return used * page, tables
    finally:
        conn.close()


def polled_devices(db: Path) -> int:
    if not db.exists():
        return 0  # netmon run is still starting
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT COUNT(*) FROM device_state WHERE up IS NOT NULL").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)", re.M)


def parse(text: str) -> dict[str, float]:
    """Sums per metric name (labels dropped) of an exposition: enough for error counts and series counts."""
    out: dict[str, float] = {}
    for name, _labels, value in SAMPLE.findall(text):
        try:
            out[name] = out.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return out


def error_counts(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("netmon_collector_errors_total{"):
            reason = re.search(r'reason="([^"]*)"', line).group(1)
            out[reason] = out.get(reason, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


class Netmon:
    def __init__(self, lab, work: Path):
        self.lab, self.work = lab, work
        self.log_path = work / "netmon-run.log"
        exe = ROOT / ".venv" / "bin" / "netmon"
        self.cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "netmon.cli"]
        self.proc: subprocess.Popen | None = None
        self.url = None

    def start(self) -> Netmon:
        with open(self.log_path, "w") as out:
            self.proc = subprocess.Popen(
                [*self.cmd, "--config", str(self.lab.config_path), "run"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT,
            )  # fmt: skip
        import yaml

        listen = yaml.safe_load(self.lab.config_path.read_text())["listen"]
        self.url = f"http://{listen}/metrics"
        return self

    def cpu(self) -> float:
        return process.process_cpu_seconds(self.proc.pid)

    def scrape(self, gzipped: bool = False) -> dict:
        headers = {"Accept-Encoding": "gzip"} if gzipped else {}
        cpu0, t0 = self.cpu(), time.perf_counter()
        request = urllib.request.Request(self.url, headers=headers)  # noqa: S310 - http://127.0.0.1:port
        with urllib.request.urlopen(request, timeout=60) as r:  # noqa: S310
            body = r.read()
            encoding = r.headers.get("Content-Encoding", "")
        wall, cpu = time.perf_counter() - t0, self.cpu() - cpu0
        text = (gzip.decompress(body) if encoding == "gzip" else body).decode()
        series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        return {"wall_s": wall, "cpu_s": cpu, "bytes": len(body), "series": series, "gzip": encoding == "gzip",
                "text": text}  # fmt: skip

    def stop(self) -> None:
        process.stop_process_group(self.proc)


def run(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="netmon-city-"))
    peers = netmon = exporter = None
    old_term = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        t0 = time.perf_counter()
        lab = lab_mod.build(
            work, sites=args.sites, ports=args.ports, interval=args.interval, listen=None,
            wlc_aps_per_site=args.aps_per_site, wlc_people=args.people,
        )  # fmt: skip
        aps = sum(len(m.aps()) for m in lab.wlc_models())
        peers = LabProcess(lab).start()
        startup = time.perf_counter() - t0
        log(f"lab: {len(lab.devices)} devices, {aps} APs at {len(lab.sites)} sites, serving in {startup:.1f} s")
        switches = [d.hostname for d in lab.devices if d.role == "switch" and not d.v3]
        exporter = poll_bench.ExporterPoller(lab.agent_port, work, switches, args).start()
        netmon = Netmon(lab, work).start()
        # The first cycle fills the store (every device's first poll, optics and hardware): not measured.
        deadline = time.monotonic() + args.interval * 2 + 60
        while polled_devices(lab.db_path) < len(lab.devices) - 1 and time.monotonic() < deadline:
            if netmon.proc.poll() is not None:
                raise RuntimeError(f"netmon run exited: {netmon.log_path.read_text()[-2000:]}")
            time.sleep(1)
        time.sleep(args.interval)  # one whole cycle more: the slower schedules' first runs are behind us
        log(f"netmon: first cycle done, measuring {args.cycles} cycles of {args.interval} s")
        first = netmon.scrape()
        errors0 = error_counts(first["text"])
        size0, tables0 = db_bytes(lab.db_path)
        cpu0, lab_cpu0, wall0 = netmon.cpu(), peers.cpu_seconds(), time.monotonic()
        scrapes, exporter_runs = [], []
        for cycle in range(1, args.cycles + 1):
            start = time.monotonic()
            box: dict = {}
            walker = threading.Thread(target=lambda box=box: box.update(exporter.run(switches)))
            walker.start()
            time.sleep(args.interval / 2)
            plain, zipped = netmon.scrape(), netmon.scrape(gzipped=True)
            scrapes.append((plain, zipped))
            walker.join()
            exporter_runs.append(box)
            log(
                f"cycle {cycle}: scrape {plain['wall_s']:.3f} s wall, {plain['cpu_s']:.2f} s CPU, "
                f"{plain['bytes'] / 1e6:.1f} MB, {plain['series']} series; gzip {zipped['wall_s']:.3f} s, "
                f"{zipped['bytes'] / 1e6:.2f} MB; snmp_exporter {box.get('wall_s', 0):.1f} s wall, "
                f"{box.get('cpu_s', 0):.2f} s CPU, {len(box.get('errors', []))} errors"
            )
            time.sleep(max(0.0, start + args.interval - time.monotonic()))
        elapsed = time.monotonic() - wall0
        cpu, lab_cpu = netmon.cpu() - cpu0, peers.cpu_seconds() - lab_cpu0
        rss, peak = rss_mb(netmon.proc.pid)
        size1, tables1 = db_bytes(lab.db_path)
        last = netmon.scrape()
        errors1 = error_counts(last["text"])
        new_errors = {k: v - errors0.get(k, 0) for k, v in errors1.items() if v > errors0.get(k, 0)}
        run_log = netmon.log_path.read_text(errors="replace")
        per_day = 86400 / elapsed
        exp_cpu = sum(r["cpu_s"] for r in exporter_runs) / len(exporter_runs)
        per_cycle = cpu / elapsed * args.interval
        result = {
            "config": {
                "sites": len(lab.sites), "ports": args.ports, "devices": len(lab.devices), "aps": aps,
                "people": args.people, "interval_s": args.interval, "cycles": args.cycles,
                "cpus": os.cpu_count(), "lab_startup_s": startup,
            },
            "netmon": {
                "cpu_s_per_cycle": per_cycle,
                "core_fraction": cpu / elapsed,
                "rss_mb": rss,
                "rss_peak_mb": peak,
                "scrape_wall_s": max(s[0]["wall_s"] for s in scrapes),
                "scrape_wall_s_median": sorted(s[0]["wall_s"] for s in scrapes)[len(scrapes) // 2],
                "scrape_cpu_s": max(s[0]["cpu_s"] for s in scrapes),
                "scrape_bytes": scrapes[-1][0]["bytes"],
                "scrape_series": scrapes[-1][0]["series"],
                "gzip_wall_s": max(s[1]["wall_s"] for s in scrapes),
                "gzip_cpu_s": max(s[1]["cpu_s"] for s in scrapes),
                "gzip_bytes": scrapes[-1][1]["bytes"],
                "gzip_served": scrapes[-1][1]["gzip"],
                "db_mb_per_day": (size1 - size0) * per_day / 1e6,
                "db_mb": size1 / 1e6,
                "db_tables_mb_per_day": {
                    t: round((tables1.get(t, 0) - tables0.get(t, 0)) * per_day / 1e6, 2)
                    for t in sorted(tables1, key=lambda t: tables0.get(t, 0) - tables1[t])
                    if tables1.get(t, 0) != tables0.get(t, 0)
                },
                "collector_errors": new_errors,
                "deadline_misses": new_errors.get("deadline", 0) + run_log.count("was missed by"),
            },
            "lab_cpu_s_per_cycle": lab_cpu / elapsed * args.interval,
            "snmp_exporter": {
                "cpu_s_per_cycle": exp_cpu,
                "walk_wall_s": sum(r["wall_s"] for r in exporter_runs) / len(exporter_runs),
                "scrape_s_per_target": sum(r["wall_s"] for r in exporter_runs) / len(exporter_runs)
                / len(switches) * min(args.concurrency, len(switches)),
                "varbinds_per_cycle": exporter_runs[-1]["varbinds"],
                "errors": sum(len(r["errors"]) for r in exporter_runs),
            },
        }  # fmt: skip
        result["ratio_cpu_per_cycle"] = per_cycle / exp_cpu if exp_cpu else None
        return result
    finally:
        for proc in (netmon, exporter, peers):
            if proc is not None:
                proc.stop()
        signal.signal(signal.SIGTERM, old_term)
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(r: dict) -> str:
    c, n, e = r["config"], r["netmon"], r["snmp_exporter"]
    lines = [
        f"city: {c['sites']} sites x {c['ports']} ports, {c['devices']} devices, {c['aps']} APs, {c['people']} "
        f"people/day; {c['cycles']} cycles of {c['interval_s']} s on {c['cpus']} CPUs; lab up in "
        f"{c['lab_startup_s']:.1f} s",
        "",
        "netmon run (its process alone)            value      goal",
        f"  CPU per cycle (incl. 1 scrape)     {n['cpu_s_per_cycle']:9.2f} s",
        f"  fraction of one core               {n['core_fraction']:9.3f}",
        f"  RSS now / peak                     {n['rss_mb']:6.0f} / {n['rss_peak_mb']:.0f} MB  < {GOALS['rss_mb']:.0f}",
        f"  scrape wall (worst / median)       {n['scrape_wall_s']:9.3f} / {n['scrape_wall_s_median']:.3f} s"
        f"  < {GOALS['scrape_wall_s']}",
        f"  scrape CPU (worst)                 {n['scrape_cpu_s']:9.3f} s  < {GOALS['scrape_cpu_s']}",
        f"  scrape size, series                {n['scrape_bytes'] / 1e6:9.2f} MB, {n['scrape_series']} series",
        f"  gzip scrape wall / CPU / size      {n['gzip_wall_s']:9.3f} s / {n['gzip_cpu_s']:.3f} s / "
        f"{n['gzip_bytes'] / 1e6:.2f} MB{'' if n['gzip_served'] else ' (not gzipped by netmon)'}",
        f"  database growth                    {n['db_mb_per_day']:9.1f} MB/day  < {GOALS['db_mb_per_day']:.0f}"
        f"  (now {n['db_mb']:.1f} MB)",
        "    by table: " + ", ".join(f"{t} {v}" for t, v in list(n["db_tables_mb_per_day"].items())[:8]),
        f"  deadline misses                    {n['deadline_misses']:9.0f}",
        f"  collector errors                   {sum(n['collector_errors'].values()):9.0f}  {n['collector_errors']}",
        "",
        f"snmp_exporter, the same {e['varbinds_per_cycle']} interface varbinds per cycle:",
        f"  CPU per cycle                      {e['cpu_s_per_cycle']:9.2f} s",
        f"  walk of every switch (16 at once)  {e['walk_wall_s']:9.2f} s; {e['scrape_s_per_target']:.3f} s per target",
        f"  errors                             {e['errors']:9d}",
        "",
        f"lab simulators' CPU per cycle        {r['lab_cpu_s_per_cycle']:9.2f} s (not netmon's)",
        f"netmon CPU per cycle / snmp_exporter's: {r['ratio_cpu_per_cycle']:.2f}x  (goal <= {GOALS['cpu_ratio']:.1f}x,"
        " while netmon also stores, polls Wi-Fi and takes RADIUS)",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sites", type=int, default=290)
    p.add_argument("--ports", type=int, default=48)
    p.add_argument("--aps-per-site", type=int, default=4, help="4: the city's 1,752 APs over 290 sites")
    p.add_argument("--people", type=int, default=6000)
    p.add_argument("--interval", type=int, default=60)
    p.add_argument("--cycles", type=int, default=5)
    p.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    p.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary lab folder")
    # snmp_exporter's settings, as bench/poll.py's
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--max-repetitions", type=int, default=25)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--retries", type=int, default=1)
    args = p.parse_args(argv)
    if not (1 <= args.cycles <= 100 and 5 <= args.interval <= 600 and 1 <= args.sites <= 2000):
        p.error("--cycles 1..100, --interval 5..600, --sites 1..2000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

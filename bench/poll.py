"""Poll N simulated switches four ways and compare the pollers' CPU per varbind.

The same snmpsim agent (``netmon.lab``), the same devices, the same columns
(``collectors.interfaces.FIRST_PASS``), the same max-repetitions, in the same run:

1. ``netmon``        - the real collector path, ``collectors.interfaces.collect``
                       over ``collectors.snmp.api`` with the default engine
                       (netmon's native SNMPv2c codec), all devices
                       concurrently under an ``asyncio.Semaphore``; CPU is this
                       process's ``time.process_time()``. ``netmon-pysnmp`` is
                       the same with ``engine="pysnmp"`` (pysnmp 7).
2. ``snmpbulkwalk``  - Net-SNMP, one invocation per column (5.9 walks only the
                       first OID given), a thread pool of the same size; CPU is
                       ``getrusage(RUSAGE_CHILDREN)``.
3. ``snmp_exporter`` - prometheus-snmp-exporter 0.21 with a generated
                       ``snmp.yml`` (one module per community), scraped over
                       HTTP by a thread pool of the same size; CPU is the
                       exporter's utime+stime from ``/proc/PID/stat``.

The snmpsim agent's own CPU is measured for every phase too: when it is close to
the wall time, the simulator, not the poller, sets the pace.

    .venv/bin/python bench/poll.py                     # 50 x 48 ports
    .venv/bin/python bench/poll.py --devices 3 --ports 8 --json
    .venv/bin/python bench/poll.py --profile 25        # plus a cProfile of the netmon phase

Everything is written to a temporary directory that is removed on exit
(``--keep`` keeps it); every subprocess is stopped on exit. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from collectors import interfaces  # noqa: E402
from collectors.credentials import SnmpV2cCredentials, SnmpV3Credentials  # noqa: E402
from collectors.snmp.api import SnmpError, SnmpTarget, oid_str  # noqa: E402
from collectors.snmp.client import SnmpClient  # noqa: E402
from netmon import lab as lab_mod  # noqa: E402
from netmon import process  # noqa: E402

COLUMNS = interfaces.FIRST_PASS
AGREEMENT = 0.05  # the varbind counts must agree within 5%
# netmon: the default engine (native SNMPv2c codec); netmon-pysnmp: the same collectors over pysnmp 7.
POLLERS = ("netmon", "netmon-pysnmp", "snmpbulkwalk", "snmp_exporter")
# With --v3: the same collectors over SNMPv3 authPriv (SHA-256 / AES-128), both engines.
V3_POLLERS = ("netmon-v3", "netmon-pysnmp-v3")


def pollers_of(result_or_args) -> tuple[str, ...]:
    v3 = result_or_args["config"]["v3"] if isinstance(result_or_args, dict) else result_or_args.v3
    return POLLERS + (V3_POLLERS if v3 else ())


END_OF_MIB = "(It is past the end of the MIB tree)"

# snmp_exporter metric for each walked column: (name, type). Names follow IF-MIB.
METRICS: dict[tuple[int, ...], tuple[str, str]] = {
    interfaces.IF_TYPE: ("ifType", "gauge"),
    interfaces.IF_ADMIN_STATUS: ("ifAdminStatus", "gauge"),
    interfaces.IF_OPER_STATUS: ("ifOperStatus", "gauge"),
    interfaces.IF_IN_DISCARDS: ("ifInDiscards", "counter"),
    interfaces.IF_IN_ERRORS: ("ifInErrors", "counter"),
    interfaces.IF_OUT_DISCARDS: ("ifOutDiscards", "counter"),
    interfaces.IF_OUT_ERRORS: ("ifOutErrors", "counter"),
    interfaces.IF_NAME: ("ifName", "DisplayString"),
    interfaces.IF_ALIAS: ("ifAlias", "DisplayString"),
    interfaces.IF_HIGH_SPEED: ("ifHighSpeed", "gauge"),
    interfaces.IF_HC_IN_OCTETS: ("ifHCInOctets", "counter"),
    interfaces.IF_HC_OUT_OCTETS: ("ifHCOutOctets", "counter"),
    interfaces.IF_HC_IN_UCAST: ("ifHCInUcastPkts", "counter"),
    interfaces.IF_HC_OUT_UCAST: ("ifHCOutUcastPkts", "counter"),
    interfaces.IF_COUNTER_DISCONTINUITY: ("ifCounterDiscontinuityTime", "gauge"),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def find_tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not path:
        raise SystemExit(f"bench/poll.py: {name} is not installed (scripts/setup --test installs it)")
    return path


def children_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# --------------------------------------------------------------------------- netmon


class NetmonPoller:
    """The collector path of netmon/poller.py and scheduler.poll_all, minus the store."""

    def __init__(self, port: int, args: argparse.Namespace, engine: str = "native", v3: bool = False):
        self.port = port
        self.args = args
        self.engine = engine
        self.v3 = v3
        self.runner = asyncio.Runner()
        self.client: SnmpClient | None = None

    def target(self) -> SnmpTarget:
        a = self.args
        return SnmpTarget("127.0.0.1", self.port, a.timeout, a.retries, a.max_repetitions)

    def credentials(self, host: str):
        if not self.v3:
            return SnmpV2cCredentials(f"lab-{host}", host)
        return SnmpV3Credentials(
            "lab-v3", lab_mod.V3_USER, "sha256", lab_mod.V3_AUTH_KEY, "aes128", lab_mod.V3_PRIV_KEY, context=host
        )

    async def _open(self) -> None:
        self.client = SnmpClient(self.engine)

    async def _close(self) -> None:
        if self.client:
            self.client.close()
            self.client = None

    def start(self) -> NetmonPoller:
        self.runner.run(self._open())
        return self

    def close(self) -> None:
        try:
            self.runner.run(self._close())
        finally:
            self.runner.close()

    async def _poll_one(self, host: str, limit: asyncio.Semaphore, acc: dict) -> None:
        async with limit:
            session = await self.client.session(self.target(), self.credentials(host))
            walked = session.walk_columns
            passes: list[tuple] = []

            async def counting_walk(columns):
                cols = await walked(columns)
                passes.append(tuple(columns))
                acc["values"] += sum(len(v) for v in cols.values())
                return cols

            session.walk_columns = counting_walk  # instance attribute: counts what the collector received
            try:
                samples = await interfaces.collect(session)
            except SnmpError as exc:
                acc["errors"].append(f"{host}: {exc.reason}: {exc}")
                samples = []
            acc["interfaces"] += len(samples)
            acc["requests"] += session.stats.requests
            acc["wire_varbinds"] += session.stats.varbinds
            if passes and passes[0] == tuple(COLUMNS) and len(passes) == 1:
                acc["first_pass_only"] += 1
            else:
                acc["second_pass"].append(host)

    async def _poll_all(self, hosts: list[str], acc: dict) -> None:
        limit = asyncio.Semaphore(self.args.concurrency)
        await asyncio.gather(*(self._poll_one(h, limit, acc) for h in hosts))

    def run(self, hosts: list[str], profile: cProfile.Profile | None = None) -> dict:
        acc = {
            "values": 0,
            "wire_varbinds": 0,
            "requests": 0,
            "interfaces": 0,
            "first_pass_only": 0,
            "second_pass": [],
            "errors": [],
        }
        cpu0, t0 = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        try:
            self.runner.run(self._poll_all(hosts, acc))
        finally:
            if profile:
                profile.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "varbinds": acc["values"],
            "wire_varbinds": acc["wire_varbinds"],
            "requests": acc["requests"],
            "interfaces": acc["interfaces"],
            "first_pass_only_devices": acc["first_pass_only"],
            "second_pass_devices": acc["second_pass"],
            "errors": acc["errors"],
        }


# --------------------------------------------------------------------------- snmpbulkwalk


class BulkwalkPoller:
    """Net-SNMP snmpbulkwalk, one process per (device, column); columns of a device in sequence."""

    def __init__(self, port: int, args: argparse.Namespace):
        self.exe = find_tool("snmpbulkwalk")
        self.port = port
        self.args = args

    def command(self, community: str, column: tuple[int, ...]) -> list[str]:
        a = self.args
        return [
            self.exe,
            "-v2c",
            "-c",
            community,
            "-m",
            "",  # load no MIB modules (output is numeric anyway)
            "-On",
            "-Oq",
            f"-Cr{a.max_repetitions}",
            "-t",
            str(a.timeout),
            "-r",
            str(a.retries),
            f"127.0.0.1:{self.port}",
            "." + oid_str(column),
        ]

    def _device(self, host: str) -> tuple[int, int, list[str]]:
        values, invocations, errors = 0, 0, []
        budget = self.args.timeout * (self.args.retries + 1) * 20 + 10
        for column in COLUMNS:
            prefix = "." + oid_str(column) + "."
            invocations += 1
            try:
                proc = subprocess.run(
                    self.command(host, column), capture_output=True, text=True, timeout=budget, check=False
                )
            except subprocess.TimeoutExpired:
                errors.append(f"{host} {oid_str(column)}: snmpbulkwalk ran over {budget:.0f} s")
                continue
            if proc.returncode != 0:
                errors.append(f"{host} {oid_str(column)}: rc={proc.returncode} {proc.stderr.strip()[:200]}")
            # Distinct OIDs inside the column that carry a value: snmpsim answers the repetitions past the
            # end of its data with endOfMibView under the last OID, which Net-SNMP prints as extra lines.
            values += len(
                {
                    line.split(" ", 1)[0]
                    for line in proc.stdout.splitlines()
                    if line.startswith(prefix) and not line.endswith(END_OF_MIB)
                }
            )
        return values, invocations, errors

    def startup_cpu(self, host: str, count: int = 20) -> float:
        """CPU seconds of one snmpbulkwalk process walking a 1-varbind subtree (sysUpTime): the start-up floor."""
        cmd = self.command(host, (1, 3, 6, 1, 2, 1, 1, 3))
        cpu0 = children_cpu_seconds()
        for _ in range(count):
            subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        return (children_cpu_seconds() - cpu0) / count

    def run(self, hosts: list[str]) -> dict:
        cpu0, t0 = children_cpu_seconds(), time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.concurrency) as pool:
            results = list(pool.map(self._device, hosts))
        wall, cpu = time.perf_counter() - t0, children_cpu_seconds() - cpu0
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "varbinds": sum(r[0] for r in results),
            "invocations": sum(r[1] for r in results),
            "errors": [e for r in results for e in r[2]],
        }


# --------------------------------------------------------------------------- snmp_exporter


def exporter_config(hosts: list[str], args: argparse.Namespace) -> dict:
    """snmp_exporter 0.21 snmp.yml: module name -> module, auth inside (one module per community)."""
    metrics = []
    for column in COLUMNS:
        name, kind = METRICS[column]
        metrics.append(
            {
                "name": name,
                "oid": oid_str(column),
                "type": kind,
                "help": f"IF-MIB {name} ({oid_str(column)})",
                "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
            }
        )
    walk = [oid_str(c) for c in COLUMNS]
    return {
        host: {
            "auth": {"community": host},
            "version": 2,
            "max_repetitions": args.max_repetitions,
            "retries": args.retries,
            "timeout": f"{args.timeout:g}s",
            "walk": walk,
            "metrics": metrics,
        }
        for host in hosts
    }


class ExporterPoller:
    def __init__(self, agent_port: int, work: Path, hosts: list[str], args: argparse.Namespace):
        import yaml

        self.exe = find_tool("prometheus-snmp-exporter")
        self.agent_port = agent_port
        self.args = args
        self.config_path = work / "snmp.yml"
        self.config_path.write_text(yaml.safe_dump(exporter_config(hosts, args), sort_keys=False))
        self.log_path = work / "snmp_exporter.log"
        self.port = lab_mod.free_tcp_port()
        self.proc: subprocess.Popen | None = None
        self.metric_names = {name for name, _ in METRICS.values()}

    def start(self, ready_timeout: float = 15.0) -> ExporterPoller:
        args = [
            self.exe,
            f"--config.file={self.config_path}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        with open(self.log_path, "w") as log_file:
            self.proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"snmp_exporter exited with {self.proc.returncode}: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"snmp_exporter did not answer within {ready_timeout:.0f} s: {self.log_path.read_text()}")

    def stop(self) -> None:
        process.stop_process_group(self.proc)
        self.proc = None

    def cpu_seconds(self) -> float:
        return process.process_cpu_seconds(self.proc.pid)

    def _scrape(self, host: str) -> tuple[int, int, int, list[str]]:
        url = f"http://127.0.0.1:{self.port}/snmp?target=127.0.0.1:{self.agent_port}&module={host}"
        budget = self.args.timeout * (self.args.retries + 1) * len(COLUMNS) * 4 + 10
        try:
            with urllib.request.urlopen(url, timeout=budget) as r:
                text = r.read().decode("utf-8", "replace")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            return 0, 0, 0, [f"{host}: {exc}"]
        samples = pdus = packets = 0
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in self.metric_names:
                samples += 1
            elif name == "snmp_scrape_pdus_returned":
                pdus = int(float(line.rsplit(" ", 1)[1]))
            elif name == "snmp_scrape_packets_sent":
                packets = int(float(line.rsplit(" ", 1)[1]))
        return samples, pdus, packets, []

    def run(self, hosts: list[str]) -> dict:
        cpu0, t0 = self.cpu_seconds(), time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.concurrency) as pool:
            results = list(pool.map(self._scrape, hosts))
        wall, cpu = time.perf_counter() - t0, self.cpu_seconds() - cpu0
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "varbinds": sum(r[0] for r in results),
            "pdus_returned": sum(r[1] for r in results),
            "requests": sum(r[2] for r in results),
            "errors": [e for r in results for e in r[3]],
        }


# --------------------------------------------------------------------------- report


def derive(run: dict) -> dict:
    vb = run["varbinds"]
    run["cpu_us_per_varbind"] = run["cpu_s"] / vb * 1e6 if vb else None
    run["cpu_s_per_10k_varbinds"] = run["cpu_s"] / vb * 1e4 if vb else None
    run["agent_cpu_us_per_varbind"] = run["agent_cpu_s"] / vb * 1e6 if vb else None
    run["agent_busy"] = run["agent_cpu_s"] / run["wall_s"] if run["wall_s"] else None
    run["varbinds_per_s"] = vb / run["wall_s"] if run["wall_s"] else None
    return run


def summarise(runs: list[dict]) -> dict:
    """Median over repeats of the timed figures; counts from the last run (they do not change)."""
    out = dict(runs[-1])
    for key in ("wall_s", "cpu_s", "agent_cpu_s"):
        out[key] = statistics.median(r[key] for r in runs)
        out[key + "_min"] = min(r[key] for r in runs)
    out["errors"] = [e for r in runs for e in r["errors"]]
    return derive(out)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def text_report(result: dict) -> str:
    c = result["config"]
    p = result["pollers"]
    lines = [
        f"netmon poll benchmark: {c['devices']} devices x {c['ports']} ports "
        f"({c['interfaces_per_device']} interfaces each), {len(COLUMNS)} columns (collectors.interfaces.FIRST_PASS), "
        f"max-repetitions {c['max_repetitions']}, concurrency {c['concurrency']}, "
        f"repeat {c['repeat']} (median shown)",
        f"agent: snmpsim on 127.0.0.1:{c['agent_port']} (--max-var-binds={c['agent_max_var_binds']}), "
        f"python {c['python']}, {c['cpus']} CPUs",
        "",
        f"{'poller':<16} {'wall s':>7} {'CPU s':>7} {'CPU us/vb':>10} {'CPU s/10k vb':>13} {'varbinds':>9} "
        f"{'requests':>9} {'agent CPU s':>12} {'agent us/vb':>12} {'agent busy':>11}",
    ]
    for name in pollers_of(result):
        r = p[name]
        requests = r.get("requests", r.get("invocations"))
        req = fmt(requests, "d") + ("p" if "invocations" in r else "")
        lines.append(
            f"{name:<16} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} {fmt(r['cpu_us_per_varbind'], '.1f'):>10} "
            f"{fmt(r['cpu_s_per_10k_varbinds'], '.3f'):>13} {r['varbinds']:>9d} {req:>9} "
            f"{r['agent_cpu_s']:>12.2f} {fmt(r['agent_cpu_us_per_varbind'], '.1f'):>12} "
            f"{fmt(r['agent_busy'], '.0%'):>11}"
        )
    lines += ["", f"{'ratio':<30} {'CPU per varbind':>16} {'wall time':>10}"]
    for other in pollers_of(result)[1:]:
        r = result["ratios"][f"netmon/{other}"]
        lines.append(
            f"{'netmon / ' + other:<30} {fmt(r['cpu_per_varbind'], '.2f', 'n/a') + 'x':>16} "
            f"{fmt(r['wall'], '.2f', 'n/a') + 'x':>10}"
        )
    n, b, e = p["netmon"], p["snmpbulkwalk"], p["snmp_exporter"]
    lines += [
        "",
        "notes:",
        "  varbinds = values delivered inside the walked columns (netmon: returned by walk_columns; "
        "snmpbulkwalk: output lines; snmp_exporter: metric samples).",
        f"  netmon decoded {n['wire_varbinds']} varbinds on the wire (session.stats.varbinds, "
        f"{ratio(n['wire_varbinds'], n['varbinds']) or 0:.2f}x the delivered ones: GETBULK overshoot past "
        f"column ends) in {n['requests']} requests; snmp_exporter reported {e['pdus_returned']} PDUs returned "
        f"in {e['requests']} packets.",
        f"  snmpbulkwalk: 'p' = processes ({b['invocations']}, one per device and column: this Net-SNMP walks "
        f"only the first OID given). Its CPU includes process start-up: "
        f"{b['cpu_s'] / b['invocations'] * 1e3:.2f} ms CPU per invocation on average, of which "
        f"{b['startup_cpu_s_per_invocation'] * 1e3:.2f} ms is the floor of a 1-varbind walk; net of that floor "
        f"(a rough difference of two large numbers) snmpbulkwalk costs "
        f"{fmt(b['cpu_us_per_varbind_net_of_startup'], '.1f', 'lost in the noise (n/a)')} us CPU per varbind "
        f"(netmon/that: {fmt(ratio(n['cpu_us_per_varbind'], b['cpu_us_per_varbind_net_of_startup']), '.1f')}x).",
        "  agent busy = snmpsim CPU / wall time; near 100% means the simulator, not the poller, set the wall time.",
        "",
        "checks:",
    ]
    lines += [f"  {line}" for line in result["checks"]]
    lines += [f"WARNING: {w}" for w in result["warnings"]]
    return "\n".join(lines)


def checks(result: dict) -> None:
    p = result["pollers"]
    c = result["config"]
    ok, warn = result["checks"], result["warnings"]
    n = p["netmon"]
    if n["second_pass_devices"]:
        warn.append(
            f"netmon walked more than FIRST_PASS on {len(n['second_pass_devices'])} devices "
            f"(e.g. {n['second_pass_devices'][0]}): the pollers did not walk the same columns"
        )
    else:
        ok.append(f"OK netmon walked FIRST_PASS only (no second pass) on {n['first_pass_only_devices']} devices")
    counts = {name: p[name]["varbinds"] for name in pollers_of(result)}
    expected = c["devices"] * c["interfaces_per_device"] * len(COLUMNS)
    hi, lo = max(counts.values()), min(counts.values())
    detail = ", ".join(f"{k} {v}" for k, v in counts.items())
    if lo <= 0 or (hi - lo) / hi > AGREEMENT:
        warn.append(f"varbind counts differ by more than {AGREEMENT:.0%}: {detail}")
    else:
        ok.append(f"OK varbind counts agree within {AGREEMENT:.0%}: {detail} (expected {expected})")
    e = p["snmp_exporter"]
    if e["pdus_returned"] and e["pdus_returned"] != e["varbinds"]:
        warn.append(f"snmp_exporter returned {e['pdus_returned']} PDUs but {e['varbinds']} samples")
    for name in pollers_of(result):
        errs = p[name]["errors"]
        if errs:
            warn.append(f"{name}: {len(errs)} errors, first: {errs[0]}")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--devices", type=int, default=50, help="simulated switches (default 50)")
    ap.add_argument("--ports", type=int, default=48, help="access ports per switch (default 48; +3 uplink/SVI)")
    ap.add_argument("--repeat", type=int, default=1, help="timed rounds of all pollers (median reported)")
    ap.add_argument("--json", action="store_true", help="print one JSON document on stdout instead of the table")
    ap.add_argument("--concurrency", type=int, default=16, help="devices polled at once, every poller (default 16)")
    ap.add_argument("--max-repetitions", type=int, default=25)
    ap.add_argument("--timeout", type=float, default=5.0, help="SNMP timeout per request, seconds")
    ap.add_argument("--retries", type=int, default=1)
    ap.add_argument("--agent-max-var-binds", type=int, default=64, help="snmpsim --max-var-binds (default 64)")
    ap.add_argument(
        "--profile",
        type=int,
        metavar="N",
        default=0,
        help="after the timed rounds, run the netmon phase once more under cProfile and print the top N functions",
    )
    ap.add_argument("--profile-out", type=Path, help="also save the cProfile stats there (e.g. bench/out/netmon.prof)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary lab directory (path printed)")
    ap.add_argument(
        "--v3", action="store_true", help="also poll over SNMPv3 authPriv (SHA-256/AES-128) with both netmon engines"
    )
    args = ap.parse_args(argv)
    if not (1 <= args.devices <= 2000 and 1 <= args.ports <= 1000 and 1 <= args.repeat <= 100):
        ap.error("--devices 1..2000, --ports 1..1000, --repeat 1..100")
    if not 1 <= args.concurrency <= 512:
        ap.error("--concurrency 1..512")
    return args


def profile_report(prof: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def run(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="netmon-bench-"))
    sim = netmon = netmon_pysnmp = exporter = None
    extra: dict[str, NetmonPoller] = {}
    old_term = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below runs
    try:
        log(f"building lab: {args.devices} devices x {args.ports} ports in {work}")
        lab = lab_mod.build(work, sites=args.devices, ports=args.ports, legacy=False, v3=False, ssh=False, wlc=False)
        hosts = [d.hostname for d in lab.devices]
        sim = lab_mod.Simulator(
            lab.data_dir,
            lab.agent_port,
            lab.root,
            v3_users=[lab_mod.LAB_V3_USER] if args.v3 else [],
            max_var_binds=args.agent_max_var_binds,
        )
        t = time.perf_counter()
        sim.start()
        log(f"snmpsim up on 127.0.0.1:{lab.agent_port} in {time.perf_counter() - t:.1f} s")
        netmon = NetmonPoller(lab.agent_port, args).start()
        netmon_pysnmp = NetmonPoller(lab.agent_port, args, engine="pysnmp").start()
        extra = {}
        if args.v3:
            extra = {
                "netmon-v3": NetmonPoller(lab.agent_port, args, v3=True).start(),
                "netmon-pysnmp-v3": NetmonPoller(lab.agent_port, args, engine="pysnmp", v3=True).start(),
            }
        bulkwalk = BulkwalkPoller(lab.agent_port, args)
        exporter = ExporterPoller(lab.agent_port, work, hosts, args)
        exporter.start()
        log(f"snmp_exporter up on 127.0.0.1:{exporter.port}")

        # Warm-up, untimed: pysnmp's first request pays ~0.6 s; one device through each poller.
        for poller in (netmon, netmon_pysnmp, *extra.values()):
            warm = poller.run(hosts[:1])
            if warm["errors"]:
                raise RuntimeError(f"netmon ({poller.engine}) warm-up failed: {warm['errors'][0]}")
        bulkwalk.run(hosts[:1])
        exporter.run(hosts[:1])
        startup = bulkwalk.startup_cpu(hosts[0])

        runs: dict[str, list[dict]] = {name: [] for name in pollers_of(args)}
        phases = (
            ("netmon", netmon.run),
            ("netmon-pysnmp", netmon_pysnmp.run),
            ("snmpbulkwalk", bulkwalk.run),
            ("snmp_exporter", exporter.run),
            *((name, poller.run) for name, poller in extra.items()),
        )
        for round_no in range(1, args.repeat + 1):
            for name, phase in phases:
                agent0 = sim.cpu_seconds()
                r = phase(hosts)
                r["agent_cpu_s"] = sim.cpu_seconds() - agent0
                runs[name].append(derive(r))
                log(
                    f"round {round_no}/{args.repeat} {name}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
                    f"{r['varbinds']} varbinds, agent {r['agent_cpu_s']:.2f} s CPU"
                )

        profile_text = None
        if args.profile:
            prof = cProfile.Profile()
            netmon.run(hosts, profile=prof)
            profile_text = profile_report(prof, args.profile)
            if args.profile_out:
                args.profile_out.parent.mkdir(parents=True, exist_ok=True)
                prof.dump_stats(str(args.profile_out))

        pollers = {name: summarise(runs[name]) for name in pollers_of(args)}
        n, b = pollers["netmon"], pollers["snmpbulkwalk"]
        b["startup_cpu_s_per_invocation"] = startup
        net = b["cpu_s"] - startup * b["invocations"]
        # The difference of two large numbers: below zero it is noise, not a figure.
        b["cpu_us_per_varbind_net_of_startup"] = net / b["varbinds"] * 1e6 if b["varbinds"] and net > 0 else None
        result = {
            "config": {
                "devices": len(hosts),
                "ports": args.ports,
                "interfaces_per_device": n["interfaces"] // len(hosts) if hosts else 0,
                "columns": [oid_str(c) for c in COLUMNS],
                "max_repetitions": args.max_repetitions,
                "concurrency": args.concurrency,
                "timeout": args.timeout,
                "retries": args.retries,
                "repeat": args.repeat,
                "agent_port": lab.agent_port,
                "agent_max_var_binds": args.agent_max_var_binds,
                "v3": args.v3,
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            },
            "pollers": pollers,
            "ratios": {
                f"netmon/{other}": {
                    "cpu_per_varbind": ratio(n["cpu_us_per_varbind"], pollers[other]["cpu_us_per_varbind"]),
                    "wall": ratio(n["wall_s"], pollers[other]["wall_s"]),
                }
                for other in pollers_of(args)[1:]
            },
            "runs": runs,
            "checks": [],
            "warnings": [],
        }
        checks(result)
        if profile_text is not None:
            result["profile"] = profile_text
        if args.keep:
            log(f"kept {work}")
        return result
    finally:
        if exporter:
            exporter.stop()
        if netmon:
            netmon.close()
        if netmon_pysnmp:
            netmon_pysnmp.close()
        for poller in extra.values():
            poller.close()
        if sim:
            sim.stop()
        signal.signal(signal.SIGTERM, old_term)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(text_report(result))
        if "profile" in result:
            print("\ncProfile of one more netmon phase (not part of the figures above):")
            print(result["profile"])
    return 1 if result["warnings"] else 0


if __name__ == "__main__":
    sys.exit(main())

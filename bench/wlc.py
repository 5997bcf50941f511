"""Poll one big simulated Wi-Fi controller completely: netmon's wlc collector against Net-SNMP's snmpbulkwalk.

One controller (``netmon.lab.wlc_agent``: by default AireOS-style, 1,500 APs, 10,000
clients, every simulated person online so the client count is exact) is
served on 127.0.0.1 by netmon's simulated agent in a process of its own,
frozen at one moment so every poller sees the same population. In the same
run, against the same agent, with the same max-repetitions:

1. ``netmon``         - the real collector path: ``collectors.system.collect``
                        then ``collectors.wlc.collect`` (the profile picked by
                        sysObjectID) over ``collectors.snmp.api`` with the
                        default engine (netmon's native SNMPv2c codec); CPU is
                        this process's ``time.process_time()``.
   ``netmon-pysnmp``  - the same over pysnmp 7 (``--pysnmp``).
2. ``snmpbulkwalk``   - Net-SNMP, one process per table the profile reads
                        (the agent serves exactly the profile's columns, so a
                        table walk returns the same values), one after the
                        other; CPU is the ``RUSAGE_CHILDREN`` delta (each
                        process is waited for before the next starts).

The agent's CPU is measured per phase from ``/proc``: its table is built and
encoded once before the phases (reported separately), so per request it
only looks up and concatenates. Completeness is checked: the collector's AP,
radio, WLAN and client counts equal the model's, and netmon's values, Net-SNMP's
lines and the agent's rows in those tables agree exactly.

    .venv/bin/python bench/wlc.py                       # 1,500 APs, 10,000 clients, AireOS
    .venv/bin/python bench/wlc.py --kind both --pysnmp  # + the 9800, + pysnmp
    .venv/bin/python bench/wlc.py --aps 20 --clients 100 --json

Only 127.0.0.1 is used; the agent process is stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from collectors import system, wlc  # noqa: E402
from collectors.credentials import SnmpV2cCredentials  # noqa: E402
from collectors.snmp.api import SnmpTarget  # noqa: E402
from collectors.snmp.client import SnmpClient  # noqa: E402
from netmon import lab as lab_mod  # noqa: E402
from netmon import process  # noqa: E402
from netmon.lab.wlc_agent import KINDS, ControllerAgent, ControllerModel  # noqa: E402

NOW = 1_800_000_000.0  # the moment the simulated city is frozen at
APS_PER_SITE = 50
END_OF_MIB = "No more variables left in this MIB View"
AIRESPACE = "1.3.6.1.4.1.14179.2"
# The tables each profile reads (entries: every served column of each), walked one by one by Net-SNMP.
TABLES = {
    "aireos": {
        "bsnAPEntry": f"{AIRESPACE}.2.1.1",
        "cLApUpTime": "1.3.6.1.4.1.9.9.513.1.1.1.1.6",
        "bsnAPIfEntry": f"{AIRESPACE}.2.2.1",
        "bsnAPIfLoadParametersEntry": f"{AIRESPACE}.2.13.1",
        "bsnDot11EssEntry": f"{AIRESPACE}.1.1.1",
        "bsnMobileStationEntry": f"{AIRESPACE}.1.4.1",
        "bsnMobileStationStatsEntry": f"{AIRESPACE}.1.6.1",
    },
    "c9800": {
        "cLApEntry": "1.3.6.1.4.1.9.9.513.1.1.1.1",
        "cLApExtEntry": "1.3.6.1.4.1.9.9.513.1.1.10.1",
        "bsnAPEntry": f"{AIRESPACE}.2.1.1",
        "bsnAPIfEntry": f"{AIRESPACE}.2.2.1",
        "bsnAPIfLoadParametersEntry": f"{AIRESPACE}.2.13.1",
        "cLWlanConfigEntry": "1.3.6.1.4.1.9.9.512.1.1.1.1",
        "bsnDot11EssEntry": f"{AIRESPACE}.1.1.1",
        "cldcClientEntry": "1.3.6.1.4.1.9.9.599.1.3.1.1",
        "cldcClientStatisticEntry": "1.3.6.1.4.1.9.9.599.1.4.1.1",
        "bsnMobileStationEntry": f"{AIRESPACE}.1.4.1",
        "bsnMobileStationStatsEntry": f"{AIRESPACE}.1.6.1",
        "entPhysicalEntry": "1.3.6.1.2.1.47.1.1.1.1",
    },
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def find_tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not path:
        raise SystemExit(f"bench/wlc.py: {name} is not installed (Debian `snmp`; scripts/setup --test installs it)")
    return path


def model_for(args: argparse.Namespace, kind: str) -> ControllerModel:
    per_site = min(APS_PER_SITE, args.aps)
    if args.aps < 1 or args.aps % per_site or not 0 <= args.clients <= 100_000:
        raise SystemExit(f"--aps must be a multiple of {APS_PER_SITE} (or up to it), --clients 0..100000")
    sites = [f"site-{n:03d}" for n in range(args.aps // per_site)]
    # presence=100: every simulated person is online, so the model has exactly --clients clients.
    return ControllerModel(f"wlc-bench-{kind}", sites, per_site, args.clients, seed="bench", kind=kind, presence=100)


# --------------------------------------------------------------------------- the agent, in its own process


def _serve(model: ControllerModel, port: int, max_varbinds: int, tables: list[str], conn) -> None:
    """Child process: serve ``model`` frozen at NOW until told to stop (or the parent goes away)."""
    agent = ControllerAgent(model, port, clock=lambda: NOW, max_varbinds=max_varbinds)
    started = time.process_time()
    oids, _ = agent._rows()  # build and encode the whole table before anyone asks
    build_cpu = time.process_time() - started
    prefixes = [tuple(int(x) for x in t.split(".")) for t in tables]
    rows = {t: sum(1 for oid in oids if oid[: len(p)] == p) for t, p in zip(tables, prefixes, strict=True)}
    agent.start()
    conn.send({"oids": len(oids), "rows": rows, "build_cpu_s": build_cpu})
    try:
        while conn.poll(3600):
            if conn.recv() == "stop":
                break
            conn.send(agent.requests)
    except EOFError:
        pass
    finally:
        agent.stop()


class AgentProcess:
    def __init__(self, model: ControllerModel, max_varbinds: int, tables: list[str]):
        self.port = lab_mod.free_udp_port()
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_serve, args=(model, self.port, max_varbinds, tables, child), name="wlc-agent", daemon=True
        )

    def __enter__(self) -> AgentProcess:
        self.proc.start()
        try:
            if not self.conn.poll(600):
                raise SystemExit("bench/wlc.py: the simulated controller did not build its table within 600 s")
            self.info = self.conn.recv()
        except EOFError:
            raise SystemExit(f"bench/wlc.py: the simulated controller exited ({self.proc.exitcode})") from None
        return self

    def cpu_seconds(self) -> float:
        return process.process_cpu_seconds(self.proc.pid)

    def requests(self) -> int:
        self.conn.send("requests")
        if not self.conn.poll(30):
            raise SystemExit("bench/wlc.py: the agent stopped answering its pipe")
        return self.conn.recv()

    def __exit__(self, *exc) -> None:
        try:
            self.conn.send("stop")
        except OSError:
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)


# --------------------------------------------------------------------------- pollers


def poll_netmon(port: int, community: str, args: argparse.Namespace, engine: str) -> dict:
    counted = {"walked": 0}

    async def go():
        client = SnmpClient(engine)
        try:
            target = SnmpTarget("127.0.0.1", port, args.timeout, args.retries, args.max_repetitions)
            session = await client.session(target, SnmpV2cCredentials("bench", community))
            walk = session.walk_columns

            async def counting(columns):
                got = await walk(columns)
                counted["walked"] += sum(len(v) for v in got.values())
                return got

            session.walk_columns = counting
            object_id = (await system.collect(session)).object_id
            result = await wlc.collect(session, object_id)
            return result, session.stats
        finally:
            client.close()

    cpu, wall = time.process_time(), time.perf_counter()
    result, stats = asyncio.run(asyncio.wait_for(go(), args.deadline))
    return {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "varbinds": counted["walked"],
        "wire_varbinds": stats.varbinds,
        "requests": stats.requests,
        "result": result,
    }


def poll_snmpbulkwalk(port: int, community: str, args: argparse.Namespace, tables: dict[str, str]) -> dict:
    exe = find_tool("snmpbulkwalk")
    common = [exe, "-v2c", "-c", community, "-On", "-Oq", f"-Cr{args.max_repetitions}"]
    common += ["-t", str(args.timeout), "-r", str(args.retries)]
    per_table, started = {}, time.perf_counter()
    for name, oid in tables.items():
        proc = subprocess.Popen(
            [*common, f"127.0.0.1:{port}", oid], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            out, err = proc.communicate(timeout=args.deadline)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise SystemExit(f"bench/wlc.py: snmpbulkwalk of {name} took over {args.deadline} s") from None
        if proc.returncode != 0:
            raise SystemExit(f"bench/wlc.py: snmpbulkwalk {name} failed: {err.strip()[:300]}")
        # Past the last OID the agent repeats endOfMibView under it, which Net-SNMP prints: not a value.
        per_table[name] = sum(
            1 for line in out.splitlines() if line.startswith("." + oid + ".") and END_OF_MIB not in line
        )
    wall = time.perf_counter() - started
    return {"wall_s": wall, "varbinds": sum(per_table.values()), "per_table": per_table, "processes": len(tables)}


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# --------------------------------------------------------------------------- one controller


def expected_radios(model: ControllerModel) -> int:
    if model.kind == "aireos":
        return 2 * len(model.aps())
    return sum(3 if model.c9800_ap_model(n)[1] else 2 for n in range(len(model.aps())))


def bench_kind(args: argparse.Namespace, kind: str) -> dict:
    model = model_for(args, kind)
    tables = TABLES[kind]
    log(f"{kind}: building a controller with {args.aps} APs and {args.clients} clients ...")
    checks: list[str] = []
    runs: dict[str, list[dict]] = {}
    with AgentProcess(model, args.agent_max_varbinds, list(tables.values())) as agent:
        info = agent.info
        log(f"{kind}: agent on udp://127.0.0.1:{agent.port}: {info['oids']} OIDs, built in {info['build_cpu_s']:.2f} s")
        pollers = ["netmon", *(["netmon-pysnmp"] if args.pysnmp else []), "snmpbulkwalk"]
        for round_ in range(args.repeat):
            for poller in pollers:
                a_cpu, a_req = agent.cpu_seconds(), agent.requests()
                if poller == "snmpbulkwalk":
                    c0 = children_cpu()
                    run = poll_snmpbulkwalk(agent.port, model.hostname, args, tables)
                    run["cpu_s"] = children_cpu() - c0
                else:
                    engine = "pysnmp" if poller == "netmon-pysnmp" else "native"
                    run = poll_netmon(agent.port, model.hostname, args, engine)
                    result = run.pop("result")
                    counts = {
                        "aps": (len(result.aps), len(model.aps())),
                        "radios": (len(result.radios), expected_radios(model)),
                        "wlans": (len(result.wlans), 2),
                        "clients": (len(result.clients), args.clients),
                        "profile": (result.profile, kind),
                    }
                    run["counts"] = {k: v[0] for k, v in counts.items()}
                    for what, (got, want) in counts.items():
                        if got != want:
                            checks.append(f"{poller} round {round_ + 1}: {what} {got} != {want}")
                run["agent_cpu_s"] = agent.cpu_seconds() - a_cpu
                run["agent_requests"] = agent.requests() - a_req
                if poller == "snmpbulkwalk":
                    run["requests"] = run["agent_requests"]
                runs.setdefault(poller, []).append(run)
                log(
                    f"{kind}: round {round_ + 1} {poller}: {run['wall_s']:.2f} s wall, {run['cpu_s']:.2f} s CPU, "
                    f"{run['varbinds']} varbinds"
                )
        expected_rows = sum(info["rows"].values())
    out = {"model": {"aps": args.aps, "clients": args.clients, "oids": info["oids"], "rows": expected_rows}}
    out["agent_build_cpu_s"] = info["build_cpu_s"]
    pollers_out = {}
    for poller, rs in runs.items():
        med = {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "agent_cpu_s")}
        last = rs[-1]
        vb = last["varbinds"]
        pollers_out[poller] = {
            **med,
            "wall_s_min": min(r["wall_s"] for r in rs),
            "cpu_s_min": min(r["cpu_s"] for r in rs),
            "varbinds": vb,
            "requests": last["requests"],
            "cpu_us_per_varbind": med["cpu_s"] / vb * 1e6 if vb else None,
            "agent_busy": med["agent_cpu_s"] / med["wall_s"] if med["wall_s"] else None,
            **{k: last[k] for k in ("wire_varbinds", "counts", "per_table", "processes") if k in last},
        }
        if vb != expected_rows:
            checks.append(f"{poller}: {vb} values in the walked tables, the agent serves {expected_rows}")
    out["pollers"] = pollers_out
    ref = pollers_out["snmpbulkwalk"]
    out["ratios"] = {
        p: {
            "wall": v["wall_s"] / ref["wall_s"] if ref["wall_s"] else None,
            "cpu": v["cpu_s"] / ref["cpu_s"] if ref["cpu_s"] else None,
        }
        for p, v in pollers_out.items()
        if p != "snmpbulkwalk"
    }
    out["checks"] = checks
    return out


def report(result: dict) -> None:
    cfg = result["config"]
    print(
        f"wlc bench: {cfg['aps']} APs, {cfg['clients']} clients, max-repetitions {cfg['max_repetitions']}, "
        f"agent PDU cap {cfg['agent_max_varbinds']} varbinds, {cfg['repeat']} round(s), {cfg['machine']}"
    )
    for kind, r in result["kinds"].items():
        print(
            f"\n[{kind}] agent: {r['model']['oids']} OIDs ({r['model']['rows']} in the profile's tables), "
            f"table built and encoded once in {r['agent_build_cpu_s']:.2f} s CPU"
        )
        print(
            f"{'poller':<15}{'wall s':>8}{'CPU s':>8}{'CPU us/vb':>11}{'varbinds':>10}{'requests':>13}"
            f"{'agent CPU s':>13}{'agent busy':>12}"
        )
        for name, p in r["pollers"].items():
            us = f"{p['cpu_us_per_varbind']:.1f}" if p["cpu_us_per_varbind"] is not None else "-"
            requests = f"{p['requests']}" + (f" ({p['processes']}p)" if "processes" in p else "")
            busy = f"{p['agent_busy']:.0%}" if p["agent_busy"] is not None else "-"
            print(
                f"{name:<15}{p['wall_s']:>8.2f}{p['cpu_s']:>8.2f}{us:>11}{p['varbinds']:>10}{requests:>13}"
                f"{p['agent_cpu_s']:>13.2f}{busy:>12}"
            )
        for name, ratio in r["ratios"].items():
            wall = f"{ratio['wall']:.2f}" if ratio["wall"] is not None else "-"
            cpu = f"{ratio['cpu']:.2f}" if ratio["cpu"] is not None else "-"
            print(f"ratio {name} / snmpbulkwalk: wall {wall}, CPU {cpu}")
        counts = r["pollers"]["netmon"]["counts"]
        print(
            f"complete: {counts['aps']} APs, {counts['radios']} radios, {counts['wlans']} WLANs, "
            f"{counts['clients']} clients (the model's: {r['model']['aps']} APs, {r['model']['clients']} clients)"
        )
        for check in r["checks"]:
            print(f"WARNING: {check}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aps", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--kind", choices=[*KINDS, "both"], default="aireos")
    parser.add_argument("--pysnmp", action="store_true", help="also poll with netmon's pysnmp engine (slow)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every poller, interleaved; medians")
    parser.add_argument("--max-repetitions", type=int, default=25)
    parser.add_argument("--agent-max-varbinds", type=int, default=64, help="varbinds per response (snmpsim: 64)")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds any one poll may take")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 20:
        raise SystemExit("--repeat must be 1..20")
    find_tool("snmpbulkwalk")
    kinds = list(KINDS) if args.kind == "both" else [args.kind]
    result = {
        "config": {
            "aps": args.aps,
            "clients": args.clients,
            "kinds": kinds,
            "max_repetitions": args.max_repetitions,
            "agent_max_varbinds": args.agent_max_varbinds,
            "repeat": args.repeat,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        },
        "kinds": {kind: bench_kind(args, kind) for kind in kinds},
    }
    result["warnings"] = [c for r in result["kinds"].values() for c in r["checks"]]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result)
    return 1 if result["warnings"] else 0


if __name__ == "__main__":
    sys.exit(main())

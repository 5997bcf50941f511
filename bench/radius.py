#!/usr/bin/env python3
"""Sustained RADIUS accounting throughput of `netmon run`, against a bare UDP receive-and-reply loop.

A controller failover makes a campus re-send tens of thousands of Starts at
once. This sends N sessions' worth of Accounting-Requests (a Start, an
Interim-Update and a Stop each, all signed) over loopback with a window of
requests in flight, retransmitting anything unanswered after a timeout as a
NAS does, and measures packets per second until the last one is answered:

- ``netmon``: the real `netmon run` (its accounting listener, group commits
  through the store's writer thread, SQLite WAL), answers checked with the
  shared secret; afterwards the database must hold every session and count
  every packet as stored (zero loss means answered *and* stored);
- ``bare``: a Python loop that receives each datagram and sends back 20
  octets, nothing else: the ceiling for a Python UDP server on this machine.

Both run as separate processes on 127.0.0.1, in the same run; the script
prints both rates, the ratio, and each server's CPU per packet.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors.radius import codec  # noqa: E402
from netmon import lab as lab_mod  # noqa: E402
from netmon import process  # noqa: E402

SECRET = b"bench-radius-secret"
TARGET = 5000.0
BARE_SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(4096)
    s.sendto(bytes((5, data[1], 0, 20)) + bytes(16), addr)
"""


def build_packets(sessions: int) -> list[list[tuple[int, bytes]]]:
    """Three phases (Starts, Interims, Stops); each packet with the identifier it carries."""
    phases = []
    for status in (codec.START, codec.INTERIM_UPDATE, codec.STOP):
        phase = []
        for n in range(sessions):
            attrs = [
                (codec.ACCT_STATUS_TYPE, status),
                (codec.ACCT_SESSION_ID, f"{n:08X}/bench"),
                (codec.USER_NAME, f"visitor{n}@realm{n % 40}.example"),
                (
                    codec.CALLING_STATION_ID,
                    f"02-00-{n >> 24 & 255:02X}-{n >> 16 & 255:02X}-{n >> 8 & 255:02X}-{n & 255:02X}",
                ),
                (codec.CALLED_STATION_ID, f"00-3A-A0-00-{n // 40 >> 8 & 255:02X}-{n // 40 & 255:02X}:eduroam"),
                (codec.NAS_IP_ADDRESS, socket.inet_aton("127.0.0.1")),
                (codec.FRAMED_IP_ADDRESS, bytes((100, 64, n >> 8 & 255, n & 255))),
                (codec.EVENT_TIMESTAMP, int(time.time())),
            ]
            if status != codec.START:
                seconds = 600 if status == codec.INTERIM_UPDATE else 900
                attrs += [(codec.ACCT_SESSION_TIME, seconds), (codec.ACCT_INPUT_OCTETS, 10 * seconds),
                          (codec.ACCT_OUTPUT_OCTETS, 90 * seconds)]  # fmt: skip
            if status == codec.STOP:
                attrs.append((codec.ACCT_TERMINATE_CAUSE, 1))
            identifier = n % 256
            phase.append((identifier, codec.encode_request(attrs, SECRET, identifier)))
        phases.append(phase)
    return phases


def send_all(port: int, phases, window: int, verify: bool, timeout: float = 1.0, max_tries: int = 10) -> dict:
    """Every packet until answered; ``window`` in flight over ``window // 64`` sockets (64 ids each)."""
    sockets = []
    for _ in range(max(1, window // 64)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
        sockets.append(s)
    sel = selectors.DefaultSelector()
    for i, s in enumerate(sockets):
        sel.register(s, selectors.EVENT_READ, i)
    server = ("127.0.0.1", port)
    sent = answered = retransmitted = lost = 0
    started = time.perf_counter()
    for phase in phases:
        queue = list(reversed(phase))  # pop() from the end: in order
        # (socket, identifier) -> (packet, first sent, last sent, tries); a socket's 64 slots use distinct ids
        inflight: dict[tuple[int, int], list] = {}
        free = {i: set() for i in range(len(sockets))}
        while queue or inflight:
            while queue and len(inflight) < window:
                identifier, packet = queue[-1]
                slot = next((i for i in range(len(sockets)) if (i, identifier) not in inflight), None)
                if slot is None:
                    break
                queue.pop()
                sockets[slot].sendto(packet, server)
                sent += 1
                now = time.perf_counter()
                inflight[(slot, identifier)] = [packet, now, now, 1]
            for key, _ in sel.select(0.05):
                s = key.fileobj
                while True:
                    try:
                        answer = s.recv(4096)
                    except BlockingIOError:
                        break
                    entry = inflight.get((key.data, answer[1]))
                    if entry is None:
                        continue  # an answer to a retransmission we already had
                    if verify and not codec.verify_response(answer, entry[0], SECRET):
                        continue
                    del inflight[(key.data, answer[1])]
                    answered += 1
            now = time.perf_counter()
            for k, entry in list(inflight.items()):
                if now - entry[2] > timeout:
                    if entry[3] >= max_tries:
                        del inflight[k]
                        lost += 1
                        continue
                    sockets[k[0]].sendto(entry[0], server)
                    entry[2], entry[3] = now, entry[3] + 1
                    retransmitted += 1
        del free
    wall = time.perf_counter() - started
    for s in sockets:
        s.close()
    packets = sum(len(p) for p in phases)
    return {"packets": packets, "answered": answered, "lost": lost, "retransmitted": retransmitted, "sent": sent,
            "wall_s": wall, "rate": answered / wall if wall else 0.0}  # fmt: skip


def cpu_seconds(pid: int) -> float:
    return process.process_cpu_seconds(pid)


def wait_udp_answer(port: int, probe: bytes, timeout: float = 30.0) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            s.sendto(probe, ("127.0.0.1", port))
            try:
                s.recv(4096)
                return
            except TimeoutError:
                continue
        raise RuntimeError(f"nothing answers on udp 127.0.0.1:{port}")
    finally:
        s.close()


def run_netmon(work: Path, phases, window: int) -> dict:
    port = lab_mod.free_udp_port()
    secrets = work / "secrets.yml"
    secrets.write_text(
        f"privacy: {{key: bench-pseudonym-key-{os.getpid()}-0123456789}}\n"
        f"radius:\n  bench-nas: {{address: 127.0.0.1, secret: {SECRET.decode()}}}\n"
    )
    secrets.chmod(0o600)
    config = work / "netmon.yml"
    config.write_text(
        f"db: {work / 'bench.db'}\nsecrets: {secrets}\nlisten: 127.0.0.1:{lab_mod.free_tcp_port()}\n"
        f"radius: {{listen: '127.0.0.1:{port}'}}\n"
    )
    exe = Path(sys.executable).parent / "netmon"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "netmon.cli"]
    log = open(work / "netmon.log", "w")  # noqa: SIM115 - the server writes it until it stops
    proc = subprocess.Popen([*cmd, "--config", str(config), "run"], stdout=subprocess.DEVNULL, stderr=log, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        probe = codec.encode_request([(codec.ACCT_STATUS_TYPE, codec.ACCOUNTING_ON)], SECRET, 0)
        wait_udp_answer(port, probe)
        cpu0 = cpu_seconds(proc.pid)
        result = send_all(port, phases, window, verify=True)
        result["server_cpu_s"] = cpu_seconds(proc.pid) - cpu0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()
    db = sqlite3.connect(work / "bench.db")
    sessions = db.execute("SELECT count(*), sum(stop IS NOT NULL), sum(input_octets) FROM radius_sessions").fetchone()
    counts = dict(db.execute("SELECT type || '/' || result, count FROM radius_packets").fetchall())
    db.close()
    result["stored_sessions"], result["stopped_sessions"] = sessions[0], sessions[1]
    result["stored_ok"] = sum(v for k, v in counts.items() if k.endswith("/ok") and not k.startswith("accounting"))
    result["counts"] = counts
    return result


def run_bare(phases, window: int) -> dict:
    port = lab_mod.free_udp_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        wait_udp_answer(port, b"\x04\x00\x00\x14" + bytes(16))
        cpu0 = cpu_seconds(proc.pid)
        result = send_all(port, phases, window, verify=False)
        result["server_cpu_s"] = cpu_seconds(proc.pid) - cpu0
    finally:
        proc.kill()
        proc.wait(10)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=20_000, help="sessions (3 packets each; default 20000)")
    p.add_argument("--window", type=int, default=256, help="requests in flight (default 256, 64 per socket)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args(argv)
    phases = build_packets(args.sessions)
    work = Path(tempfile.mkdtemp(prefix="netmon-bench-radius-"))
    try:
        print(f"bench: {3 * args.sessions} packets, window {args.window}, in {work}", file=sys.stderr)
        bare = run_bare(phases, args.window)
        netmon = run_netmon(work, phases, args.window)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    checks = []
    total = 3 * args.sessions
    if netmon["answered"] != total or netmon["lost"]:
        checks.append(f"netmon answered {netmon['answered']} of {total} ({netmon['lost']} lost)")
    if netmon["stored_sessions"] != args.sessions or netmon["stopped_sessions"] != args.sessions:
        checks.append(f"netmon stored {netmon['stored_sessions']} sessions, {netmon['stopped_sessions']} stopped")
    if netmon["stored_ok"] != total:
        checks.append(f"netmon counted {netmon['stored_ok']} of {total} packets as stored")
    if netmon["rate"] < TARGET:
        checks.append(f"netmon {netmon['rate']:.0f} packets/s is under the {TARGET:.0f} target")
    ratio = netmon["rate"] / bare["rate"] if bare["rate"] else 0.0
    doc = {"config": vars(args), "netmon": netmon, "bare": bare, "ratio": ratio, "warnings": checks}
    if args.json:
        print(json.dumps(doc, indent=1, default=str))
    else:
        head = ("server", "packets/s", "wall s", "answered", "lost", "retrans", "CPU us/pkt")
        print("{:8} {:>10} {:>8} {:>9} {:>5} {:>8} {:>11}".format(*head))
        for name, r in (("netmon", netmon), ("bare", bare)):
            us = r["server_cpu_s"] / max(1, r["answered"]) * 1e6
            print(f"{name:8} {r['rate']:10.0f} {r['wall_s']:8.2f} {r['answered']:9d} {r['lost']:5d} "
                  f"{r['retransmitted']:8d} {us:11.1f}")  # fmt: skip
        print(f"ratio netmon/bare: {ratio:.2f}   "
              f"(target: netmon >= {TARGET:.0f} packets/s, every packet answered and stored)")  # fmt: skip
        print(f"netmon stored {netmon['stored_sessions']} sessions ({netmon['stopped_sessions']} stopped); "
              f"packets counted stored: {netmon['stored_ok']}")  # fmt: skip
        for c in checks:
            print(f"WARNING: {c}")
    return 1 if checks else 0


if __name__ == "__main__":
    sys.exit(main())

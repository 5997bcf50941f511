"""The lab's accounting stream: it follows the simulated controller, and one visit is one device in both sources."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import urllib.request
from collections import Counter

import pytest

from collectors.radius import codec
from netmon import config as config_mod
from netmon import lab as lab_mod
from netmon import secrets as secrets_mod
from netmon.lab.radius_nas import AccountingStream
from netmon.lab.wlc_agent import ControllerModel
from netmon.store import Store
from tests.conftest import VENV_BIN
from tests.radius_peers import AccountingServer

pytestmark = pytest.mark.integration


def test_stream_follows_the_controller_model():
    model = ControllerModel("wlc-test", ["library", "arena"], aps_per_site=5, people=900, slot=30.0)
    stream = AccountingStream(model, ("127.0.0.1", 9), b"lab-secret", interim=30.0)
    aps = {bytes(ap[0]).hex("-").upper() for ap in model.aps()}
    statuses: Counter = Counter()
    realms, ended, gigawords = set(), 0, 0
    t0 = 1_800_000_000.0
    for step in range(720):  # one hour, every 5 s
        now = t0 + step * 5
        before = {s.session_id for s in stream.active.values()}
        packets = stream.step(now)
        ended += len(before - {s.session_id for s in stream.active.values()})
        present = {bytes(c["mac"]).hex("-").upper(): c for c in model.clients(now) if c["wlan"] == 2}
        for p in packets:
            r = codec.decode_accounting(codec.parse(p), "wlc-test", now)
            assert codec.verify_request(p, b"lab-secret")
            statuses[r.status_name] += 1
            ap, ssid = r.called_station.rsplit(":", 1)
            assert ap in aps and ssid == "eduroam"
            if r.status != codec.STOP:  # who is reported is there, on that AP
                c = present[r.calling_station]
                assert bytes(c["ap"]).hex("-").upper() == ap and c["user"] == r.user_name
            realms.add(r.user_name.rsplit("@", 1)[1])
            gigawords += (r.output_octets or 0) >= 2**32
    assert statuses["start"] > 20 and statuses["interim-update"] > statuses["start"]
    assert 0 < statuses["stop"] < ended  # some sessions never send their Stop
    assert len(realms) >= 4 and gigawords > 0


def test_the_9800s_stream_uses_ios_xe_session_ids_and_its_own_source():
    model = ControllerModel("wlc-9800", ["library"], aps_per_site=4, people=300, kind="c9800", block=1, seed="c")
    stream = AccountingStream(model, ("127.0.0.1", 9), b"s", source="127.0.0.2")
    packets = [codec.decode_accounting(codec.parse(p), "wlc-9800", T) for T in [1_800_000_000.0]
               for p in stream.step(T)]  # fmt: skip
    assert packets and {r.status_name for r in packets} == {"start"}
    for r in packets:
        assert len(r.session_id) == 8 and int(r.session_id, 16) > 0  # a hex counter: no MAC in it
        assert r.nas_ip == "127.0.0.2" and r.nas_identifier == "wlc-9800"


def test_a_visit_seen_by_controller_and_accounting_has_one_client_pseudonym(lab, tmp_path):
    """Issue 5 item 3: the controller's session and the RADIUS session of one eduroam visit share the client
    pseudonym, the site and overlapping times, so usage views can count the visit once; for both controllers
    that send accounting (wlc-city from 127.0.0.1, wlc-9800 from 127.0.0.2), each its own declared NAS."""
    from netmon.poller import Poller
    from netmon.scheduler import poll_all

    cfg = config_mod.load(lab.config_path, environ={}, db=str(tmp_path / "n.db"))
    secrets = secrets_mod.load(lab.secrets_path)
    store = Store(cfg.db)
    import inventory

    store.import_inventory(inventory.load(lab.inventory_path, snmp_profiles=set(secrets.snmp)))
    store.close()
    # The lab declares each controller as its own RADIUS client, under its hostname, at its own source address.
    assert {n: str(d.network) for n, d in secrets.radius.items()} == {"wlc-city": "127.0.0.1/32",
                                                                      "wlc-9800": "127.0.0.2/32"}  # fmt: skip
    models = [lab.wlc_model(name) for name in lab_mod.RADIUS_SOURCES]
    wlcs = [d for d in Store(cfg.db, readonly=True).devices() if d.hostname in lab_mod.RADIUS_SOURCES]
    # Poll and stream within one model slot, so both sources see the same people.
    while time.time() % models[0].slot > models[0].slot - 10:
        time.sleep(0.5)

    async def scenario():
        async with AccountingServer(cfg.db, nases=list(secrets.radius.values()), key=secrets.privacy) as server:
            results = await poll_all(Poller(cfg, secrets), server.store, wlcs)
            assert all(r.wlc is not None and not r.errors for r in results), [r.errors for r in results]
            for model in models:
                source = lab_mod.RADIUS_SOURCES[model.hostname]
                secret = lab.nas_secrets[model.hostname].encode()
                stream = AccountingStream(model, ("127.0.0.1", server.port), secret, source=source)
                packets = stream.step(time.time())
                answered = await asyncio.to_thread(stream.send, packets)
                stream.stop()
                assert answered == len(packets) > 0, model.hostname
            await server.listener.drain()

    asyncio.run(scenario())
    reader = Store(cfg.db, readonly=True)
    wifi = {
        r["client"]: dict(r)
        for r in reader.conn.execute(
            "SELECT s.*, d.hostname AS controller FROM wifi_sessions s JOIN devices d ON d.id = s.controller_id "
            "WHERE s.ssid = 'eduroam'"
        )
    }
    radius = {r["client"]: r for r in reader.radius_sessions()}
    reader.close()
    assert {r["nas"] for r in radius.values()} == {"wlc-city", "wlc-9800"}
    assert {r["sender"] for r in radius.values()} == {"127.0.0.1", "127.0.0.2"}
    assert radius and set(radius) == set(wifi)
    for client, r in radius.items():
        w = wifi[client]
        assert r["nas"] == w["controller"]  # the visit is one client of one controller in both sources
        assert r["site"] in lab.wlc_model(r["nas"]).sites
        assert r["eduroam"] == 1 and r["site_id"] is not None and r["site_id"] == w["site_id"]
        assert r["realm"] == w["realm"] and r["user"] == w["user"]
        slot = models[0].slot
        assert r["start"] <= w["last_seen"] + slot and w["start"] <= r["last_update"] + slot


def test_demo_streams_accounting_into_netmon_run(lab, tmp_path):
    """`netmon run` on the lab config listens for the controllers' accounting; sessions and metrics follow,
    per NAS (wlc-city and wlc-9800), with the eduroam proxy's F-Ticks for both."""
    port = lab_mod.free_tcp_port()
    started = time.time()
    run = subprocess.Popen(
        [str(VENV_BIN / "netmon"), "--config", str(lab.config_path), "--db", str(tmp_path / "n.db"), "run",
         "--listen", f"127.0.0.1:{port}", "--duration", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    nas = lab_mod.RadiusNas(lab, tick=1.0).start()
    try:
        body, deadline = "", time.monotonic() + 40
        while time.monotonic() < deadline:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
                    body = resp.read().decode()
            except OSError:
                continue
            if (
                body.count("netmon_eduroam_sessions_active{") >= 4
                and 'netmon_radius_packets_total{result="ok",type="accounting-on"} 2.0' in body
                and 'nas="wlc-9800"' in body
            ):
                break
        assert 'netmon_radius_packets_total{result="ok",type="start"}' in body, body[-3000:]
        assert 'netmon_radius_packets_total{result="ok",type="accounting-on"} 2.0' in body  # one per NAS
        assert 'netmon_radius_sessions_active{ssid="eduroam"}' in body
        for name in ("wlc-city", "wlc-9800"):
            assert f'netmon_radius_last_packet_timestamp_seconds{{nas="{name}"}}' in body, name
        assert body.count("netmon_eduroam_sessions_active{") >= 4  # several realms
        assert len(nas.streams) == 2 and all(s.unanswered == 0 and s.answered > 0 for s in nas.streams)
    finally:
        nas.stop()
        run.send_signal(signal.SIGTERM)
        out, _ = run.communicate(timeout=20)
    assert run.returncode == 0, out
    reader = Store(tmp_path / "n.db", readonly=True)
    rows = reader.radius_sessions()
    visitors = {r["visinst"] for r in reader.conn.execute("SELECT DISTINCT visinst FROM fticks_events")}
    reader.close()
    assert rows and all(r["client"] and r["realm"] for r in rows)
    assert Counter((r["nas"], r["sender"]) for r in rows).keys() == {("wlc-city", "127.0.0.1"),
                                                                     ("wlc-9800", "127.0.0.2")}  # fmt: skip
    assert visitors == {"wlc-city.city.example", "wlc-9800.city.example"}  # F-Ticks of both controllers' logins
    # Nothing about the simulated visitors reaches the database or the logs.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*")) + out.encode() + body.encode()
    for model in lab.wlc_models():
        for t in range(int(started) - 30, int(time.time()) + 30, int(model.slot)):
            for c in model.clients(float(t)):
                if c["user"]:
                    assert c["user"].encode() not in raw and bytes(c["mac"]).hex("-").upper().encode() not in raw
                    assert bytes(c["mac"]).hex(":").encode() not in raw  # as in the AireOS Acct-Session-Id


def test_netmon_demo_sends_accounting(tmp_path):
    """`netmon demo` itself: both lab controllers' accounting reaches netmon's listener; NAS secrets stay out."""
    port = lab_mod.free_tcp_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "netmon"), "demo", "--dir", str(tmp_path / "lab"), "--sites", "2", "--interval", "5",
         "--listen", f"127.0.0.1:{port}", "--duration", "40"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    body = ""
    try:
        deadline = time.monotonic() + 35
        both_on = 'netmon_radius_packets_total{result="ok",type="accounting-on"} 2.0'
        while time.monotonic() < deadline and (
            body.count("netmon_eduroam_sessions_active{") < 3 or both_on not in body
        ):
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                    body = resp.read().decode()
            except OSError:
                pass
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert (
        "wlc-city (from 127.0.0.1) and wlc-9800 (from 127.0.0.2) send RADIUS accounting for their eduroam visitors"
        in out
    ), out
    assert body.count("netmon_eduroam_sessions_active{") >= 3, body[-2000:]
    assert 'netmon_radius_packets_total{result="ok",type="accounting-on"} 2.0' in body
    declared = secrets_mod.load(tmp_path / "lab" / "secrets.yml").radius
    assert set(declared) == {"wlc-city", "wlc-9800"}
    stored = b"".join(p.read_bytes() for p in (tmp_path / "lab").glob("netmon.db*"))
    for nas in declared.values():
        secret = nas.secret.decode()
        assert secret.encode() not in stored and secret not in out and secret not in body

"""/metrics over HTTP: only its paths answer; TLS and basic auth from an exporter-toolkit web configuration, scraped
by a real Prometheus; a bad web configuration stops `netmon run` before anything is written."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exporters import web
from exporters.prometheus import serve
from netmon import lab as lab_mod
from netmon.config import ConfigError, RadiusSettings
from netmon.store import Store
from tests.conftest import require_tool, run_netmon


def _get(url: str, auth: tuple[str, str] | None = None, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url)  # noqa: S310 - http(s) to our own loopback servers
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5, context=context) as resp:  # noqa: S310 - our own server
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "netmon.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "netmon.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / "netmon.crt"


def _web_config(tmp_path, password: str) -> object:
    ca = _certificate(tmp_path)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)
    path = tmp_path / "web.yml"
    path.write_text(
        f"tls_server_config:\n  cert_file: netmon.crt\n  key_file: netmon.key\nbasic_auth_users:\n  prom: '{hashed}'\n"
    )
    return path, ca


def test_only_the_metrics_and_health_paths_answer(tmp_path):
    Store(tmp_path / "n.db").close()
    port = lab_mod.free_tcp_port()
    server, _ = serve(tmp_path / "n.db", "127.0.0.1", port)
    try:
        assert _get(f"http://127.0.0.1:{port}/metrics")[0] == 200
        assert _get(f"http://127.0.0.1:{port}/-/healthy") == (200, b"OK\n")
        for path in ("/", "/foo", "/metrics/x", "/favicon.ico"):
            status, body = _get(f"http://127.0.0.1:{port}{path}")
            assert status == 404 and b"netmon_" not in body
    finally:
        server.shutdown()


def test_tls_and_basic_auth(tmp_path):
    Store(tmp_path / "n.db").close()
    path, ca = _web_config(tmp_path, "scrape-secret-9")
    config = web.load(path)
    assert config.tls and set(config.users) == {"prom"} and "scrape-secret" not in repr(config)
    port = lab_mod.free_tcp_port()
    server, _ = serve(tmp_path / "n.db", "127.0.0.1", port, web=config)
    context = ssl.create_default_context(cafile=str(ca))
    url = f"https://127.0.0.1:{port}/metrics"
    try:
        assert _get(url, ("prom", "scrape-secret-9"), context)[0] == 200
        assert _get(url, ("prom", "wrong"), context)[0] == 401
        assert _get(url, ("nobody", "scrape-secret-9"), context)[0] == 401
        assert _get(url, None, context)[0] == 401
        assert _get(f"https://127.0.0.1:{port}/-/healthy", None, context)[0] == 401
        with pytest.raises(OSError):
            _get(f"http://127.0.0.1:{port}/metrics", ("prom", "scrape-secret-9"))  # plain HTTP to a TLS port
    finally:
        server.shutdown()


def test_a_real_prometheus_scrapes_over_tls_with_basic_auth(tmp_path):
    prometheus = require_tool("prometheus")
    Store(tmp_path / "n.db").close()
    path, ca = _web_config(tmp_path, "scrape-secret-9")
    port, prom_port = lab_mod.free_tcp_port(), lab_mod.free_tcp_port()
    server, _ = serve(tmp_path / "n.db", "127.0.0.1", port, web=web.load(path))
    (tmp_path / "prometheus.yml").write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "netmon",
                        "scheme": "https",
                        "tls_config": {"ca_file": str(ca)},
                        "basic_auth": {"username": "prom", "password": "scrape-secret-9"},
                        "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                    }
                ],
            }
        )
    )
    proc = subprocess.Popen(
        [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        health = None
        for _ in range(100):
            time.sleep(0.2)
            try:
                status, body = _get(f"http://127.0.0.1:{prom_port}/api/v1/targets")
            except OSError:
                continue
            targets = json.loads(body)["data"]["activeTargets"] if status == 200 else []
            health = targets[0]["health"] if targets else None
            if health == "up":
                break
        assert health == "up"
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)
        server.shutdown()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("basic_auth_users:\n  prom: plaintext\n", "basic_auth_users.prom: not a bcrypt hash"),
        (
            "basic_auth_users:\n  prom: $2b$31$" + "a" * 53 + "\n",  # days of hashing: refused before any
            "basic_auth_users.prom: bcrypt cost 31 is over 14: every scrape would pay it (htpasswd -nBC 10 USER "
            "makes a cost-10 hash)",
        ),
        ("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n", "is not a readable file"),
        ("tls_server_config:\n  certfile: x\n", "unknown settings ['certfile']"),
        ("something: else\n", "expected tls_server_config and/or basic_auth_users"),
    ],
)
def test_a_bad_web_configuration_stops_run_before_anything_is_written(tmp_path, text, problem):
    (tmp_path / "web.yml").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(problem)):
        web.load(tmp_path / "web.yml")
    (tmp_path / "inventory.yml").write_text(
        "sites:\n  - {name: hall, kind: city-hall}\ndevices:\n  - {hostname: sw1, address: 127.0.0.1, site: hall, "
        "role: switch}\n"
    )
    (tmp_path / "netmon.yml").write_text(
        f"db: n.db\ninventory: inventory.yml\nlisten: 127.0.0.1:{lab_mod.free_tcp_port()}\n"
    )
    r = run_netmon("--config", str(tmp_path / "netmon.yml"), "run", "--web-config", str(tmp_path / "web.yml"))
    assert r.returncode == 2 and problem in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "n.db").exists()


def _accounting_config(tmp_path, radius_port: int, nas: str) -> object:
    secrets = tmp_path / "secrets.yml"
    fd = os.open(secrets, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(
        fd,
        f"privacy: {{key: web-test-key-0123456789}}\nradius:\n  wlc: {{address: {nas}, secret: s3cret-x}}\n".encode(),
    )
    os.close(fd)
    config = tmp_path / "netmon.yml"
    config.write_text(
        f"db: n.db\nsecrets: {secrets}\nlisten: 127.0.0.1:{lab_mod.free_tcp_port()}\n"
        f"radius: {{listen: '127.0.0.1:{radius_port}'}}\n"
    )
    return config


def test_listeners_bind_loopback_unless_asked_and_say_so(tmp_path):
    assert RadiusSettings().listen.startswith("127.0.0.1:")
    config = _accounting_config(tmp_path, lab_mod.free_udp_port(), "192.0.2.0/28")
    r = run_netmon("--config", str(config), "run", "--duration", "1")
    assert r.returncode == 0, r.stderr
    assert "/metrics (loopback only)" in r.stderr and "AccountingListener on udp 127.0.0.1:" in r.stderr
    assert "warning: radius.listen 127.0.0.1:" in r.stderr and "'wlc' sends from 192.0.2.0/28" in r.stderr


def test_a_udp_port_in_use_stops_run_before_the_database(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        config = _accounting_config(tmp_path, port, "127.0.0.1")
        r = run_netmon("--config", str(config), "run", "--duration", "1")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"radius: cannot listen on udp 127.0.0.1:{port}: Address already in use" in r.stderr
    assert not (tmp_path / "n.db").exists()

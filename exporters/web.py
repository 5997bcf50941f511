"""The HTTP side of ``/metrics``: only the metrics and a health path answer; optional TLS and basic auth.

The web configuration file is the one Prometheus exporters use (the
exporter-toolkit format, ``--web.config.file``), so the same file and the
same ``promtool``-generated bcrypt hashes serve netmon::

    tls_server_config:
      cert_file: /etc/netmon/tls/netmon.crt
      key_file: /etc/netmon/tls/netmon.key
      client_ca_file: /etc/netmon/tls/ca.crt     # optional: clients must present a certificate it signed
      min_version: TLS12                         # TLS12 (default) or TLS13
    basic_auth_users:
      prometheus: $2y$10$...                     # bcrypt (htpasswd -nBC 10 prometheus)

Paths: ``/metrics`` (the exposition, gzip when asked) and ``/-/healthy``
("OK", for load balancers and probes); anything else is 404. Basic auth,
when users are configured, covers both. A failed login waits as long as a
successful one (bcrypt), and says nothing about which part was wrong.
"""

from __future__ import annotations

import base64
import binascii
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import bcrypt
import yaml
from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from netmon.config import ConfigError
from netmon.files import MAX_SETTINGS_BYTES, FileProblem, check_yaml_depth, read_text

PATHS = ("/metrics", "/-/healthy")
TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
# A hash to check unknown users against, so a wrong user name costs what a wrong password does.
_DUMMY_HASH = bcrypt.hashpw(b"netmon-no-such-user", bcrypt.gensalt(rounds=10))


@dataclass(frozen=True)
class WebConfig:
    cert_file: Path | None = None
    key_file: Path | None = None
    client_ca_file: Path | None = None
    min_version: str = "TLS12"
    users: dict[str, bytes] = field(default_factory=dict, repr=False)  # name -> bcrypt hash

    @property
    def tls(self) -> bool:
        return self.cert_file is not None

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = TLS_VERSIONS[self.min_version]
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        if self.client_ca_file is not None:
            context.load_verify_locations(str(self.client_ca_file))
            context.verify_mode = ssl.CERT_REQUIRED
        return context


def load(path: str | Path) -> WebConfig:
    """The web configuration file; :class:`ConfigError` naming the file and what is wrong (never a hash)."""
    path = Path(path)
    try:
        text = read_text(path, MAX_SETTINGS_BYTES)
        check_yaml_depth(text)
        doc = yaml.safe_load(text) or {}
    except FileProblem as exc:
        raise ConfigError(exc.where(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"{path}:{mark.line + 1 if mark else 1}: bad YAML") from None
    if not isinstance(doc, dict) or set(doc) - {"tls_server_config", "basic_auth_users", "http_server_config"}:
        raise ConfigError(f"{path}: expected tls_server_config and/or basic_auth_users (exporter-toolkit format)")
    tls = doc.get("tls_server_config") or {}
    users = doc.get("basic_auth_users") or {}
    if not isinstance(tls, dict) or not isinstance(users, dict):
        raise ConfigError(f"{path}: tls_server_config and basic_auth_users must be mappings")
    unknown = set(tls) - {"cert_file", "key_file", "client_ca_file", "min_version", "client_auth_type"}
    if unknown:
        raise ConfigError(f"{path}: tls_server_config: unknown settings {sorted(unknown)}")

    def file(key: str) -> Path | None:
        if not tls.get(key):
            return None
        found = Path(str(tls[key]))
        found = found if found.is_absolute() else path.parent / found
        if not found.is_file():
            raise ConfigError(f"{path}: tls_server_config.{key}: {found} is not a readable file")
        return found

    cert, key = file("cert_file"), file("key_file")
    if (cert is None) != (key is None):
        raise ConfigError(f"{path}: tls_server_config needs both cert_file and key_file")
    version = str(tls.get("min_version", "TLS12"))
    if version not in TLS_VERSIONS:
        raise ConfigError(f"{path}: tls_server_config.min_version: one of {', '.join(TLS_VERSIONS)}")
    hashes = {}
    for name, hashed in users.items():
        hashed = str(hashed).encode()
        if not hashed.startswith((b"$2a$", b"$2b$", b"$2y$")):
            raise ConfigError(f"{path}: basic_auth_users.{name}: not a bcrypt hash")
        hashes[str(name)] = b"$2b$" + hashed[4:] if hashed.startswith(b"$2y$") else hashed
    config = WebConfig(cert, key, file("client_ca_file"), version, hashes)
    if config.tls:
        try:
            config.ssl_context()
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"{path}: tls_server_config: cannot use the certificate or key ({exc})") from None
    return config


def guarded(app: Callable, config: WebConfig | None) -> Callable:
    """``app`` (the exposition) behind the path filter and, when users are configured, basic auth."""
    users = config.users if config else {}

    def wsgi(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in PATHS:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"404: netmon serves /metrics and /-/healthy\n"]
        if users and not _authorised(environ.get("HTTP_AUTHORIZATION", ""), users):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain; charset=utf-8"), ("WWW-Authenticate", 'Basic realm="netmon"')],
            )
            return [b"401: unauthorized\n"]
        if path == "/-/healthy":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"OK\n"]
        return app(environ, start_response)

    return wsgi


def _authorised(header: str, users: dict[str, bytes]) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    hashed = users.get(user)
    ok = bcrypt.checkpw(password.encode(), hashed if hashed is not None else _DUMMY_HASH)
    return ok and hashed is not None


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:
        pass  # one line per scrape would drown netmon's own log


def serve(registry, host: str, port: int, config: WebConfig | None = None):
    """The exposition of ``registry`` on ``host:port`` from a background thread; returns (server, thread)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("MetricsServer", (ThreadingWSGIServer,), {"address_family": family})
    server = make_server(host, port, guarded(make_wsgi_app(registry), config), server_class, handler_class=_Quiet)
    if config is not None and config.tls:
        # The handshake happens in the request's own thread: a client that never completes one holds no one up.
        server.socket = config.ssl_context().wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, name="netmon-metrics", daemon=True)
    thread.start()
    return server, thread

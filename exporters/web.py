"""The HTTP side of ``/metrics``: only the metrics and a health path answer; optional TLS and basic auth.

The web configuration file is the one Prometheus exporters use (the
exporter-toolkit format, ``--web.config.file``), so the same file and the
same bcrypt hashes (``htpasswd -nBC 10 NAME``) serve netmon::

    tls_server_config:
      cert_file: /etc/netmon/tls/netmon.crt
      key_file: /etc/netmon/tls/netmon.key
      client_ca_file: /etc/netmon/tls/ca.crt     # optional, with client_auth_type:
      client_auth_type: RequireAndVerifyClientCert  # or VerifyClientCertIfGiven, NoClientCert
      min_version: TLS12                         # TLS12 (default) or TLS13
    basic_auth_users:
      prometheus: $2y$10$...                     # bcrypt (htpasswd -nBC 10 prometheus)

Paths: ``/metrics`` (the exposition, gzip when asked) and ``/-/healthy``
("OK", for load balancers and probes); anything else is 404. Basic auth,
when users are configured, covers both. A failed login waits as long as a
successful one (bcrypt), and says nothing about which part was wrong.
A request gets 10 s to arrive whole, at most :data:`MAX_CONNECTIONS` are
served at once (the others are closed at once), and a client that fails
its TLS handshake is logged in one line, at most once a minute.

``client_auth_type`` RequestClientCert and RequireAnyClientCert (a client
certificate asked for but not verified) have no equivalent in Python's TLS
and are refused rather than read as something weaker.
"""

from __future__ import annotations

import base64
import binascii
import logging
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import bcrypt
from prometheus_client.exposition import ThreadingWSGIServer

from netmon.config import ConfigError
from netmon.files import FileProblem, read_settings
from netmon.limits import LogLimiter

PATHS = ("/metrics", "/-/healthy")
TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
MAX_CONNECTIONS = 32  # scrapes at once: Prometheus sends one per target and interval
REQUEST_TIMEOUT = 10.0  # seconds for a request to arrive whole
# bcrypt's cost is a power of two, paid on every scrape (and once at load): 12 takes about 0.25 s here, 31 would
# take days and hang `netmon run` while it checks the file. Prometheus' own guidance is 10.
MAX_BCRYPT_COST = 14
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebConfig:
    cert_file: Path | None = None
    key_file: Path | None = None
    client_ca_file: Path | None = None
    client_auth: ssl.VerifyMode = ssl.CERT_NONE
    min_version: str = "TLS12"
    users: dict[str, bytes] = field(default_factory=dict, repr=False)  # name -> bcrypt hash
    # checked for an unknown user, at the configured cost, so a wrong name costs what a wrong password does
    dummy: bytes = field(default=b"", repr=False)

    @property
    def tls(self) -> bool:
        return self.cert_file is not None

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = TLS_VERSIONS[self.min_version]
        context.load_cert_chain(str(self.cert_file), str(self.key_file), password=_no_password)
        if self.client_ca_file is not None:
            context.load_verify_locations(str(self.client_ca_file))
        context.verify_mode = self.client_auth
        return context


def _no_password() -> bytes:
    """An encrypted key would make OpenSSL ask on the terminal; a service has nobody there."""
    raise ssl.SSLError("the key is encrypted: give netmon an unencrypted key file (mode 0600)")


def load(path: str | Path) -> WebConfig:
    """The web configuration file; :class:`ConfigError` naming the file and what is wrong (never a hash)."""
    path = Path(path)
    try:
        doc = read_settings(path)
    except FileProblem as exc:
        raise ConfigError(exc.where(path)) from None
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
    client_ca = file("client_ca_file")
    auth_type = str(tls.get("client_auth_type") or ("RequireAndVerifyClientCert" if client_ca else "NoClientCert"))
    if auth_type not in CLIENT_AUTH:
        raise ConfigError(
            f"{path}: tls_server_config.client_auth_type: one of {', '.join(CLIENT_AUTH)} (RequestClientCert and "
            "RequireAnyClientCert, which do not verify the certificate, are not offered)"
        )
    if CLIENT_AUTH[auth_type] != ssl.CERT_NONE and client_ca is None:
        raise ConfigError(f"{path}: tls_server_config.client_auth_type {auth_type} needs a client_ca_file")
    if (client_ca is not None or auth_type != "NoClientCert") and cert is None:
        raise ConfigError(f"{path}: client certificates need TLS: give cert_file and key_file")
    hashes, cost = {}, 4
    for name, hashed in users.items():
        hashed = str(hashed).encode()
        if hashed.startswith(b"$2y$"):
            hashed = b"$2b$" + hashed[4:]  # htpasswd's spelling of the same algorithm
        try:
            if not hashed.startswith((b"$2a$", b"$2b$")) or not hashed[4:6].isdigit() or hashed[6:7] != b"$":
                raise ValueError
            if int(hashed[4:6]) > MAX_BCRYPT_COST:
                raise ConfigError(
                    f"{path}: basic_auth_users.{name}: bcrypt cost {int(hashed[4:6])} is over {MAX_BCRYPT_COST}: "
                    "every scrape would pay it (htpasswd -nBC 10 USER makes a cost-10 hash)"
                )
            bcrypt.checkpw(b"", hashed)
            cost = max(cost, int(hashed[4:6]))
        except ValueError:
            raise ConfigError(f"{path}: basic_auth_users.{name}: not a bcrypt hash") from None
        hashes[str(name)] = hashed
    dummy = bcrypt.hashpw(b"netmon-no-such-user", bcrypt.gensalt(rounds=cost)) if hashes else b""
    config = WebConfig(cert, key, client_ca, CLIENT_AUTH[auth_type], version, hashes, dummy)
    if config.tls:
        try:
            config.ssl_context()
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"{path}: tls_server_config: cannot use the certificate or key ({exc})") from None
    return config


def guarded(app: Callable, config: WebConfig | None) -> Callable:
    """``app`` (the exposition) behind the path filter and, when users are configured, basic auth."""
    users = config.users if config else {}
    dummy = config.dummy if config else b""

    def wsgi(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in PATHS:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"404: netmon serves /metrics and /-/healthy\n"]
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain; charset=utf-8"), ("Allow", "GET")])
            return [b"405: GET\n"]
        if users and not _authorised(environ.get("HTTP_AUTHORIZATION", ""), users, dummy):
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


def _authorised(header: str, users: dict[str, bytes], dummy: bytes) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    hashed = users.get(user)
    try:
        ok = bcrypt.checkpw(password.encode(), hashed if hashed is not None else dummy)
    except ValueError:  # a password over bcrypt's 72 bytes: not one of ours
        return False
    return ok and hashed is not None


class _Quiet(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT  # a client that opens a connection and says nothing holds a thread this long at most

    def log_message(self, format, *args) -> None:
        pass  # one line per scrape would drown netmon's own log


class _Server(ThreadingWSGIServer):
    """At most MAX_CONNECTIONS requests in flight; failed handshakes and broken clients logged in one line."""

    def __init__(self, *args, **kwargs) -> None:
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.logged = LogLimiter()
        self.on_shutdown: list[Callable[[], None]] = []  # what else stops with the server (the exporter's warmer)
        super().__init__(*args, **kwargs)

    def shutdown(self) -> None:
        for stop in self.on_shutdown:
            stop()
        super().shutdown()

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # busy: the client retries at its next scrape
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if self.logged.allow(client_address[0], time.time()):
            log.warning("metrics: %s: %s (at most once a minute per client)", client_address[0], exc or "error")


def serve(app: Callable, host: str, port: int, config: WebConfig | None = None):
    """``app`` (the exposition's WSGI app) on ``host:port`` from a background thread; returns (server, thread)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("MetricsServer", (_Server,), {"address_family": family})
    server = make_server(host, port, guarded(app, config), server_class, handler_class=_Quiet)
    if config is not None and config.tls:
        # The handshake happens in the request's own thread: a client that never completes one holds no one up.
        server.socket = config.ssl_context().wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, name="netmon-metrics", daemon=True)
    thread.start()
    return server, thread

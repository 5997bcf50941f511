"""The lab controller's RADIUS accounting: Start, Interim-Update and Stop for its eduroam clients.

A real controller sends accounting for its 802.1X (eduroam) clients to the
RADIUS server (Acct-Session-Id in Cisco AireOS's form, which holds the
client's MAC: ``5c8a1b2e/00:11:22:33:44:55/123``; a Catalyst 9800's is a hex
counter, ``0000002A``); the lab's is driven by the same model as the simulated SNMP
controller (:class:`netmon.lab.wlc_agent.ControllerModel`, read-only here), so one
visit shows up in both sources with the same MAC, AP and times. A session is
a visitor's stay at one site: Start when the model first shows them there,
an Interim-Update every ``interim`` seconds (with the AP they are on now,
their session time and octets, gigawords included), Stop when they leave,
except that about one session in five never gets its Stop (a controller
reboot, a lost packet) and must time out on netmon's side.

Packets are signed with the NAS secret and sent over UDP to the accounting
server; each is retransmitted until answered (at most ``tries`` times), as
a NAS does.

With ``fticks`` set, the stream also plays the eduroam RADIUS proxy's log:
each Start is preceded by the authentication it follows, an F-Ticks line
(``RESULT=OK``) sent as a syslog datagram; about one visitor in twelve first
fails once (a mistyped password, an expired account: ``RESULT=FAIL``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import random
import socket
import threading
import time
from dataclasses import dataclass

from collectors.radius import codec

log = logging.getLogger(__name__)
EDUROAM_WLAN = 2  # netmon.lab.wlc_agent.SSIDS: 2 is eduroam
FRAMED_POOL = ipaddress.ip_network("100.64.0.0/16")  # RFC 6598 shared space: the controller's client pool


def _h(*parts) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def _dashed(mac: tuple[int, ...]) -> str:
    return "-".join(f"{b:02X}" for b in mac)


@dataclass
class _Session:
    session_id: str
    site: int
    start: float
    last_interim: float
    ap: tuple[int, ...]
    user: str
    mac: tuple[int, ...]
    rate: int  # octets per second, down; a tenth of it up
    sends_stop: bool


class AccountingStream:
    """What the controller's NAS sends, step by step; :meth:`start` runs it against a server in a thread."""

    def __init__(
        self,
        model,
        server: tuple[str, int],
        secret: bytes,
        interim: float = 30.0,
        source: str = "127.0.0.1",
        nas_identifier: str | None = None,
        ssid: str = "eduroam",
        fticks: tuple[str, int] | None = None,
    ):
        self.model, self.server, self.secret = model, server, secret
        self.fticks = fticks
        self.fticks_lines: list[bytes] = []  # syslog datagrams due with the current step's packets
        self.interim, self.source, self.ssid = interim, source, ssid
        self.nas_identifier = nas_identifier or model.hostname
        self.active: dict[tuple[int, ...], _Session] = {}
        self.site_of_ap = {ap[0]: n // model.aps_per_site for n, ap in enumerate(model.aps())}
        self.counter = 0
        self.identifier = random.Random(model.seed).randrange(256)
        self.sent = self.answered = self.unanswered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    # -- what to send ----------------------------------------------------------------------

    def _attrs(self, s: _Session, status: int, now: float, cause: int | None = None) -> list:
        seconds = max(0, int(now - s.start))
        down, up = seconds * s.rate, seconds * s.rate // 10
        person = int.from_bytes(bytes(s.mac[3:]), "big")
        attrs = [
            (codec.ACCT_STATUS_TYPE, status),
            (codec.ACCT_SESSION_ID, s.session_id),
            (codec.USER_NAME, s.user),
            (codec.CALLING_STATION_ID, _dashed(s.mac)),
            (codec.CALLED_STATION_ID, f"{_dashed(s.ap)}:{self.ssid}"),
            (codec.NAS_IP_ADDRESS, socket.inet_aton(self.source)),
            (codec.NAS_IDENTIFIER, self.nas_identifier),
            (codec.FRAMED_IP_ADDRESS, FRAMED_POOL[2 + person % (FRAMED_POOL.num_addresses - 4)].packed),
            (codec.EVENT_TIMESTAMP, int(now)),
            (codec.ACCT_DELAY_TIME, 0),
        ]
        if status != codec.START:
            attrs += [
                (codec.ACCT_SESSION_TIME, seconds),
                (codec.ACCT_INPUT_OCTETS, up & 0xFFFFFFFF),
                (codec.ACCT_INPUT_GIGAWORDS, up >> 32),
                (codec.ACCT_OUTPUT_OCTETS, down & 0xFFFFFFFF),
                (codec.ACCT_OUTPUT_GIGAWORDS, down >> 32),
            ]
        if cause is not None:
            attrs.append((codec.ACCT_TERMINATE_CAUSE, cause))
        return attrs

    def _fticks_line(self, s: _Session, result: str) -> bytes:
        realm = s.user.rsplit("@", 1)[-1]
        line = (f"F-TICKS/eduroam/1.0#REALM={realm}#VISCOUNTRY=CA#VISINST=1{self.nas_identifier}.city.example"
                f"#CSI={_dashed(s.mac)}#RESULT={result}#")  # fmt: skip
        return f"<150>{time.strftime('%b %d %H:%M:%S')} radius-proxy radsecproxy[1]: {line}".encode()

    def _packet(self, attrs: list) -> bytes:
        self.identifier = (self.identifier + 1) % 256
        return codec.encode_request(attrs, self.secret, self.identifier)

    def _session_id(self, mac: tuple[int, ...], now: float) -> str:
        if getattr(self.model, "kind", "aireos") == "c9800":
            return f"{self.counter:08X}"  # IOS-XE's: a hex counter, nothing personal in it
        # Cisco AireOS's: hex, the client's MAC, a counter. Personal data in an id netmon must key sessions
        # by: the lab's stream checks it is stored only as a hash.
        return f"{_h(self.model.seed, mac, now) & 0xFFFFFFFF:08x}/{bytes(mac).hex(':')}/{self.counter}"

    def accounting_on(self) -> bytes:
        attrs = [(codec.ACCT_STATUS_TYPE, codec.ACCOUNTING_ON), (codec.NAS_IP_ADDRESS, socket.inet_aton(self.source)),
                 (codec.NAS_IDENTIFIER, self.nas_identifier), (codec.ACCT_SESSION_ID, "0")]  # fmt: skip
        return self._packet(attrs)

    def step(self, now: float) -> list[bytes]:
        """The packets due at ``now``: Stops for who left (unless this session never sends one), Starts for
        who arrived, Interim-Updates for who stayed ``interim`` seconds since the last."""
        here = {tuple(c["mac"]): c for c in self.model.clients(now) if c["wlan"] == EDUROAM_WLAN}
        out = []
        for mac, s in list(self.active.items()):
            c = here.get(mac)
            if c is None or self.site_of_ap.get(tuple(c["ap"])) != s.site:
                del self.active[mac]
                if s.sends_stop:
                    out.append(self._packet(self._attrs(s, codec.STOP, now, cause=1 if c is None else 2)))
        for mac, c in here.items():
            s = self.active.get(mac)
            if s is None:
                self.counter += 1
                person = int.from_bytes(bytes(mac[3:]), "big")
                s = _Session(
                    session_id=self._session_id(mac, now),
                    site=self.site_of_ap.get(tuple(c["ap"]), -1),
                    start=now,
                    last_interim=now,
                    ap=tuple(c["ap"]),
                    user=c["user"],
                    mac=mac,
                    # one visitor in ten streams video: past 4 GiB within the hour (gigawords)
                    rate=3_000_000 if person % 10 == 0 else 2_000 + _h("rate", person) % 200_000,
                    sends_stop=_h(self.model.seed, "stop", mac, self.counter) % 5 != 0,
                )
                self.active[mac] = s
                if self.fticks is not None:
                    if _h(self.model.seed, "fail", mac, self.counter) % 12 == 0:
                        self.fticks_lines.append(self._fticks_line(s, "FAIL"))
                    self.fticks_lines.append(self._fticks_line(s, "OK"))
                out.append(self._packet(self._attrs(s, codec.START, now)))
                continue
            s.ap = tuple(c["ap"])
            if now - s.last_interim >= self.interim:
                s.last_interim = now
                out.append(self._packet(self._attrs(s, codec.INTERIM_UPDATE, now)))
        return out

    # -- sending ---------------------------------------------------------------------------

    def send(self, packets: list[bytes], timeout: float = 1.0, tries: int = 3) -> int:
        """Send each packet until its answer comes (at most ``tries`` times); returns how many were answered."""
        answered = 0
        for packet in packets:
            if self._stop.is_set():
                break
            answered += self._deliver(packet, timeout, tries)
        self.answered += answered
        self.unanswered += len(packets) - answered
        return answered

    def _socket(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sock.bind((self.source, 0))
        return self._sock

    def _deliver(self, packet: bytes, timeout: float, tries: int) -> bool:
        self._socket()
        for _ in range(tries):
            self.sent += 1
            self._sock.sendto(packet, self.server)
            if self._await_answer(packet, timeout):
                return True
            if self._stop.is_set():
                break
        return False

    def _await_answer(self, packet: bytes, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self._sock.settimeout(left)
            try:
                answer = self._sock.recv(4096)
            except (TimeoutError, OSError):
                return False
            if codec.verify_response(answer, packet, self.secret):
                return True
        return False

    def start(self, tick: float = 5.0) -> AccountingStream:
        def run():
            on = self.accounting_on()
            while not self._stop.is_set() and not self._deliver(on, timeout=1.0, tries=1):
                pass  # the server may still be starting: a NAS repeats Accounting-On until it is answered
            while not self._stop.is_set():
                try:
                    packets = self.step(time.time())
                    lines, self.fticks_lines = self.fticks_lines, []
                    for line in lines:  # syslog: no answer, no retransmission
                        self._socket().sendto(line, self.fticks)
                    self.send(packets)
                except OSError as exc:
                    log.warning("lab RADIUS NAS: %s", exc)
                self._stop.wait(tick)

        self._thread = threading.Thread(target=run, name="radius-nas-sim", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Stop sending, without waiting (several streams then end in parallel, not one after another)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

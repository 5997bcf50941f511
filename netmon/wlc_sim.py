"""A simulated Cisco AireOS Wi-Fi controller for the lab: APs at the city's sites, residents coming and going.

snmpsim replays fixed rows, but Wi-Fi sessions need clients that arrive,
roam between the APs of a site and leave. This agent answers SNMPv2c GET,
GETNEXT and GETBULK on 127.0.0.1 (netmon's own BER codec) from a model that
is a pure function of time: every ``slot`` seconds each of ``people``
simulated residents is either present at one AP or not, decided by a keyed
hash of (person, time), so every run, test and poller sees the same city.
About one in six present clients is an eduroam visitor with a user name at
one of several universities' realms; the rest use the city's open SSID.

It serves the AIRESPACE-WIRELESS-MIB columns netmon's AireOS profile reads
(bsnAPTable, bsnAPIfTable, bsnDot11EssTable, bsnMobileStationTable and its
stats), cLApUpTime, and the system group.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from collectors.snmp import ber

AIREOS_OBJECT_ID = (1, 3, 6, 1, 4, 1, 9, 1, 1279)
REALMS = ("uni.example", "college.example", "polytechnique.example", "med-school.example", "research.example")
SSIDS = {1: "CityWiFi", 2: "eduroam"}
AIRESPACE = (1, 3, 6, 1, 4, 1, 14179, 2)

_IP, _COUNTER32, _GAUGE32, _TIMETICKS, _COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x46


def _unsigned(tag: int, value: int) -> bytes:
    return bytes((tag,)) + ber.encode_integer(value)[1:]  # same octets as INTEGER, unsigned tag


def _octets(value: str | bytes) -> bytes:
    return ber.encode_octets(value.encode() if isinstance(value, str) else value)


def _h(*parts) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def _mac(prefix: int, n: int) -> tuple[int, ...]:
    return (0x00, 0x3A, prefix, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF)


@dataclass
class ControllerModel:
    hostname: str
    sites: Sequence[str]
    aps_per_site: int = 40
    people: int = 3000
    slot: float = 30.0
    seed: str = "city"

    def aps(self) -> list[tuple[tuple[int, ...], str, str]]:
        """(MAC, name, location) of every AP: ap-<site>-<nn>, in the site's building."""
        out = []
        for s, site in enumerate(self.sites):
            for n in range(1, self.aps_per_site + 1):
                mac = _mac(0xA0, s * 1000 + n)
                out.append((mac, f"ap-{site}-{n:02d}", f"{site}, floor {1 + n % 4}"))
        return out

    def clients(self, now: float) -> list[dict]:
        """Who is connected at ``now``: present for stretches of 4 to 40 slots, at a home site, roaming there."""
        aps = self.aps()
        per_site = self.aps_per_site
        t = int(now // self.slot)
        out = []
        for p in range(self.people):
            stretch = 4 + _h(self.seed, "len", p) % 37
            epoch = (t + _h(self.seed, "phase", p) % stretch) // stretch
            if _h(self.seed, "here", p, epoch) % 100 >= 35:  # present about a third of the time
                continue
            site = _h(self.seed, "site", p, epoch) % len(self.sites)
            ap = aps[site * per_site + _h(self.seed, "ap", p, t // 6) % per_site]  # roams every ~3 minutes
            eduroam = _h(self.seed, "edu", p) % 6 == 0
            realm = REALMS[_h(self.seed, "realm", p) % len(REALMS)]
            seconds = (t % stretch + 1) * self.slot
            out.append(
                {
                    "mac": _mac(0xC0, p),
                    "ap": ap[0],
                    "wlan": 2 if eduroam else 1,
                    "user": f"person{p:05d}@{realm}" if eduroam else "",
                    "rssi": -40 - _h(self.seed, "rssi", p, t) % 45,
                    "rx": int(seconds * (2_000 + _h(self.seed, "rx", p) % 50_000)),
                    "tx": int(seconds * (10_000 + _h(self.seed, "tx", p) % 400_000)),
                }
            )
        return out

    def table(self, now: float, uptime_ticks: int) -> list[tuple[tuple[int, ...], bytes]]:
        """Every (OID, encoded value) the agent serves at ``now``, sorted by OID."""
        rows: list[tuple[tuple[int, ...], bytes]] = [
            ((1, 3, 6, 1, 2, 1, 1, 1, 0), _octets("Cisco Controller")),
            ((1, 3, 6, 1, 2, 1, 1, 2, 0), ber.encode_oid(AIREOS_OBJECT_ID)),
            ((1, 3, 6, 1, 2, 1, 1, 3, 0), _unsigned(_TIMETICKS, uptime_ticks)),
            ((1, 3, 6, 1, 2, 1, 1, 5, 0), _octets(self.hostname)),
            ((1, 3, 6, 1, 4, 1, 14179, 1, 1, 1, 3, 0), _octets("AIR-CT5520-K9")),
        ]
        aps = self.aps()
        clients = self.clients(now)
        per_ap: dict[tuple[int, ...], int] = {}
        per_wlan = {1: 0, 2: 0}
        for c in clients:
            per_ap[c["ap"]] = per_ap.get(c["ap"], 0) + 1
            per_wlan[c["wlan"]] += 1
        rows += [
            ((1, 3, 6, 1, 4, 1, 9, 9, 618, 1, 8, 4, 0), _unsigned(_GAUGE32, len(aps))),
            ((1, 3, 6, 1, 4, 1, 9, 9, 618, 1, 8, 15, 0), _unsigned(_GAUGE32, len(clients))),
        ]
        for n, (mac, name, location) in enumerate(aps):
            down = _h(self.seed, "down", n) % 97 == 0  # about one AP in a hundred is down
            ap = AIRESPACE + (2, 1, 1)
            rows += [
                (ap + (3, *mac), _octets(name)),
                (ap + (4, *mac), _octets(location)),
                (ap + (6, *mac), ber.encode_integer(2 if down else 1)),
                (ap + (16, *mac), _octets("AIR-AP3802I-E-K9")),
                (ap + (17, *mac), _octets(f"FGL23{n:05d}")),
                (ap + (19, *mac), bytes((_IP, 4, 127, 30, n // 250, 1 + n % 250))),
                (ap + (37, *mac), ber.encode_integer(1)),
                ((1, 3, 6, 1, 4, 1, 9, 9, 513, 1, 1, 1, 1, 6, *mac), _unsigned(_TIMETICKS, uptime_ticks // 2)),
            ]
            radio = AIRESPACE + (2, 2, 1)
            for slot, kind, channel in ((0, 1, (1, 6, 11)[n % 3]), (1, 2, (36, 44, 100, 149)[n % 4])):
                i = (*mac, slot)
                users = 0 if down else (per_ap.get(mac, 0) + slot) // 2
                rows += [
                    (radio + (2, *i), ber.encode_integer(kind)),
                    (radio + (4, *i), ber.encode_integer(channel)),
                    (radio + (6, *i), ber.encode_integer(1 + n % 3)),
                    (radio + (12, *i), ber.encode_integer(1 if down else 2)),
                    (radio + (15, *i), _unsigned(_COUNTER32, users)),
                    (AIRESPACE + (2, 13, 1, 3, *i), ber.encode_integer(min(100, 5 + 7 * users))),
                ]
        for wlan, ssid in SSIDS.items():
            rows += [
                (AIRESPACE + (1, 1, 1, 2, wlan), _octets(ssid)),
                (AIRESPACE + (1, 1, 1, 38, wlan), _unsigned(_COUNTER32, per_wlan[wlan])),
            ]
        ms, stats = AIRESPACE + (1, 4, 1), AIRESPACE + (1, 6, 1)
        for c in clients:
            m = c["mac"]
            rows += [
                (ms + (3, *m), _octets(c["user"])),
                (ms + (4, *m), _octets(bytes(c["ap"]))),
                (ms + (6, *m), ber.encode_integer(c["wlan"])),
                (ms + (7, *m), _octets(SSIDS[c["wlan"]])),
                (ms + (9, *m), ber.encode_integer(3)),  # associated
                (ms + (25, *m), ber.encode_integer(13)),  # 802.11ax (5 GHz)
                (stats + (1, *m), ber.encode_integer(c["rssi"])),
                (stats + (2, *m), _unsigned(_COUNTER64, c["rx"])),
                (stats + (3, *m), _unsigned(_COUNTER64, c["tx"])),
                (stats + (26, *m), ber.encode_integer(c["rssi"] + 95)),
            ]
        rows.sort()
        return rows


def _response(community: bytes, request_id: int, varbinds: list[tuple[tuple[int, ...], bytes]]) -> bytes:
    encoded = b"".join(ber.encode_sequence(ber.encode_oid(oid) + value) for oid, value in varbinds)
    head = ber.encode_integer(request_id) + ber.encode_integer(0) + ber.encode_integer(0)
    pdu = ber._tlv(ber.RESPONSE, head + ber.encode_sequence(encoded))
    return ber.encode_sequence(ber.encode_integer(1) + ber.encode_octets(community) + pdu)


class _Agent(asyncio.DatagramProtocol):
    def __init__(self, owner: ControllerAgent):
        self.owner = owner

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            msg = ber.decode_message(data)
        except ber.BerError:
            return
        if msg.community != self.owner.model.hostname.encode():
            return  # like an agent: a wrong community gets no answer
        self.transport.sendto(self.owner.answer(msg), addr)


class ControllerAgent:
    """Serves a :class:`ControllerModel` on 127.0.0.1:``port`` from a thread of its own."""

    END = b"\x82\x00"
    MAX_VARBINDS = 64

    def __init__(self, model: ControllerModel, port: int, host: str = "127.0.0.1"):
        self.model, self.port, self.host = model, port, host
        self.started = time.time()
        self._cache: tuple[int, list, list] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def _rows(self):
        t = int(time.time() // self.model.slot)
        if self._cache is None or self._cache[0] != t:
            uptime = int((time.time() - self.started) * 100) + 8_640_000
            rows = self.model.table(time.time(), uptime)
            self._cache = (t, [oid for oid, _ in rows], rows)
        return self._cache[1], self._cache[2]

    def answer(self, msg: ber.Message) -> bytes:
        oids, rows = self._rows()
        out: list[tuple[tuple[int, ...], bytes]] = []

        def next_after(oid):
            i = bisect.bisect_right(oids, oid)
            return rows[i] if i < len(rows) else (oid, self.END)

        if msg.pdu_type == ber.GET:
            for oid, _ in msg.varbinds:
                i = bisect.bisect_left(oids, oid)
                out.append(rows[i] if i < len(oids) and oids[i] == oid else (oid, b"\x81\x00"))  # noSuchInstance
        elif msg.pdu_type == ber.GET_NEXT:
            out = [next_after(oid) for oid, _ in msg.varbinds]
        elif msg.pdu_type == ber.GET_BULK:
            repeat = max(1, min(msg.error_index, 100))  # max-repetitions travels where error-index would
            cursors = [oid for oid, _ in msg.varbinds]
            for _ in range(repeat):
                step = [next_after(c) for c in cursors]
                if len(out) + len(step) > self.MAX_VARBINDS:
                    break
                out += step
                cursors = [oid for oid, _ in step]
        return _response(msg.community, msg.request_id, out)

    def start(self) -> ControllerAgent:
        def run():
            loop = asyncio.new_event_loop()
            self._loop = loop
            transport, _ = loop.run_until_complete(
                loop.create_datagram_endpoint(lambda: _Agent(self), local_addr=(self.host, self.port))
            )
            self._ready.set()
            try:
                loop.run_forever()
            finally:
                transport.close()
                loop.close()

        self._thread = threading.Thread(target=run, name="wlc-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("simulated controller did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = self._thread = None

    def __enter__(self) -> ControllerAgent:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

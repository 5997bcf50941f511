"""Simulated Wi-Fi controllers for the lab: APs at the city's sites, residents coming and going.

snmpsim replays fixed rows, but Wi-Fi sessions need clients that arrive,
roam between the APs of a site and leave. This agent answers SNMPv2c GET,
GETNEXT and GETBULK on 127.0.0.1 (netmon's own BER codec) from a model that
is a pure function of time: every ``slot`` seconds each of ``people``
simulated residents is either present at one AP or not, decided by a keyed
hash of (person, time), so every run, test and poller sees the same city.
About one in six present clients is an eduroam visitor with a user name at
one of several universities' realms; the rest use the city's open SSID.

Two kinds of controller (``ControllerModel.kind``), serving exactly the
columns netmon's profiles read:

* ``aireos``: AIRESPACE-WIRELESS-MIB (bsnAPTable, bsnAPIfTable and its load
  table, bsnDot11EssTable, bsnMobileStationTable and its stats), cLApUpTime,
  clsSysApConnectCount / clsCurrentOnlineUsersCount, agentInventoryMachineModel.
* ``c9800``: a Catalyst 9800-40 on IOS-XE: CISCO-LWAPP-AP-MIB cLApTable
  (name, uptime, admin status, location), cLApExtTable (address),
  cLApGlobalAPConnectCount; CISCO-LWAPP-WLAN-MIB cLWlanConfigTable (profile,
  SSID); CISCO-LWAPP-DOT11-CLIENT-MIB cldcClientTable (status, WLAN profile,
  protocol, AP, user name, SSID) and cldcClientStatisticTable (bytes); plus
  what a 9800 still answers from AIRESPACE and the profile needs there: AP
  model, serial and operation status, the radios (Wi-Fi 6E APs have a third,
  6 GHz one), clients per WLAN, client RSSI/SNR, and bsnMobileStationProtocol,
  the only place an 802.11ax client's protocol is told (cldcClientProtocol
  stops at 802.11ac and says "unknown").

Controllers of one lab get different ``block`` numbers, so no two share an AP
MAC, a client MAC or a user name.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from collectors.snmp import ber

AIREOS_OBJECT_ID = (1, 3, 6, 1, 4, 1, 9, 1, 1279)
C9800_OBJECT_ID = (1, 3, 6, 1, 4, 1, 9, 1, 2391)  # CISCO-PRODUCTS-MIB ciscoC980040
C9800_DESCR = "Cisco IOS Software [Cupertino], C9800 Software (C9800_IOSXE-K9), Version 17.9.4a, RELEASE SOFTWARE (fc1)"
C9800_MODEL = "C9800-40-K9"
KINDS = ("aireos", "c9800")
REALMS = ("uni.example", "college.example", "polytechnique.example", "med-school.example", "research.example")
SSIDS = {1: "CityWiFi", 2: "eduroam"}
WLAN_PROFILES = {1: "city-open", 2: "eduroam-dot1x"}  # the 9800's WLAN profile names (cLWlanProfileName)
AIRESPACE = (1, 3, 6, 1, 4, 1, 14179, 2)
LWAPP_AP = (1, 3, 6, 1, 4, 1, 9, 9, 513, 1)
LWAPP_WLAN = (1, 3, 6, 1, 4, 1, 9, 9, 512, 1, 1, 1, 1)
CLDC, CLDC_STATS = (1, 3, 6, 1, 4, 1, 9, 9, 599, 1, 3, 1, 1), (1, 3, 6, 1, 4, 1, 9, 9, 599, 1, 4, 1, 1)
ENT_PHYSICAL = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)

# A 9800's APs: (model, 6 GHz radio). The Wi-Fi 6E model has a third radio, in slot 2.
C9800_AP_MODELS = (("C9120AXI-E", False), ("C9130AXI-E", False), ("CW9166I-ROW", True))
# Client protocols on the 9800, one per client: (share %, bsnMobileStationProtocol, cldcClientProtocol).
# cldcClientProtocol has no 802.11ax value: such clients read "unknown" (4) there.
C9800_PROTOCOLS = ((40, 11, 4), (10, 12, 4), (10, 13, 4), (25, 10, 10), (10, 7, 7), (5, 6, 6))

_IP, _COUNTER32, _GAUGE32, _TIMETICKS, _COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x46
BLOCK_PEOPLE = 100_000  # user names of block b are person{b * BLOCK_PEOPLE + p}


def _unsigned(tag: int, value: int) -> bytes:
    return bytes((tag,)) + ber.encode_integer(value)[1:]  # same octets as INTEGER, unsigned tag


def _octets(value: str | bytes) -> bytes:
    return ber.encode_octets(value.encode() if isinstance(value, str) else value)


def keyed_hash(*parts) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def lab_mac(prefix: int, n: int) -> tuple[int, ...]:
    return (0x00, 0x3A, prefix, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF)


def _spread(total: int, slot: int, radios: int) -> int:
    """Slot ``slot``'s share when ``total`` clients are spread over ``radios``: the shares sum to ``total``."""
    return (total + slot) // radios


@dataclass
class ControllerModel:
    hostname: str
    sites: Sequence[str]
    aps_per_site: int = 40
    people: int = 3000
    slot: float = 30.0
    seed: str = "city"
    kind: str = "aireos"  # which controller the agent plays: one of KINDS
    block: int = 0  # 0..31: AP MACs 00:3a:(a0+block), client MACs 00:3a:(c0+block), user names per block
    presence: int = 35  # percent of the time a person is online (100: everyone, always; for benchmarks)
    ap_prefix: str = "ap"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown controller kind {self.kind!r}: one of {', '.join(KINDS)}")
        if not 0 <= self.block < 32 or self.people > BLOCK_PEOPLE or not 0 <= self.presence <= 100:
            raise ValueError("block must be 0..31, people at most 100,000, presence a percentage")

    def aps(self) -> list[tuple[tuple[int, ...], str, str]]:
        """(MAC, name, location) of every AP: <prefix>-<site>-<nn>, in the site's building."""
        out = []
        for s, site in enumerate(self.sites):
            for n in range(1, self.aps_per_site + 1):
                mac = lab_mac(0xA0 + self.block, s * 1000 + n)
                out.append((mac, f"{self.ap_prefix}-{site}-{n:02d}", f"{site}, floor {1 + n % 4}"))
        return out

    def clients(self, now: float) -> list[dict]:
        """Who is connected at ``now``: present for stretches of 4 to 40 slots, at a home site, roaming there."""
        aps = self.aps()
        per_site = self.aps_per_site
        t = int(now // self.slot)
        out = []
        for p in range(self.people):
            stretch = 4 + keyed_hash(self.seed, "len", p) % 37
            epoch = (t + keyed_hash(self.seed, "phase", p) % stretch) // stretch
            if self.presence < 100 and keyed_hash(self.seed, "here", p, epoch) % 100 >= self.presence:
                continue
            site = keyed_hash(self.seed, "site", p, epoch) % len(self.sites)
            ap = aps[site * per_site + keyed_hash(self.seed, "ap", p, t // 6) % per_site]  # roams every ~3 minutes
            eduroam = keyed_hash(self.seed, "edu", p) % 6 == 0
            realm = REALMS[keyed_hash(self.seed, "realm", p) % len(REALMS)]
            seconds = (t % stretch + 1) * self.slot
            out.append(
                {
                    "mac": lab_mac(0xC0 + self.block, p),
                    "ap": ap[0],
                    "wlan": 2 if eduroam else 1,
                    "user": f"person{self.block * BLOCK_PEOPLE + p:05d}@{realm}" if eduroam else "",
                    "rssi": -40 - keyed_hash(self.seed, "rssi", p, t) % 45,
                    "rx": int(seconds * (2_000 + keyed_hash(self.seed, "rx", p) % 50_000)),
                    "tx": int(seconds * (10_000 + keyed_hash(self.seed, "tx", p) % 400_000)),
                }
            )
        return out

    def ap_down(self, n: int) -> bool:
        """About one AP in a hundred is down (AP number ``n`` in :meth:`aps` order)."""
        return keyed_hash(self.seed, "down", n) % 97 == 0

    def table(self, now: float, uptime_ticks: int) -> list[tuple[tuple[int, ...], bytes]]:
        """Every (OID, encoded value) the agent serves at ``now``, sorted by OID."""
        aps = self.aps()
        clients = self.clients(now)
        per_ap: dict[tuple[int, ...], int] = {}
        per_wlan = dict.fromkeys(SSIDS, 0)
        for c in clients:
            per_ap[c["ap"]] = per_ap.get(c["ap"], 0) + 1
            per_wlan[c["wlan"]] += 1
        build = self._c9800 if self.kind == "c9800" else self._aireos
        rows = build(aps, clients, per_ap, per_wlan, uptime_ticks)
        rows.sort()
        return rows

    def _aireos(self, aps, clients, per_ap, per_wlan, uptime_ticks) -> list[tuple[tuple[int, ...], bytes]]:
        rows: list[tuple[tuple[int, ...], bytes]] = [
            ((1, 3, 6, 1, 2, 1, 1, 1, 0), _octets("Cisco Controller")),
            ((1, 3, 6, 1, 2, 1, 1, 2, 0), ber.encode_oid(AIREOS_OBJECT_ID)),
            ((1, 3, 6, 1, 2, 1, 1, 3, 0), _unsigned(_TIMETICKS, uptime_ticks)),
            ((1, 3, 6, 1, 2, 1, 1, 5, 0), _octets(self.hostname)),
            ((1, 3, 6, 1, 4, 1, 14179, 1, 1, 1, 3, 0), _octets("AIR-CT5520-K9")),
            ((1, 3, 6, 1, 4, 1, 9, 9, 618, 1, 8, 4, 0), _unsigned(_GAUGE32, len(aps))),
            ((1, 3, 6, 1, 4, 1, 9, 9, 618, 1, 8, 15, 0), _unsigned(_GAUGE32, len(clients))),
        ]
        for n, (mac, name, location) in enumerate(aps):
            down = self.ap_down(n)
            ap = AIRESPACE + (2, 1, 1)
            rows += [
                (ap + (3, *mac), _octets(name)),
                (ap + (4, *mac), _octets(location)),
                (ap + (6, *mac), ber.encode_integer(2 if down else 1)),
                (ap + (16, *mac), _octets("AIR-AP3802I-E-K9")),
                (ap + (17, *mac), _octets(f"FGL23{n:05d}")),
                (ap + (19, *mac), bytes((_IP, 4, 127, 30, n // 250, 1 + n % 250))),
                (ap + (37, *mac), ber.encode_integer(1)),
                (LWAPP_AP + (1, 1, 1, 6, *mac), _unsigned(_TIMETICKS, uptime_ticks // 2)),
            ]
            radios = ((0, 1, (1, 6, 11)[n % 3]), (1, 2, (36, 44, 100, 149)[n % 4]))
            rows += self._radios(mac, n, down, radios, per_ap.get(mac, 0), power_list=False)
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
        return rows

    def _radios(self, mac, n, down, radios, users, power_list):
        """bsnAPIfTable (+ channel utilisation) rows of one AP: ``radios`` is (slot, bsnAPIfType, channel)."""
        rows = []
        radio = AIRESPACE + (2, 2, 1)
        for slot, kind, channel in radios:
            i = (*mac, slot)
            on_radio = 0 if down else _spread(users, slot, len(radios))
            rows += [
                (radio + (2, *i), ber.encode_integer(kind)),
                (radio + (4, *i), ber.encode_integer(channel)),
                (radio + (6, *i), ber.encode_integer(1 + n % 3)),
                (radio + (12, *i), ber.encode_integer(1 if down else 2)),
                (radio + (15, *i), _unsigned(_COUNTER32, on_radio)),
                (AIRESPACE + (2, 13, 1, 3, *i), ber.encode_integer(min(100, 5 + 7 * on_radio))),
            ]
            if power_list:
                rows.append((radio + (22, *i), _octets("20,17,14,11,8,5" if kind == 1 else "23,20,17,14,11,8,5")))
        return rows

    def c9800_protocol(self, client_mac: tuple[int, ...]) -> tuple[int, int]:
        """(bsnMobileStationProtocol, cldcClientProtocol) of a client on the 9800."""
        share = keyed_hash(self.seed, "proto", client_mac) % 100
        for percent, bsn, cldc in C9800_PROTOCOLS:
            if share < percent:
                return bsn, cldc
            share -= percent
        return C9800_PROTOCOLS[-1][1:]

    def c9800_ap_model(self, n: int) -> tuple[str, bool]:
        return C9800_AP_MODELS[keyed_hash(self.seed, "model", n) % len(C9800_AP_MODELS)]

    def ap_disabled(self, n: int) -> bool:
        """On the 9800, about one AP in two hundred is administratively disabled (cLApAdminStatus false)."""
        return self.kind == "c9800" and not self.ap_down(n) and keyed_hash(self.seed, "disabled", n) % 199 == 0

    def _c9800(self, aps, clients, per_ap, per_wlan, uptime_ticks) -> list[tuple[tuple[int, ...], bytes]]:
        joined = sum(1 for n in range(len(aps)) if not self.ap_down(n))
        rows: list[tuple[tuple[int, ...], bytes]] = [
            ((1, 3, 6, 1, 2, 1, 1, 1, 0), _octets(C9800_DESCR)),
            ((1, 3, 6, 1, 2, 1, 1, 2, 0), ber.encode_oid(C9800_OBJECT_ID)),
            ((1, 3, 6, 1, 2, 1, 1, 3, 0), _unsigned(_TIMETICKS, uptime_ticks)),
            ((1, 3, 6, 1, 2, 1, 1, 5, 0), _octets(self.hostname)),
            (ENT_PHYSICAL + (5, 1), ber.encode_integer(3)),  # chassis
            (ENT_PHYSICAL + (13, 1), _octets(C9800_MODEL)),
            (LWAPP_AP + (3, 35, 0), _unsigned(_GAUGE32, joined)),  # cLApGlobalAPConnectCount
        ]
        lap, lap_ext, bsn_ap = LWAPP_AP + (1, 1, 1), LWAPP_AP + (1, 10, 1), AIRESPACE + (2, 1, 1)
        for n, (mac, name, location) in enumerate(aps):
            down = self.ap_down(n)
            model, six = self.c9800_ap_model(n)
            # An AP that lost its CAPWAP tunnel stays listed, uptime 0, until the controller ages it out.
            rows += [
                (lap + (5, *mac), _octets(name)),
                (lap + (6, *mac), _unsigned(_TIMETICKS, 0 if down else uptime_ticks // 3 + n * 100)),
                (lap + (38, *mac), ber.encode_integer(2 if self.ap_disabled(n) else 1)),  # TruthValue
                (lap + (49, *mac), _octets(location)),
                (lap_ext + (4, *mac), _octets(bytes((127, 31, n // 250, 1 + n % 250)))),  # InetAddress (ipv4)
                (bsn_ap + (6, *mac), ber.encode_integer(2 if down else 1)),
                (bsn_ap + (16, *mac), _octets(model)),
                (bsn_ap + (17, *mac), _octets(f"FJC27{n:06d}")),
            ]
            radios = [(0, 1, (1, 6, 11)[n % 3]), (1, 2, (36, 52, 100, 116, 149)[n % 5])]
            if six:
                radios.append((2, 6, (5, 37, 69, 101, 133)[n % 5]))
            rows += self._radios(mac, n, down, radios, per_ap.get(mac, 0), power_list=True)
        for wlan, ssid in SSIDS.items():
            rows += [
                (LWAPP_WLAN + (3, wlan), _octets(WLAN_PROFILES[wlan])),
                (LWAPP_WLAN + (4, wlan), _octets(ssid)),
                (AIRESPACE + (1, 1, 1, 38, wlan), _unsigned(_COUNTER32, per_wlan[wlan])),
            ]
        ms, stats = AIRESPACE + (1, 4, 1), AIRESPACE + (1, 6, 1)
        for c in clients:
            m = c["mac"]
            bsn_protocol, cldc_protocol = self.c9800_protocol(m)
            rows += [
                (CLDC + (2, *m), ber.encode_integer(4)),  # associated (CLDot11ClientStatus)
                (CLDC + (3, *m), _octets(WLAN_PROFILES[c["wlan"]])),
                (CLDC + (6, *m), ber.encode_integer(cldc_protocol)),
                (CLDC + (8, *m), _octets(bytes(c["ap"]))),
                (CLDC + (27, *m), _octets(c["user"])),
                (CLDC + (28, *m), _octets(SSIDS[c["wlan"]])),
                (CLDC_STATS + (9, *m), _unsigned(_COUNTER64, c["rx"])),
                (CLDC_STATS + (13, *m), _unsigned(_COUNTER64, c["tx"])),
                (ms + (25, *m), ber.encode_integer(bsn_protocol)),
                (stats + (1, *m), ber.encode_integer(c["rssi"])),
                (stats + (26, *m), ber.encode_integer(c["rssi"] + 95)),
            ]
        return rows


def _response(community: bytes, request_id: int, encoded: bytes) -> bytes:
    head = ber.encode_integer(request_id) + ber.encode_integer(0) + ber.encode_integer(0)
    pdu = ber._tlv(ber.RESPONSE, head + ber.encode_sequence(encoded))
    return ber.encode_sequence(ber.encode_integer(1) + ber.encode_octets(community) + pdu)


def _varbind(oid: tuple[int, ...], value: bytes) -> bytes:
    return ber.encode_sequence(ber.encode_oid(oid) + value)


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
        self.owner.requests += 1
        self.transport.sendto(self.owner.answer(msg), addr)


class ControllerAgent:
    """Serves a :class:`ControllerModel` on 127.0.0.1:``port`` from a thread of its own.

    The whole table is built and BER-encoded once per time slot and then only
    looked up (bisect) and concatenated per request, so at benchmark scale
    (1,500 APs, 10,000 clients) the agent costs little next to the poller.
    ``clock`` (default ``time.time``) lets a benchmark or test freeze the city
    at one moment, so a long walk sees one consistent population.
    """

    END = b"\x82\x00"
    NO_SUCH_INSTANCE = b"\x81\x00"

    def __init__(
        self,
        model: ControllerModel,
        port: int,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.time,
        max_varbinds: int = 64,
    ):
        self.model, self.port, self.host = model, port, host
        self.clock = clock
        self.max_varbinds = max_varbinds
        self.requests = 0  # answered, for benchmarks
        self.started = clock()
        self._cache: tuple[int, list, list[bytes]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def _rows(self) -> tuple[list[tuple[int, ...]], list[bytes]]:
        """(sorted OIDs, encoded varbinds) for the current time slot."""
        now = self.clock()
        t = int(now // self.model.slot)
        if self._cache is None or self._cache[0] != t:
            uptime = int((now - self.started) * 100) + 8_640_000
            rows = self.model.table(now, uptime)
            self._cache = (t, [oid for oid, _ in rows], [_varbind(oid, value) for oid, value in rows])
        return self._cache[1], self._cache[2]

    def warm(self) -> int:
        """Build the current slot's table now (not on the first request); the number of OIDs served."""
        return len(self._rows()[0])

    def answer(self, msg: ber.Message) -> bytes:
        oids, encoded = self._rows()
        out: list[bytes] = []
        end = len(oids)

        if msg.pdu_type == ber.GET:
            for oid, _ in msg.varbinds:
                i = bisect.bisect_left(oids, oid)
                out.append(encoded[i] if i < end and oids[i] == oid else _varbind(oid, self.NO_SUCH_INSTANCE))
        elif msg.pdu_type == ber.GET_NEXT:
            for oid, _ in msg.varbinds:
                i = bisect.bisect_right(oids, oid)
                out.append(encoded[i] if i < end else _varbind(oid, self.END))
        elif msg.pdu_type == ber.GET_BULK:
            repeat = max(1, min(msg.error_index, 100))  # max-repetitions travels where error-index would
            width = len(msg.varbinds)
            rounds = min(repeat, self.max_varbinds // width) if width else 0
            # Column-major positions, emitted row by row (the GETBULK order): each column continues from its
            # last position; past the end of the MIB it repeats endOfMibView under the requested OID.
            positions = [bisect.bisect_right(oids, oid) for oid, _ in msg.varbinds]
            for r in range(max(rounds, 1 if width else 0)):
                for k, (oid, _) in enumerate(msg.varbinds):
                    i = positions[k] + r
                    past = oid if positions[k] >= end else oids[-1]
                    out.append(encoded[i] if i < end else _varbind(past, self.END))
        return _response(msg.community, msg.request_id, b"".join(out))

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

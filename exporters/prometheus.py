"""Prometheus exporter: the store's latest state rendered as the text exposition format, at scrape time.

Nothing here talks to a device: a scrape opens the SQLite store read-only
and reads everything in one read transaction (WAL lets it read while the
scheduler writes), so each scrape is one consistent snapshot: never half of
a poll. Counters are the running totals netmon keeps with
:mod:`netmon.counters`, so a Counter32 wrap or a reboot never shows up as a
reset or a spike in ``rate()``.

The samples are written straight to the text format (0.0.4) rather than
through prometheus-client's metric objects: at city size (290 switches,
15,000 ports, 1,752 APs) building and formatting those objects was 2 to
3.5 s of CPU per scrape, most of it in the per-sample object model; a
line per sample from a label string built once per port is about a tenth
of that. prometheus-client still provides the process and platform metrics,
appended as it renders them, and ``promtool check metrics`` checks the
result (``tests/test_exporter.py``). The gzip body is cached while the
exposition does not change (two Prometheus servers scraping one netmon).

Which per-port families a device exports is ``interface_metrics``
(:meth:`netmon.config.Config.interface_mode`): at city size most of the
series were error, discard and packet counters of access ports that never
had an error.

Every metric is listed in ``docs/metrics.md``.
"""

from __future__ import annotations

import gzip
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.utils import floatToGoString

from exporters.web import WebConfig
from exporters.web import serve as web_serve
from netmon.config import Config, RadiusSettings
from netmon.store import Store
from netmon.store.radius import FTICKS_DROP_REASONS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
GZIP_LEVEL = 1  # 20x smaller than plain at city size, for a fifth of level 9's CPU
LAG = 161  # ifType ieee8023adLag: a port-channel is an uplink by nature

# (metric name, store column, help)
INTERFACE_COUNTERS = (
    (
        "netmon_interface_receive_bytes",
        "total_in_octets",
        "Octets received (ifHCInOctets, or ifInOctets on 32-bit agents), wraps and reboots removed.",
    ),
    (
        "netmon_interface_transmit_bytes",
        "total_out_octets",
        "Octets transmitted (ifHCOutOctets or ifOutOctets), wraps and reboots removed.",
    ),
    (
        "netmon_interface_receive_packets",
        "total_in_ucast_pkts",
        "Unicast packets received (ifHCInUcastPkts or ifInUcastPkts).",
    ),
    (
        "netmon_interface_transmit_packets",
        "total_out_ucast_pkts",
        "Unicast packets transmitted (ifHCOutUcastPkts or ifOutUcastPkts).",
    ),
    ("netmon_interface_receive_errors", "total_in_errors", "Inbound packets with errors (ifInErrors)."),
    (
        "netmon_interface_transmit_errors",
        "total_out_errors",
        "Outbound packets that could not be sent because of errors (ifOutErrors).",
    ),
    (
        "netmon_interface_receive_discards",
        "total_in_discards",
        "Inbound packets discarded without error, e.g. buffer full (ifInDiscards).",
    ),
    (
        "netmon_interface_transmit_discards",
        "total_out_discards",
        "Outbound packets discarded without error (ifOutDiscards).",
    ),
)
IF_LABELS = ["device", "site", "ifname"]
# Counters kept on every port in "uplinks" mode (the rest: uplinks, and ports that ever had an error or discard)
ALWAYS = ("total_in_octets", "total_out_octets")


def _escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


_COMMON = {0.0: "0.0", 1.0: "1.0"}


def _number(value) -> str:
    # Counters are whole numbers: their decimal digits are exact and cheaper than Go's float spelling.
    if type(value) is int:
        return str(value)
    return _COMMON.get(value) or floatToGoString(value)


class Family:
    """One metric family rendered straight to text; ``add_metric`` as prometheus-client's families have it."""

    __slots__ = ("_order", "help", "kind", "labels", "lines", "name")

    def __init__(self, name: str, help_: str, labels: Iterable[str] = (), kind: str = "gauge"):
        self.name = f"{name}_total" if kind == "counter" else name
        self.help, self.kind, self.labels = help_, kind, tuple(labels)
        self.lines: list[str] = []
        # Labels written sorted by name, as prometheus-client writes them: (index in values, 'name="') pairs.
        self._order = [(i, f'{self.labels[i]}="') for i in sorted(range(len(self.labels)), key=self.labels.__getitem__)]

    def add_metric(self, values, value) -> None:
        if len(values) != len(self.labels):
            raise ValueError(f"{self.name}: {len(values)} label values for {len(self.labels)} labels")
        self.add_text(",".join(f'{key}{_escape(str(values[i]))}"' for i, key in self._order), value)

    def add_text(self, labels: str, value) -> None:
        """A sample whose label text (``a="x",b="y"``, escaped) the caller built once for several families."""
        value = _number(value)
        self.lines.append(f"{self.name}{{{labels}}} {value}\n" if labels else f"{self.name} {value}\n")

    def text(self) -> str:
        help_ = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        return f"# HELP {self.name} {help_}\n# TYPE {self.name} {self.kind}\n" + "".join(self.lines)


def GaugeMetricFamily(name: str, help_: str, labels: Iterable[str] = ()) -> Family:
    return Family(name, help_, labels, "gauge")


def CounterMetricFamily(name: str, help_: str, labels: Iterable[str] = ()) -> Family:
    return Family(name, help_, labels, "counter")


OPTIC_VALUES = {
    "rx_power": ("netmon_optic_rx_power_dbm", "Transceiver receive power in dBm (per lane)."),
    "tx_power": ("netmon_optic_tx_power_dbm", "Transceiver transmit power in dBm (per lane)."),
    "temperature": ("netmon_optic_temperature_celsius", "Transceiver temperature in degrees Celsius."),
    "bias": ("netmon_optic_bias_amperes", "Transceiver laser bias current in amperes (per lane)."),
    "voltage": ("netmon_optic_voltage_volts", "Transceiver supply voltage in volts."),
}
OPTIC_THRESHOLDS = {
    "dbm": (
        "netmon_optic_threshold_dbm",
        "Transceiver power thresholds in dBm; kind is rx_/tx_ + low_alarm, low_warning, high_warning, high_alarm.",
    ),
    "temperature": (
        "netmon_optic_threshold_celsius",
        "Transceiver temperature thresholds; kind low_alarm ... high_alarm.",
    ),
    "bias": ("netmon_optic_threshold_amperes", "Transceiver bias current thresholds; kind low_alarm ... high_alarm."),
    "voltage": (
        "netmon_optic_threshold_volts",
        "Transceiver supply voltage thresholds; kind low_alarm ... high_alarm.",
    ),
}


class StoreCollector:
    """Metric families from the store, read at scrape time in one read transaction.

    ``config`` is the running netmon's configuration: with it the exporter
    also tells each collector's intended interval, so alerting on a stale
    collector follows the configuration instead of a copy of it in the rules,
    and each device's ``interface_metrics`` mode applies.
    """

    def __init__(self, db_path: str | Path, config: Config | None = None, top_realms: int | None = None):
        self.db_path = Path(db_path)
        self.config = config
        # eduroam realms with their own series; the rest are summed as 'other'
        radius = (config.radius if config else None) or RadiusSettings()
        self.top_realms = radius.top_realms if top_realms is None else top_realms
        self._lock = threading.Lock()
        self._ports: dict[str, tuple[tuple, tuple[str, ...]]] = {}  # hostname -> (version, blocks)
        self._counter_prefixes = [f"{name}_total{{" for name, _, _ in INTERFACE_COUNTERS]

    def collect(self) -> Iterator[Family]:
        store = Store(self.db_path, readonly=True)
        try:
            with store.snapshot():
                yield from self._site_metrics(store)
                yield from self._device_metrics(store)
                optics = store.optic_states()
                yield from self._interface_metrics(store, optics)
                yield from self._optic_metrics(store, optics)
                yield from self._link_metrics(store, optics)
                yield from self._wifi_metrics(store)
                yield from self._radius_metrics(store)
                yield from self._collector_metrics(store)
        finally:
            store.close()

    def text(self) -> str:
        return "".join(family.text() for family in self.collect())

    def _site_metrics(self, store: Store) -> Iterator[Family]:
        info = GaugeMetricFamily(
            "netmon_site_info",
            "Site identity and coordinates from the inventory (WGS84 degrees, empty when unknown); always 1.",
            labels=["site", "kind", "latitude", "longitude"],
        )
        for s in store.sites():
            coords = ["" if s[k] is None else f"{s[k]:.6f}".rstrip("0").rstrip(".") for k in ("lat", "lon")]
            info.add_metric([s["name"], s["kind"], *coords], 1.0)
        # A fraction rather than a min: the map shows a site with one of three devices down as degraded,
        # and 0 (every device down) is what the site-down alert and its inhibitions key on.
        site_up = GaugeMetricFamily(
            "netmon_site_up",
            "Fraction of the site's polled devices that answered their last poll (1 all, 0 none).",
            labels=["site"],
        )
        polled: dict[str, list[int]] = {}
        for d in store.device_states():
            if d["up"] is not None:
                polled.setdefault(d["site"], []).append(d["up"])
        for site, ups in sorted(polled.items()):
            site_up.add_metric([site], sum(1 for u in ups if u) / len(ups))
        yield from (info, site_up)

    def _device_metrics(self, store: Store) -> Iterator[Family]:
        up = GaugeMetricFamily(
            "netmon_device_up",
            "1 when the device answered its last SNMP poll, 0 when it did not.",
            labels=["device", "site", "role"],
        )
        uptime = GaugeMetricFamily(
            "netmon_device_uptime_seconds",
            "sysUpTime at the last successful poll, in seconds.",
            labels=["device", "site"],
        )
        info = GaugeMetricFamily(
            "netmon_device_info",
            "Device identity from the system group; always 1.",
            labels=["device", "site", "role", "sys_name", "sys_object_id"],
        )
        for d in store.device_states():
            if d["up"] is None:
                continue  # never polled yet: no answer is not the same as a down device
            up.add_metric([d["hostname"], d["site"], d["role"]], float(d["up"]))
            if d["uptime_ticks"] is not None:
                uptime.add_metric([d["hostname"], d["site"]], d["uptime_ticks"] / 100)
            if d["sys_object_id"] is not None:
                info.add_metric([d["hostname"], d["site"], d["role"], d["sys_name"] or "", d["sys_object_id"]], 1.0)
        yield from (up, uptime, info)

    def _interface_metrics(self, store: Store, optics: list[dict]) -> Iterator[Family]:
        info = GaugeMetricFamily(
            "netmon_interface_info",
            "Interface identity (ifIndex, ifAlias, ifType); always 1.",
            labels=IF_LABELS + ["ifindex", "ifalias", "iftype"],
        )
        oper = GaugeMetricFamily("netmon_interface_oper_up", "1 when ifOperStatus is up(1).", labels=IF_LABELS)
        admin = GaugeMetricFamily("netmon_interface_admin_up", "1 when ifAdminStatus is up(1).", labels=IF_LABELS)
        speed = GaugeMetricFamily(
            "netmon_interface_speed_bytes",
            "Interface speed in bytes per second (ifHighSpeed x 125000, or ifSpeed / 8).",
            labels=IF_LABELS,
        )
        counters = [CounterMetricFamily(name, help_, labels=IF_LABELS) for name, _, help_ in INTERFACE_COUNTERS]
        families = [info, oper, admin, speed, *counters]
        for blocks in self._port_blocks(store, optics):
            for family, block in zip(families, blocks, strict=True):
                family.lines.append(block)
        yield from families

    def _port_blocks(self, store: Store, optics: list[dict] | None) -> list[tuple[str, ...]]:
        """Each device's interface lines, one text block per family, in hostname order.

        A device's block is rendered once per poll of it and kept (keyed by the poll's time and the inventory
        generation), so a scrape renders only the devices polled since the last scrape, and the warmer
        (:meth:`warm`) renders those as their polls land: polls are spread over the interval, so is this work.
        Always called inside the scrape's snapshot, so every block served matches the rest of the scrape.
        """
        generation = store.inventory_generation()
        versions = store.interface_versions()
        with self._lock:
            cache = dict(self._ports)
        changed = [h for h, v in versions.items() if cache.get(h, (None,))[0] != (generation, v)]
        if changed:
            if optics is None:
                optics = store.optic_states()
            # Uplinks: a transceiver, a neighbour (LLDP/CDP), a declared fibre, or a port-channel.
            uplinks = {(r["hostname"], r["ifname"]) for r in optics}
            uplinks |= set(store.neighbour_ports())
            uplinks |= set(store.fibre_link_ports())
            rows: dict[str, list[tuple]] = {h: [] for h in changed}
            for row in store.interface_metric_rows(changed):
                rows[row[0]].append(row)
            for host in changed:
                cache[host] = ((generation, versions[host]), self._render_ports(rows[host], uplinks))
            with self._lock:
                self._ports = {h: cache[h] for h in versions}  # devices gone from the inventory are forgotten
        return [cache[h][1] for h in sorted(versions)]

    def warm(self) -> None:
        """Render the blocks of devices polled since the last scrape or warm-up (``MetricsApp`` calls this every
        second or two), so the scrape itself mostly joins text."""
        store = Store(self.db_path, readonly=True)
        try:
            with store.snapshot():
                self._port_blocks(store, None)
        finally:
            store.close()

    def _render_ports(self, rows: list[tuple], uplinks: set[tuple[str, str]]) -> tuple[str, ...]:
        """One device's ports as 12 text blocks: info, oper, admin, speed, then the counters' families."""
        out: list[list[str]] = [[] for _ in range(4 + len(INTERFACE_COUNTERS))]
        if not rows:
            return tuple("" for _ in out)
        info_lines, oper_lines, admin_lines, speed_lines = out[:4]
        octets = list(zip(self._counter_prefixes[:2], out[4:6], strict=True))
        others = list(zip(self._counter_prefixes[2:], out[6:], strict=True))
        mode_of = self.config.interface_mode if self.config else (lambda hostname, role: "full")
        host, role = rows[0][0], rows[0][9]
        mode = mode_of(host, role)
        if mode == "none":
            return tuple("" for _ in out)
        # Two interfaces of one device may share a name; keep their series apart.
        seen = Counter(r[2] for r in rows)
        host_e = _escape(host)
        for _host, site, name, ifindex, alias, type_, admin_st, oper_st, speed_bps, _role, *values in rows:
            ifname_e, site_e = _escape(name if seen[name] == 1 else f"{name}#{ifindex}"), _escape(site)
            labels = f'device="{host_e}",ifname="{ifname_e}",site="{site_e}"}} '  # sorted by name
            info_lines.append(
                f'netmon_interface_info{{device="{host_e}",ifalias="{_escape(alias)}",ifindex="{ifindex}",'
                f'ifname="{ifname_e}",iftype="{type_}",site="{site_e}"}} 1.0\n'
            )
            oper_lines.append(f"netmon_interface_oper_up{{{labels}{'1.0' if oper_st == 1 else '0.0'}\n")
            admin_lines.append(f"netmon_interface_admin_up{{{labels}{'1.0' if admin_st == 1 else '0.0'}\n")
            if speed_bps is not None:
                speed_lines.append(f"netmon_interface_speed_bytes{{{labels}{_number(speed_bps / 8)}\n")
            for (prefix, lines), value in zip(octets, values[:2], strict=True):
                if value is not None:
                    lines.append(f"{prefix}{labels}{value}\n")
            rest = values[2:]
            # "uplinks": packets, errors and discards only where they say something: on uplinks, and on any
            # port that ever counted an error or a discard (then all six, so the error ratio has its packets).
            if mode == "full" or (host, name) in uplinks or type_ == LAG or any(rest[2:]):
                for (prefix, lines), value in zip(others, rest, strict=True):
                    if value is not None:
                        lines.append(f"{prefix}{labels}{value}\n")
        return tuple("".join(lines) for lines in out)

    def _optic_metrics(self, store: Store, optics: list[dict]) -> Iterator[Family]:
        labels = ["device", "site", "ifname", "lane"]
        values = {kind: GaugeMetricFamily(name, help_, labels=labels) for kind, (name, help_) in OPTIC_VALUES.items()}
        thresholds = {
            unit: GaugeMetricFamily(name, help_, labels=[*labels, "kind"])
            for unit, (name, help_) in OPTIC_THRESHOLDS.items()
        }
        for r in optics:
            key = [r["hostname"], r["site"], r["ifname"], str(r["lane"])]
            values[r["kind"]].add_metric(key, r["value"])
            unit = "dbm" if r["kind"].endswith("power") else r["kind"]
            prefix = r["kind"].split("_")[0] + "_" if unit == "dbm" else ""
            for which in ("low_alarm", "low_warning", "high_warning", "high_alarm"):
                if r[which] is not None:
                    thresholds[unit].add_metric([*key, prefix + which], r[which])
        yield from values.values()
        yield from thresholds.values()

    def _link_metrics(self, store: Store, optics: list[dict]) -> Iterator[Family]:
        labels = ["a_device", "a_port", "a_site", "b_device", "b_port", "b_site"]
        up = GaugeMetricFamily(
            "netmon_link_up",
            "1 when both ends of an inter-site link (seen by LLDP/CDP) are oper up; 0 when either is not. A fibre "
            "port's neighbour outside the inventory: b_device is its announced name, b_site empty, a_port's state.",
            labels=labels,
        )
        length = GaugeMetricFamily(
            "netmon_link_length_meters",
            "Fibre length of an inter-site link, as the inventory declares it.",
            labels=labels,
        )
        seen = set()
        # Ports with a transceiver (DOM readings): a neighbour outside the inventory seen on one is a fibre uplink
        # (a provider's or another operator's router) whose loss matters as much as an inter-site fibre's.
        fibre = {(r["hostname"], r["ifname"]) for r in optics}
        for link in store.links():
            if link["b_device"] is None:
                if (link["a_device"], link["a_port"]) not in fibre:
                    continue  # a copper neighbour outside the inventory: a server, a phone, a lab laptop
                name = link["b_name"].strip() or link["b_chassis_id"] or link["b_address"]
                key = (link["a_device"], link["a_port"], link["a_site"], name, link["b_port"], "")  # b_site "": outside
            elif link["a_site"] == link["b_site"]:
                continue  # not between sites
            else:
                a_end = (link["a_device"], link["a_port"], link["a_site"])
                ends = sorted([a_end, (link["b_device"], link["b_port"], link["b_site"])])
                key = tuple(x for end in ends for x in end)
            if key in seen:
                continue  # each fibre once, whichever end reported it
            seen.add(key)
            values = [key[0], key[1], key[2], key[3], key[4], key[5]]
            is_up = link["a_oper"] == 1 and link["b_oper"] in (None, 1)
            up.add_metric(values, 1.0 if is_up else 0.0)
            if link["length_km"] is not None:
                length.add_metric(values, link["length_km"] * 1000)
        yield from (up, length)

    def _wifi_metrics(self, store: Store) -> Iterator[Family]:
        ap_up = GaugeMetricFamily(
            "netmon_wifi_ap_up", "1 when the controller reports the access point up (joined).",
            labels=["controller", "site", "ap"],
        )  # fmt: skip
        aps = store.access_points()
        # Two APs may share a name (a replacement, a missing name): keep their series apart, as for interfaces.
        names = Counter((ap["controller"], ap["name"]) for ap in aps)
        label = {}
        for ap in aps:
            unique = ap["name"] and names[(ap["controller"], ap["name"])] == 1
            label[(ap["controller"], ap["mac"])] = ap["name"] if unique else f"{ap['name']}#{ap['mac']}"
        for ap in aps:
            ap_name = label[(ap["controller"], ap["mac"])]
            ap_up.add_metric([ap["controller"], ap["site"] or "", ap_name], 1.0 if ap["status"] == "up" else 0.0)
        ap_clients = GaugeMetricFamily(
            "netmon_wifi_ap_clients",
            "Clients on the access point's radio (slot) at the last controller poll; radio is empty when the "
            "controller gives no per-radio counts.",
            labels=["controller", "site", "ap", "radio"],
        )
        radio_labels = ["controller", "site", "ap", "radio", "band"]
        channel = GaugeMetricFamily("netmon_wifi_radio_channel", "The radio's channel.", labels=radio_labels)
        utilization = GaugeMetricFamily(
            "netmon_wifi_radio_utilization_ratio", "Channel utilization the radio reports, 0 to 1.", labels=radio_labels
        )
        with_radio_counts = set()
        for r in store.radios():
            if (r["controller"], r["ap_mac"]) not in label:
                continue
            base = [r["controller"], r["site"] or "", label[(r["controller"], r["ap_mac"])], str(r["slot"])]
            if r["clients"] is not None:
                ap_clients.add_metric(base, float(r["clients"]))
                with_radio_counts.add((r["controller"], r["ap_mac"]))
            if r["channel"] is not None:
                channel.add_metric([*base, r["band"] or ""], float(r["channel"]))
            if r["utilization"] is not None:
                utilization.add_metric([*base, r["band"] or ""], r["utilization"])
        by_site = GaugeMetricFamily(
            "netmon_wifi_clients", "Clients per site and SSID at the last controller poll.",
            labels=["controller", "site", "ssid"],
        )  # fmt: skip
        by_ssid = GaugeMetricFamily(
            "netmon_wifi_ssid_clients", "Clients per SSID on the controller at its last poll.",
            labels=["controller", "ssid"],
        )  # fmt: skip
        per_ap: Counter = Counter()
        per_site: Counter = Counter()
        per_ssid: Counter = Counter()
        for s in store.latest_wifi_samples():
            key = (s["controller"], s["ap_mac"])
            if key in label and key not in with_radio_counts:
                per_ap[(s["controller"], s["site"] or "", label[key], "")] += s["clients"]
            per_site[(s["controller"], s["site"] or "", s["ssid"])] += s["clients"]
            per_ssid[(s["controller"], s["ssid"])] += s["clients"]
        for family, counts in ((ap_clients, per_ap), (by_site, per_site), (by_ssid, per_ssid)):
            for labels, value in sorted(counts.items()):
                family.add_metric(list(labels), float(value))
        yield from (ap_up, ap_clients, channel, utilization, by_site, by_ssid)

    def _radius_metrics(self, store: Store) -> Iterator[Family]:
        packets = CounterMetricFamily(
            "netmon_radius_packets",
            "RADIUS accounting packets received, by Acct-Status-Type and what became of them (ok, duplicate, "
            "ignored, or the reason it was dropped).",
            labels=["type", "result"],
        )
        for r in store.radius_packet_counts():
            packets.add_metric([r["type"], r["result"]], float(r["count"]))
        last = GaugeMetricFamily(
            "netmon_radius_last_packet_timestamp_seconds",
            "Unix time of the last valid accounting packet from the NAS (declared name).",
            labels=["nas"],
        )
        for nas, ts in sorted(store.radius_last_packets().items()):
            last.add_metric([nas], ts)
        by_ssid = GaugeMetricFamily(
            "netmon_radius_sessions_active", "Open RADIUS accounting sessions per SSID.", labels=["ssid"]
        )
        ssids: Counter = Counter()
        realms: Counter = Counter()
        for r in store.radius_active():
            ssids[r["ssid"]] += r["sessions"]
            if r["eduroam"]:
                realms[r["realm"] or ""] += r["sessions"]
        for ssid, n in sorted(ssids.items()):
            by_ssid.add_metric([ssid], float(n))
        eduroam = GaugeMetricFamily(
            "netmon_eduroam_sessions_active",
            "Open eduroam sessions (RADIUS accounting) per home realm: the top realms by configuration, the rest "
            "(and sessions without a realm) as 'other'.",
            labels=["realm"],
        )
        top = [realm for realm, _ in sorted(realms.items(), key=lambda kv: (-kv[1], kv[0])) if realm][: self.top_realms]
        other = sum(n for realm, n in realms.items() if realm not in top)
        for realm in sorted(top):
            eduroam.add_metric([realm], float(realms[realm]))
        if other or realms:
            eduroam.add_metric(["other"], float(other))
        fticks = CounterMetricFamily(
            "netmon_fticks_events", "F-Ticks authentication events read, by result (OK, FAIL).", labels=["result"]
        )
        malformed = CounterMetricFamily(
            "netmon_fticks_malformed_lines", "F-Ticks lines that could not be read (no realm, no result, bad fields)."
        )
        dropped = CounterMetricFamily(
            "netmon_fticks_dropped_datagrams",
            "F-Ticks syslog datagrams dropped unread, by reason: unknown_source (not in radius.fticks_sources), "
            "rate_limited (a source, or all together, over its rate), overflow (the writer's queue was full).",
            labels=["reason"],
        )
        for result, n in sorted(store.fticks_counts().items()):
            if result == "malformed":
                malformed.add_metric([], float(n))
            elif result in FTICKS_DROP_REASONS:
                dropped.add_metric([result], float(n))
            else:
                fticks.add_metric([result], float(n))
        yield from (packets, last, by_ssid, eduroam, fticks, malformed, dropped)

    def _collector_metrics(self, store: Store) -> Iterator[Family]:
        duration = GaugeMetricFamily(
            "netmon_collector_duration_seconds",
            "Wall time of the collector's last run against the device.",
            labels=["device", "collector"],
        )
        success = GaugeMetricFamily(
            "netmon_last_success_timestamp_seconds",
            "Unix time when the collector last succeeded against the device.",
            labels=["device", "collector"],
        )
        attempted = GaugeMetricFamily(
            "netmon_collector_last_run_timestamp_seconds",
            "Unix time when the collector last ran against the device, successfully or not (a collector that "
            "never succeeded has this and no last success).",
            labels=["device", "collector"],
        )
        interval = GaugeMetricFamily(
            "netmon_collector_interval_seconds",
            "How often the collector is meant to succeed against the device (netmon's configuration).",
            labels=["device", "collector"],
        )
        for c in store.collector_states():
            duration.add_metric([c["hostname"], c["collector"]], c["duration"])
            attempted.add_metric([c["hostname"], c["collector"]], c["last_run"])
            if c["last_success"] is not None:
                success.add_metric([c["hostname"], c["collector"]], c["last_success"])
            every = self.config.collector_interval(c["collector"], c["device_interval"]) if self.config else None
            if every:
                interval.add_metric([c["hostname"], c["collector"]], every)
        errors = CounterMetricFamily(
            "netmon_collector_errors",
            "Collector runs that failed, by reason (timeout, unreachable, auth, snmp_error, deadline, config, "
            "internal).",
            labels=["collector", "reason"],
        )
        for e in store.collector_error_counts():
            errors.add_metric([e["collector"], e["reason"]], float(e["count"]))
        dropped = CounterMetricFamily(
            "netmon_snmp_dropped_packets",
            "SNMP packets received and refused, by reason (malformed, unknown_request_id, wrong_source, "
            "wrong_community, not_a_response, duplicate).",
            labels=["reason"],
        )
        for reason, count in sorted(store.snmp_drop_counts().items()):
            dropped.add_metric([reason], float(count))
        yield from (duration, attempted, success, interval, errors, dropped)


def process_registry() -> CollectorRegistry:
    """prometheus-client's process and platform metrics (CPU, memory, file descriptors, Python)."""
    reg = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=reg)
    PlatformCollector(registry=reg)
    return reg


def exposition(
    db_path: str | Path, process_metrics: bool = True, config: Config | None = None, top_realms: int | None = None
) -> str:
    """The whole ``/metrics`` text: the store's families, then (optionally) the process's."""
    text = StoreCollector(db_path, config, top_realms).text()
    return text + generate_latest(process_registry()).decode() if process_metrics else text


class MetricsApp:
    """The WSGI app behind ``/metrics``: the exposition, gzip when asked (the compressed body is kept while the
    text does not change, so a second Prometheus scraping the same netmon costs no second compression)."""

    def __init__(self, collector: StoreCollector, process_metrics: bool = True):
        self.collector = collector
        self.process = process_registry() if process_metrics else None
        self._lock = threading.Lock()
        self._gzipped: tuple[bytes, bytes] = (b"", b"")

    def body(self) -> bytes:
        body = self.collector.text().encode()
        return body + generate_latest(self.process) if self.process is not None else body

    def gzipped(self, body: bytes) -> bytes:
        with self._lock:
            plain, packed = self._gzipped
        if plain == body:
            return packed
        packed = gzip.compress(body, compresslevel=GZIP_LEVEL)
        with self._lock:
            self._gzipped = (body, packed)
        return packed

    def __call__(self, environ, start_response):
        body = self.body()
        headers = [("Content-Type", CONTENT_TYPE)]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            body = self.gzipped(body)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


WARM_EVERY = 2.0  # seconds between the warmer's looks at which devices were polled


def _warm(collector: StoreCollector, stop: threading.Event) -> None:
    while not stop.wait(WARM_EVERY):
        try:
            collector.warm()
        except Exception:  # noqa: S112 - a missing or busy database now is the scrape's to report
            continue


def serve(db_path: str | Path, host: str, port: int, config: Config | None = None, web: WebConfig | None = None):
    """Serve ``/metrics`` (and ``/-/healthy``) from a background thread, with ``web``'s TLS and basic auth when
    given; returns (server, thread). A second thread renders each device's interface lines soon after its poll
    is stored (``StoreCollector.warm``); it stops with the server."""
    collector = StoreCollector(db_path, config)
    server, thread = web_serve(MetricsApp(collector), host, port, web)
    stop = threading.Event()
    server.on_shutdown.append(stop.set)
    threading.Thread(target=_warm, args=(collector, stop), name="netmon-metrics-warm", daemon=True).start()
    return server, thread

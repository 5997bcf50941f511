"""Prometheus exporter: a custom collector that builds metric families from the store at scrape time.

Nothing is cached between scrapes and nothing here talks to a device: a
scrape opens the SQLite store read-only (WAL lets it read while the
scheduler writes), reads the latest state and renders it. Counters are the
running totals netmon keeps with :mod:`netmon.counters`, so a Counter32
wrap or a reboot never shows up as a reset or a spike in ``rate()``.

Every metric is listed in ``docs/metrics.md``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from exporters.web import WebConfig
from exporters.web import serve as web_serve
from netmon.config import Config, RadiusSettings
from netmon.store import Store
from netmon.store.radius import FTICKS_DROP_REASONS

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


class StoreCollector(Collector):
    """Metric families from the store, read at scrape time.

    ``config`` is the running netmon's configuration: with it the exporter
    also tells each collector's intended interval, so alerting on a stale
    collector follows the configuration instead of a copy of it in the rules.
    """

    def __init__(self, db_path: str | Path, config: Config | None = None, top_realms: int | None = None):
        self.db_path = Path(db_path)
        self.config = config
        # eduroam realms with their own series; the rest are summed as 'other'
        radius = (config.radius if config else None) or RadiusSettings()
        self.top_realms = radius.top_realms if top_realms is None else top_realms

    def collect(self) -> Iterator[Metric]:
        store = Store(self.db_path, readonly=True)
        try:
            yield from self._site_metrics(store)
            yield from self._device_metrics(store)
            yield from self._interface_metrics(store)
            yield from self._optic_metrics(store)
            yield from self._link_metrics(store)
            yield from self._wifi_metrics(store)
            yield from self._radius_metrics(store)
            yield from self._collector_metrics(store)
        finally:
            store.close()

    def _site_metrics(self, store: Store) -> Iterator[Metric]:
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

    def _device_metrics(self, store: Store) -> Iterator[Metric]:
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

    def _interface_metrics(self, store: Store) -> Iterator[Metric]:
        rows = store.interface_states()
        # Two interfaces of one device may share a name; keep their series apart.
        seen = Counter((r["hostname"], r["name"]) for r in rows)
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
        counters = [
            (CounterMetricFamily(name, help_, labels=IF_LABELS), column) for name, column, help_ in INTERFACE_COUNTERS
        ]
        for r in rows:
            ifname = r["name"] if seen[(r["hostname"], r["name"])] == 1 else f"{r['name']}#{r['ifindex']}"
            labels = [r["hostname"], r["site"], ifname]
            info.add_metric(labels + [str(r["ifindex"]), r["alias"], str(r["type"])], 1.0)
            oper.add_metric(labels, 1.0 if r["oper_status"] == 1 else 0.0)
            admin.add_metric(labels, 1.0 if r["admin_status"] == 1 else 0.0)
            if r["speed_bps"] is not None:
                speed.add_metric(labels, r["speed_bps"] / 8)
            for family, column in counters:
                if r[column.replace("total_", "raw_")] is not None:
                    family.add_metric(labels, float(r[column]))
        yield from (info, oper, admin, speed)
        yield from (family for family, _ in counters)

    def _optic_metrics(self, store: Store) -> Iterator[Metric]:
        labels = ["device", "site", "ifname", "lane"]
        values = {kind: GaugeMetricFamily(name, help_, labels=labels) for kind, (name, help_) in OPTIC_VALUES.items()}
        thresholds = {
            unit: GaugeMetricFamily(name, help_, labels=[*labels, "kind"])
            for unit, (name, help_) in OPTIC_THRESHOLDS.items()
        }
        for r in store.optic_states():
            key = [r["hostname"], r["site"], r["ifname"], str(r["lane"])]
            values[r["kind"]].add_metric(key, r["value"])
            unit = "dbm" if r["kind"].endswith("power") else r["kind"]
            prefix = r["kind"].split("_")[0] + "_" if unit == "dbm" else ""
            for which in ("low_alarm", "low_warning", "high_warning", "high_alarm"):
                if r[which] is not None:
                    thresholds[unit].add_metric([*key, prefix + which], r[which])
        yield from values.values()
        yield from thresholds.values()

    def _link_metrics(self, store: Store) -> Iterator[Metric]:
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
        fibre = {(r["hostname"], r["ifname"]) for r in store.optic_states()}
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

    def _wifi_metrics(self, store: Store) -> Iterator[Metric]:
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

    def _radius_metrics(self, store: Store) -> Iterator[Metric]:
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

    def _collector_metrics(self, store: Store) -> Iterator[Metric]:
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


def registry(
    db_path: str | Path, process_metrics: bool = True, config: Config | None = None, top_realms: int | None = None
) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StoreCollector(db_path, config, top_realms))
    if process_metrics:
        ProcessCollector(registry=reg)
        PlatformCollector(registry=reg)
    return reg


def serve(db_path: str | Path, host: str, port: int, config: Config | None = None, web: WebConfig | None = None):
    """Serve ``/metrics`` (and ``/-/healthy``) from a background thread, with ``web``'s TLS and basic auth when
    given; returns (server, thread)."""
    return web_serve(registry(db_path, config=config), host, port, web)

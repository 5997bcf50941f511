"""Process configuration: one YAML file, overridden by environment, overridden by flags.

Example ``netmon.yml``::

    db: /var/lib/netmon/netmon.db
    secrets: /etc/netmon/secrets.yml     # mode 0600
    inventory: /etc/netmon/inventory.yml
    listen: 127.0.0.1:9310               # /metrics (and /-/healthy)
    web_config: /etc/netmon/web.yml      # optional: TLS and basic auth for /metrics (exporter-toolkit format)
    interval: 60                         # default poll interval, seconds
    concurrency: 64                      # devices polled at once
    optics_interval: 300                 # transceiver DOM every 5 minutes (0: off)
    hardware_interval: 21600             # hardware inventory every 6 hours (0: off)
    topology_interval: 900               # LLDP/CDP neighbours every 15 minutes (0: off)
    cli_interval: 900                    # SSH (netmiko) collection every 15 minutes (0: off)
    cli_workers: 8                       # SSH sessions at once
    timezone: America/Toronto            # the city's days and hours in usage reports (default: the system's)
    retention_days: 90                   # raw Wi-Fi sessions and samples kept this long; daily aggregates always
    usage_interval: 3600                 # seconds between rebuilds of today's and yesterday's usage (0: off)
    capacity_peak_clients: 30            # an AP whose peak clients reach this is a capacity hot spot
    shutdown_grace: 10                   # seconds polls in flight may take to finish on SIGTERM
    interface_metrics: uplinks           # per-port series: full | uplinks | none, or by role and hostname:
    #   {default: full, switch: uplinks, sw-city-hall: full}   (default: switches uplinks, the rest full)
    shard: 0/4                           # optional: poll only shard 0 of 4 (docs/scaling.md); own db and listen
    snmp:
      timeout: 2.0                       # per request, seconds
      retries: 1
      max_repetitions: 25
      engine: native                     # native (own codec: v2c, v3 but 3DES) | pysnmp for everything
    eduroam_ssids: [eduroam]             # SSIDs whose sessions are eduroam sessions
    radius:                              # RADIUS accounting listener (NAS secrets: the secrets file)
      listen: 0.0.0.0:1813               # address:port (default 127.0.0.1:1813: loopback only; [::]:1813 for IPv6)
      interim_interval: 600              # seconds, when a session does not say; 3x without update: timed out
      top_realms: 10                     # netmon_eduroam_sessions_active: these many realms, the rest 'other'
      fticks_listen: 127.0.0.1:5514      # optional: F-Ticks over UDP syslog
      fticks_sources: [192.0.2.20]       # syslog senders allowed (default: loopback + declared RADIUS clients)

Environment: ``NETMON_CONFIG`` (this file), ``NETMON_DB``,
``NETMON_SECRETS``, ``NETMON_INVENTORY``, ``NETMON_LISTEN``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from collectors.registry import schedule_of
from inventory.ap_sites import rule_problem
from netmon.files import FileProblem, read_settings
from netmon.shard import Shard, parse_shard
from netmon.usage.days import local_zone


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class SnmpSettings:
    timeout: float = 2.0
    retries: int = 1
    max_repetitions: int = 25
    # native: netmon's own SNMPv2c codec (pysnmp for SNMPv3); pysnmp: pysnmp for everything
    engine: str = "native"

    def __post_init__(self) -> None:
        if self.engine not in ("native", "pysnmp"):
            raise ValueError(f"snmp.engine must be 'native' or 'pysnmp', not {self.engine!r}")
        object.__setattr__(self, "timeout", _number("snmp.timeout", self.timeout, 0.1, 60.0))
        object.__setattr__(self, "retries", _whole("snmp.retries", self.retries, 0, 10))
        # Integer32 on the wire, but an agent answers at most one datagram: beyond a few hundred it only truncates.
        object.__setattr__(self, "max_repetitions", _whole("snmp.max_repetitions", self.max_repetitions, 1, 1000))


# A setting counted in seconds, days or clients: beyond this (68 years of seconds) it is a typo, and it would
# overflow the scheduler's and SQLite's arithmetic further on instead of being refused here.
MAX_WHOLE = 2**31 - 1


INTERFACE_MODES = ("full", "uplinks", "none")


def _interface_metrics(value: object) -> tuple[tuple[str, str], ...]:
    """``interface_metrics``: one mode for every device, or a mapping of hostname or role (or ``default``) to one."""
    if isinstance(value, str):
        value = {"default": value}
    if not isinstance(value, dict) or not value:
        raise ValueError(f"interface_metrics must be one of {', '.join(INTERFACE_MODES)}, or a mapping of role or "
                         "hostname to one")  # fmt: skip
    for key, mode in value.items():
        if not isinstance(key, str) or mode not in INTERFACE_MODES:
            modes = ", ".join(INTERFACE_MODES)
            raise ValueError(f"interface_metrics: {str(key)!r}: {str(mode)!r} is not one of {modes}")
    value.setdefault("default", "full")
    return tuple(sorted(value.items()))


def _whole(name: str, value: object, low: int = 0, high: int = MAX_WHOLE) -> int:
    """A whole number in ``low..high``, from YAML's int, an integral float or digits; ValueError naming the setting."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name}: {value!r} is not a whole number")
    try:
        number = int(value)
    except (ValueError, OverflowError):  # "ten", .inf, .nan
        raise ValueError(f"{name}: {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise ValueError(f"{name}: {number} is outside {low}..{high}")
    return number


def _number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name}: {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a number") from None
    if not low <= number <= high:  # NaN fails this too
        raise ValueError(f"{name}: {value!r} is outside {low:g}..{high:g}")
    return number


def host_port(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``:port`` -> (host, port); ValueError when the port is not a port."""
    host, _, port = str(text).rpartition(":")
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError(f"port {number} out of range in {text!r}")
    return host.strip("[]") or default_host, number


@dataclass(frozen=True)
class RadiusSettings:
    """The accounting listener: present in the configuration means `netmon run` listens."""

    listen: str = "127.0.0.1:1813"  # loopback unless asked: a listener reachable from everywhere is a choice
    interim_interval: int = 600  # seconds; a session silent for 3x this is closed as timed-out
    top_realms: int = 10  # realms with their own netmon_eduroam_sessions_active series; the rest are 'other'
    fticks_listen: str | None = None  # UDP syslog address for F-Ticks lines
    timeout_check: int = 60  # seconds between checks for timed-out sessions
    # Syslog senders allowed on fticks_listen (addresses or networks). None: loopback and the declared RADIUS
    # clients (secrets file), the hosts already trusted to talk RADIUS to netmon.
    fticks_sources: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        host_port(self.listen, "0.0.0.0")
        if self.fticks_listen:
            host_port(self.fticks_listen)
        if self.fticks_sources is not None:
            if isinstance(self.fticks_sources, str) or not isinstance(self.fticks_sources, (list, tuple)):
                raise ValueError("radius.fticks_sources must be a list of addresses or networks")
            for source in self.fticks_sources:
                try:
                    ipaddress.ip_network(str(source), strict=False)
                except ValueError:
                    raise ValueError(f"radius.fticks_sources: {source!r} is not an address or network") from None
            object.__setattr__(self, "fticks_sources", tuple(str(s) for s in self.fticks_sources))
        object.__setattr__(self, "interim_interval", _whole("radius.interim_interval", self.interim_interval, 1))
        object.__setattr__(self, "top_realms", _whole("radius.top_realms", self.top_realms, 0, 10_000))
        object.__setattr__(self, "timeout_check", _whole("radius.timeout_check", self.timeout_check, 1))

    def fticks_networks(self, declared=()) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Who may send F-Ticks syslog: ``fticks_sources``, or by default loopback and the ``declared`` NAS networks."""
        if self.fticks_sources is not None:
            return tuple(ipaddress.ip_network(s, strict=False) for s in self.fticks_sources)
        return (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"), *declared)


@dataclass(frozen=True)
class Config:
    db: Path = Path("netmon.db")
    secrets: Path | None = None
    inventory: Path | None = None
    listen: str = "127.0.0.1:9310"
    interval: int = 60
    concurrency: int = 64
    optics_interval: int = 300  # seconds between transceiver DOM reads (0: never); light drifts slowly
    hardware_interval: int = 21600  # seconds between hardware inventory reads (0: never), as NAV does
    topology_interval: int = 900  # seconds between LLDP/CDP neighbour reads (0: never)
    cli_interval: int = 900  # seconds between SSH collections, for devices with an SSH profile (0: never)
    cli_workers: int = 8  # SSH sessions at once (netmiko blocks a thread per session)
    eduroam_ssids: tuple[str, ...] = ("eduroam",)
    wifi_grace: int = 120  # seconds a client may be missing before its Wi-Fi session ends (beyond one interval)
    # AP -> site: [{name|prefix|location: ..., site: ...}], tried in order before the name/location default
    ap_site_rules: tuple[dict, ...] = ()
    timezone: str | None = None  # IANA name for the city's days and hours; None: the system's zone
    retention_days: int = 90  # raw Wi-Fi sessions/samples older than this are pruned (aggregated first)
    usage_interval: int = 3600  # seconds between usage rebuilds of yesterday and today (0: never)
    capacity_peak_clients: int = 30  # peak clients per AP that make it a capacity hot spot in reports
    shutdown_grace: int = 10  # seconds polls in flight may take to finish when netmon is stopped
    # Per-port series (exporters/prometheus.py): full, uplinks or none, by hostname, then role, then "default".
    interface_metrics: tuple[tuple[str, str], ...] = (("default", "full"), ("switch", "uplinks"))
    snmp: SnmpSettings = field(default_factory=SnmpSettings)
    radius: RadiusSettings | None = None  # None: no accounting listener
    web_config: Path | None = None  # TLS and basic auth for /metrics (exporters/web.py), exporter-toolkit format
    shard: Shard | None = None  # poll only the devices of this shard (netmon.shard); None: every device
    source: Path | None = None  # the file it was read from, for messages about it

    @property
    def listen_host_port(self) -> tuple[str, int]:
        return host_port(self.listen)

    def schedule_every(self, schedule: str, device_interval: int | None = None) -> int | None:
        """The configured seconds between runs of a schedule (``collectors.base.SCHEDULES``); None: off."""
        every = {
            "poll": device_interval or self.interval,
            "optics": self.optics_interval,
            "hardware": self.hardware_interval,
            "topology": self.topology_interval,
            "cli": self.cli_interval,
        }
        return every[schedule] or None

    def collector_interval(self, collector: str, device_interval: int | None = None) -> int | None:
        """How often ``collector`` (a run's name: ``optics``, ``cli.lldp``) is meant to succeed on a device; None
        when it is switched off.

        The slower SNMP collectors ride on the device's poll, so they cannot run
        more often than it. The CLI has its own schedule.
        """
        schedule = schedule_of(collector)
        every = self.schedule_every(schedule, device_interval)
        if schedule in ("poll", "cli") or every is None:
            return every
        return max(every, device_interval or self.interval)

    def interface_mode(self, hostname: str, role: str) -> str:
        """``full``: every per-port family on every port. ``uplinks``: state, speed and octets on every port;
        packets, errors and discards on uplinks and on ports that ever counted an error or a discard.
        ``none``: no per-port series."""
        modes = dict(self.interface_metrics)
        return modes.get(hostname) or modes.get(role) or modes.get("default", "full")

    def zone(self):
        """The city's time zone (``timezone``, else the system's)."""
        return local_zone(self.timezone)

    def device_deadline(self, interval: int) -> float:
        """Longest one device's poll may take: it must end before its next turn."""
        return max(1.0, interval * 0.9)


def load(path: str | Path | None = None, environ: dict[str, str] | None = None, **overrides) -> Config:
    environ = os.environ if environ is None else environ
    path = path or environ.get("NETMON_CONFIG")
    data: dict = {}
    base = Path.cwd()
    if path:
        path = Path(path)
        try:
            data = read_settings(path)
        except FileProblem as exc:
            raise ConfigError(exc.where(path)) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: must be a mapping")
        base = path.parent
    known = {"db", "secrets", "inventory", "listen", "interval", "concurrency", "snmp", "web_config"}
    known |= {"optics_interval", "hardware_interval", "topology_interval", "cli_interval", "cli_workers"}
    known |= {"eduroam_ssids", "wifi_grace", "ap_site_rules", "radius"}
    known |= {"timezone", "retention_days", "usage_interval", "capacity_peak_clients", "shutdown_grace"}
    known |= {"interface_metrics"}
    known |= {"shard"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown settings {sorted(map(str, unknown))}")  # YAML keys: any type
    for key, env in (
        ("db", "NETMON_DB"),
        ("secrets", "NETMON_SECRETS"),
        ("inventory", "NETMON_INVENTORY"),
        ("listen", "NETMON_LISTEN"),
    ):
        if environ.get(env, "").strip():
            data[key] = environ[env]
        elif env == "NETMON_DB" and env in environ and overrides.get("db") is None:
            # Set but empty (a script's variable that did not expand): not a database in whatever directory
            # netmon happens to run in. (An empty NETMON_SECRETS or NETMON_INVENTORY means "none", as before.)
            raise ConfigError("NETMON_DB is set but empty: give the database's path, or unset it")
    for key, value in overrides.items():
        if value is not None:
            data[key] = value
    try:
        snmp = SnmpSettings(**(data.pop("snmp", None) or {}))
        cfg = Config(snmp=snmp, source=Path(path) if path else None)
        for key in ("db", "secrets", "inventory", "web_config"):
            if data.get(key) is not None:
                try:
                    p = Path(str(data[key])).expanduser()
                except RuntimeError:  # "~someone" with no such user
                    raise ValueError(f"{key}: cannot expand the ~ in {str(data[key])!r}") from None
                cfg = replace(cfg, **{key: p if p.is_absolute() else base / p})
        if "listen" in data:
            cfg = replace(cfg, listen=str(data["listen"]))
        if "interval" in data:
            cfg = replace(cfg, interval=_whole("interval", data["interval"]))
        if "concurrency" in data:
            cfg = replace(cfg, concurrency=_whole("concurrency", data["concurrency"], 0, 100_000))
        if "radius" in data:
            radius = data["radius"] if data["radius"] is not None else {}
            if not isinstance(radius, dict):
                raise ValueError("radius must be a mapping")
            cfg = replace(cfg, radius=RadiusSettings(**radius))
        if "ap_site_rules" in data:
            rules = data["ap_site_rules"] or ()
            if not isinstance(rules, list):
                raise ValueError("ap_site_rules must be a list of rules")
            for n, rule in enumerate(rules, start=1):
                problem = rule_problem(rule)
                if problem:
                    raise ValueError(f"ap_site_rules entry {n}: {problem}")
            cfg = replace(cfg, ap_site_rules=tuple({k: str(v) for k, v in r.items()} for r in rules))
        if "eduroam_ssids" in data:
            cfg = replace(cfg, eduroam_ssids=tuple(str(s) for s in data["eduroam_ssids"]))
        for key in (
            "optics_interval",
            "hardware_interval",
            "topology_interval",
            "cli_interval",
            "cli_workers",
            "wifi_grace",
            "retention_days",
            "usage_interval",
            "capacity_peak_clients",
        ):
            if key in data:
                cfg = replace(cfg, **{key: _whole(key, data[key])})
        if "interface_metrics" in data:
            cfg = replace(cfg, interface_metrics=_interface_metrics(data["interface_metrics"]))
        if "shutdown_grace" in data:
            # Bounded: a service manager kills netmon after its own stop timeout anyway (systemd: 90 s).
            cfg = replace(cfg, shutdown_grace=_whole("shutdown_grace", data["shutdown_grace"], 0, 300))
        if data.get("timezone"):
            cfg = replace(cfg, timezone=str(data["timezone"]))
        if data.get("shard") is not None:
            cfg = replace(cfg, shard=parse_shard(data["shard"]))
        cfg.zone()
        cfg.listen_host_port  # noqa: B018 - validates the listen address
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path or 'configuration'}: {exc}") from None
    if cfg.interval < 1 or cfg.concurrency < 1:
        raise ConfigError("interval must be >= 1 s and concurrency >= 1")
    if cfg.retention_days < 1 or cfg.capacity_peak_clients < 1 or cfg.usage_interval < 0:
        raise ConfigError("retention_days and capacity_peak_clients must be >= 1, usage_interval >= 0")
    if cfg.radius is not None and cfg.shard is not None and cfg.shard.index != 0:
        # One listener per city: the NAS sends accounting to one address, and two shards storing the same
        # sessions would count every eduroam user twice in the reports.
        raise ConfigError(
            f"{path or 'configuration'}: radius: only shard 0/{cfg.shard.count} runs the accounting listener "
            f"(this is shard {cfg.shard}): move 'radius:' to shard 0's configuration"
        )
    return cfg

"""Load and validate the inventory YAML file, reporting every problem as ``FILE:LINE: what``.

The file is the whole truth about sites and devices::

    sites:
      - name: central-library
        kind: library
        address: 1 Library Square
        lat: 45.50
        lon: -73.57
    devices:
      - hostname: sw-central-library
        address: 10.20.0.11        # management address
        site: central-library
        role: switch               # switch | wlc | router
        snmp: core-v3              # credential profile names (secrets file)
        ssh: noc-ssh
        port: 161                  # optional
        interval: 60               # optional, seconds
        timeout: 2.0               # optional, SNMP seconds per request
        retries: 1                 # optional
        platform: cisco_ios        # with ssh: cisco_ios cisco_xe cisco_nxos arista_eos juniper_junos cisco_wlc_ssh
        ssh_port: 22               # optional
    links:                         # optional: the city's own fibre, with lengths
      - {a: sw-central-library, a_port: Te1/1/1, b: sw-city-hall, b_port: Te1/1/2, length_km: 3.4}

Validation collects all errors before giving up, so one run shows every bad
line; nothing is imported unless the whole file is clean.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from pathlib import Path

import yaml

from inventory.model import DEFAULT_SNMP_PORT, ROLES, Device, FibreLink, Inventory, Site
from netmon.files import MAX_INVENTORY_BYTES, FileProblem, SafeLoader, check_yaml_depth, read_text

HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$")
SITE_KEYS = {"name", "kind", "address", "lat", "lon"}
LINK_KEYS = {"a", "a_port", "b", "b_port", "length_km"}
PLATFORMS = ("cisco_ios", "cisco_xe", "cisco_nxos", "arista_eos", "juniper_junos", "cisco_wlc_ssh")
DEVICE_KEYS = {"hostname", "address", "site", "role", "snmp", "ssh", "port", "interval", "timeout", "retries"}
DEVICE_KEYS |= {"platform", "ssh_port"}
_LINE = "__line__"
_LINES = "__lines__"


class InventoryError(Exception):
    """One or more problems, each already formatted as ``FILE:LINE: message``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _LineLoader(SafeLoader):
    """SafeLoader that remembers the line of every mapping and key, and refuses duplicate keys."""

    def construct_mapping(self, node, deep=False):
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults`: merged keys may be overridden, that is the point
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(None, None, "a key must be plain text", key_node.start_mark)
            if key in (_LINE, _LINES):
                raise yaml.constructor.ConstructorError(None, None, f"{key!r} is a reserved key", key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key]})", key_node.start_mark
                )
            seen[key] = line
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        mapping[_LINES] = seen
        return mapping


def _line(mapping: dict, key: str | None = None) -> int:
    if key is not None and key in mapping.get(_LINES, {}):
        return mapping[_LINES][key]
    return mapping.get(_LINE, 1)


def load(
    path: str | Path, snmp_profiles: Collection[str] | None = None, ssh_profiles: Collection[str] | None = None
) -> Inventory:
    """Parse and validate; raise :class:`InventoryError` listing every problem.

    ``snmp_profiles``/``ssh_profiles`` are the credential profile names known
    from the secrets file; ``None`` skips that check (no secrets configured).
    """
    path = Path(path)
    try:
        text = read_text(path, MAX_INVENTORY_BYTES)
        check_yaml_depth(text)
    except FileProblem as exc:
        raise InventoryError([exc.where(path)]) from None
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise InventoryError([f"{path}:{line}: bad YAML: {problem}"]) from None
    return _validate(path, doc, snmp_profiles, ssh_profiles)


def _validate(path: Path, doc, snmp_profiles, ssh_profiles) -> Inventory:
    problems: list[str] = []

    def bad(line: int, message: str) -> None:
        problems.append(f"{path}:{line}: {message}")

    if not isinstance(doc, dict):
        # An empty or truncated file must never read as "the network has no devices".
        raise InventoryError([f"{path}:1: the inventory must be a mapping with 'sites' and 'devices'"])
    for key in ("sites", "devices"):
        if key not in doc:
            bad(1, f"no '{key}' list (write '{key}: []' to declare none)")
    for key in doc:
        if key not in ("sites", "devices", "links", _LINE, _LINES):
            bad(_line(doc, key), f"unknown top-level key {key!r} (expected 'sites', 'devices', 'links')")

    sites: list[Site] = []
    site_names: dict[str, int] = {}
    for entry in _list_of_mappings(doc, "sites", bad):
        line = _line(entry)
        _unknown_keys(entry, SITE_KEYS, "site", bad)
        name = _required_str(entry, "name", "site", bad)
        kind = _required_str(entry, "kind", "site", bad)
        address = entry.get("address", "")
        if not isinstance(address, str):
            bad(_line(entry, "address"), "site address must be text")
            address = ""
        lat = _coordinate(entry, "lat", 90, bad)
        lon = _coordinate(entry, "lon", 180, bad)
        if (lat is None) != (lon is None):
            bad(line, "site needs both lat and lon, or neither")
        if name is None:
            continue
        if name in site_names:
            bad(line, f"duplicate site {name!r} (first at line {site_names[name]})")
            continue
        site_names[name] = line
        sites.append(Site(name=name, kind=kind or "", address=address, lat=lat, lon=lon))

    devices: list[Device] = []
    hostnames: dict[str, int] = {}
    for entry in _list_of_mappings(doc, "devices", bad):
        line = _line(entry)
        _unknown_keys(entry, DEVICE_KEYS, "device", bad)
        hostname = _required_str(entry, "hostname", "device", bad)
        if hostname is not None:
            if not HOSTNAME_RE.match(hostname):
                bad(_line(entry, "hostname"), f"bad hostname {hostname!r}")
            elif hostname.lower() in hostnames:
                bad(
                    _line(entry, "hostname"),
                    f"duplicate hostname {hostname!r} (first at line {hostnames[hostname.lower()]})",
                )
            else:
                hostnames[hostname.lower()] = _line(entry, "hostname")
        address = _required_str(entry, "address", "device", bad)
        if address is not None:
            try:
                address = str(ipaddress.ip_address(address))
            except ValueError:
                bad(_line(entry, "address"), f"bad management address {address!r} (an IPv4 or IPv6 address)")
        site = _required_str(entry, "site", "device", bad)
        if site is not None and site not in site_names:
            bad(_line(entry, "site"), f"unknown site {site!r}")
        role = _required_str(entry, "role", "device", bad)
        if role is not None and role not in ROLES:
            bad(_line(entry, "role"), f"bad role {role!r} (one of {', '.join(ROLES)})")
        snmp = _optional_str(entry, "snmp", bad)
        if snmp is not None and snmp_profiles is not None and snmp not in snmp_profiles:
            bad(_line(entry, "snmp"), f"unknown SNMP credential profile {snmp!r}")
        ssh = _optional_str(entry, "ssh", bad)
        if ssh is not None and ssh_profiles is not None and ssh not in ssh_profiles:
            bad(_line(entry, "ssh"), f"unknown SSH credential profile {ssh!r}")
        port = _optional_int(entry, "port", 1, 65535, bad)
        interval = _optional_int(entry, "interval", 1, 86400, bad)
        retries = _optional_int(entry, "retries", 0, 10, bad)
        ssh_port = _optional_int(entry, "ssh_port", 1, 65535, bad)
        platform = _optional_str(entry, "platform", bad)
        if platform is not None and platform not in PLATFORMS:
            bad(_line(entry, "platform"), f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})")
            platform = None
        if ssh is not None and "platform" not in entry:
            bad(_line(entry, "ssh"), "an SSH profile needs a 'platform' (the CLI to expect)")
        timeout = entry.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0.1 <= timeout <= 60
        ):
            bad(_line(entry, "timeout"), f"'timeout' must be a number of seconds from 0.1 to 60, got {timeout!r}")
            timeout = None
        if None in (hostname, address, site, role):
            continue
        devices.append(
            Device(
                hostname=hostname,
                address=address,
                site=site,
                role=role,
                snmp_profile=snmp,
                ssh_profile=ssh,
                port=port if port is not None else DEFAULT_SNMP_PORT,
                interval=interval,
                timeout=float(timeout) if timeout is not None else None,
                retries=retries,
                platform=platform,
                ssh_port=ssh_port if ssh_port is not None else 22,
            )
        )
    links: list[FibreLink] = []
    seen_ends: dict[tuple[str, str], int] = {}
    for entry in _list_of_mappings(doc, "links", bad):
        line = _line(entry)
        _unknown_keys(entry, LINK_KEYS, "link", bad)
        ends = []
        for side in ("a", "b"):
            host = _required_str(entry, side, "link", bad)
            port = _required_str(entry, f"{side}_port", "link", bad)
            if host is not None and host.lower() not in hostnames:
                bad(_line(entry, side), f"unknown device {host!r}")
            if host and port:
                end = (host.lower(), port)
                if end in seen_ends:
                    bad(_line(entry, f"{side}_port"), f"port {host} {port} already has a link (line {seen_ends[end]})")
                seen_ends[end] = line
            ends.append((host, port))
        length = entry.get("length_km")
        if length is not None and (isinstance(length, bool) or not isinstance(length, (int, float)) or length < 0):
            bad(_line(entry, "length_km"), f"'length_km' must be a number of kilometres, got {length!r}")
            length = None
        if all(h and p for h, p in ends):
            (a, a_port), (b, b_port) = ends
            links.append(FibreLink(a, a_port, b, b_port, float(length) if length is not None else None))
    if problems:
        raise InventoryError(problems)
    return Inventory(sites=sites, devices=devices, links=links)


def _list_of_mappings(doc: dict, key: str, bad) -> list[dict]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        bad(_line(doc, key), f"'{key}' must be a list")
        return []
    out = []
    for item in value:
        if isinstance(item, dict):
            out.append(item)
        else:
            bad(_line(doc, key), f"every entry of '{key}' must be a mapping, got {item!r}")
    return out


def _unknown_keys(entry: dict, allowed: set[str], what: str, bad) -> None:
    for key in entry:
        if key not in allowed and key not in (_LINE, _LINES):
            bad(_line(entry, key), f"unknown {what} field {key!r} (allowed: {', '.join(sorted(allowed))})")


def _required_str(entry: dict, key: str, what: str, bad) -> str | None:
    value = entry.get(key)
    if value is None or value == "":
        bad(_line(entry), f"{what} is missing '{key}'")
        return None
    if not isinstance(value, str):
        bad(_line(entry, key), f"{what} '{key}' must be text, got {value!r}")
        return None
    return value.strip()


def _optional_str(entry: dict, key: str, bad) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        bad(_line(entry, key), f"'{key}' must be a profile name")
        return None
    return value


def _optional_int(entry: dict, key: str, low: int, high: int, bad) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        bad(_line(entry, key), f"'{key}' must be a whole number from {low} to {high}, got {value!r}")
        return None
    return value


def _coordinate(entry: dict, key: str, limit: int, bad) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -limit <= value <= limit:
        bad(_line(entry, key), f"'{key}' must be a number from {-limit} to {limit}, got {value!r}")
        return None
    return float(value)

"""The explicit AP-to-site mapping file: one access point per line, by name or MAC.

Rules by name prefix or location string (``ap_site_rules`` in the
configuration) place most APs; the few that break the naming plan (a spare
hung in a fire station, an AP whose location string nobody filled in) are
listed in a CSV file, as a spreadsheet would export it::

    # ap, site
    ap,site
    odd-ap-7,city-hall
    00:3a:a0:00:03:e9,arena-west

The first column is an AP name (case-insensitive) or its MAC in any usual
spelling (the MAC the controller keys it by: Cisco's base radio MAC, Aruba's
AP MAC). A mapping wins over every rule. Like the inventory, the file is
checked as a whole: every bad line is reported as ``FILE:LINE: what`` and a
file with any problem is not used at all.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from inventory.yaml_file import InventoryError
from netmon.files import MAX_INVENTORY_BYTES, FileProblem, read_text
from netmon.privacy import PrivacyError, normal_mac


@dataclass(frozen=True)
class ApSiteMap:
    """Site names by AP MAC and by lower-cased AP name."""

    by_mac: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)

    def site_for(self, mac: str, name: str) -> str | None:
        try:
            found = self.by_mac.get(normal_mac(mac))
        except PrivacyError:
            found = None
        return found or self.by_name.get(name.strip().lower())

    def __len__(self) -> int:
        return len(self.by_mac) + len(self.by_name)


def _mac_or_none(text: str) -> str | None:
    # Only a spelled MAC counts (six groups of two, or one group of 12 hex digits); "cafe-ap-0012" is a name.
    stripped = text.strip().lower()
    parts = stripped.replace("-", ":").replace(".", ":").split(":")
    plain = len(parts) == 1 and len(stripped) == 12
    grouped = len(parts) == 6 and all(len(p) == 2 for p in parts)
    cisco = len(parts) == 3 and all(len(p) == 4 for p in parts)
    if not (plain or grouped or cisco) or any(c not in "0123456789abcdef" for c in "".join(parts)):
        return None
    return normal_mac(stripped)


def parse(text: str, source: str, sites: Collection[str]) -> ApSiteMap:
    """Parse a mapping; ``sites`` are the known site names. Raises InventoryError listing every bad line."""
    problems: list[str] = []
    by_mac: dict[str, str] = {}
    by_name: dict[str, str] = {}
    seen: dict[str, int] = {}
    known = set(sites)
    header_done = False
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in row]
        if not header_done:
            header_done = True
            if [c.lower() for c in cells] == ["ap", "site"]:
                continue
        if len(cells) != 2 or not all(cells):
            problems.append(f"{source}:{lineno}: expected two columns, ap,site")
            continue
        ap, site = cells
        if site not in known:
            problems.append(f"{source}:{lineno}: unknown site {site!r}")
            continue
        mac = _mac_or_none(ap)
        key = mac or ap.lower()
        if key in seen:
            problems.append(f"{source}:{lineno}: {ap!r} is already mapped on line {seen[key]}")
            continue
        seen[key] = lineno
        (by_mac if mac else by_name)[key] = site
    if problems:
        raise InventoryError(problems)
    return ApSiteMap(by_mac, by_name)


def load(path: str | Path, sites: Collection[str]) -> ApSiteMap:
    path = Path(path)
    try:
        text = read_text(path, MAX_INVENTORY_BYTES)
    except FileProblem as exc:
        raise InventoryError([exc.where(path)]) from None
    return parse(text, str(path), sites)


# -- rules (configuration ``ap_site_rules``) and the default: an AP's site from its name and location ------------


class NamedAp(Protocol):
    """What the rules read of an access point (:class:`collectors.observations.AccessPoint` has it)."""

    name: str
    location: str


def site_by_name(sites: dict[str, int]) -> Callable[[NamedAp], int | None]:
    """The default rule: the site whose name appears in the AP's name or location (the longest wins)."""
    ordered = sorted(sites.items(), key=lambda kv: -len(kv[0]))

    def site_of(ap: NamedAp) -> int | None:
        text = f"{ap.name} {ap.location}".lower()
        return next((site_id for name, site_id in ordered if name.lower() in text), None)

    return site_of


RULE_KINDS = ("name", "prefix", "location")


def rule_problem(rule: object) -> str | None:
    """What is wrong with one ``ap_site_rules`` entry as written (None: nothing); whether its site exists is the
    inventory's to say (:func:`site_rules`)."""
    if not isinstance(rule, dict):
        return "must be a mapping such as {prefix: ap-lib-, site: central-library}"
    kinds = [k for k in RULE_KINDS if k in rule]
    extra = sorted(set(map(str, rule)) - {*RULE_KINDS, "site"})
    if extra:
        return f"unknown keys {extra} (one of {', '.join(RULE_KINDS)}, and site)"
    if len(kinds) != 1:
        return f"needs exactly one of {', '.join(RULE_KINDS)} (has {len(kinds)})"
    if not _text(rule[kinds[0]]):
        return f"{kinds[0]} must be a non-empty text (an AP name, a name prefix or a location)"
    if not _text(rule.get("site")):
        return "needs a site (the name of an inventory site)"
    return None


def _text(value: object) -> str:
    """A rule's value as text: YAML reads an AP named 1234 as a number, which is still a name."""
    return str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def site_rules(rules: Iterable[dict], sites: dict[str, int]) -> Callable[[NamedAp], int | None]:
    """Configured AP-to-site rules, in order, then the name/location default.

    Each rule is ``{name: ap-name, site: S}`` (an explicit mapping), ``{prefix: ap-lib-, site: S}``
    or ``{location: "Main Library", site: S}`` (a substring of the AP's location string).
    """
    checked = []
    for rule in rules:
        if rule.get("site") not in sites or len({"name", "prefix", "location"} & set(rule)) != 1:
            raise ValueError(f"bad AP site rule {rule!r}: one of name, prefix, location, and a known site")
        checked.append(rule)
    default = site_by_name(sites)

    def site_of(ap: NamedAp) -> int | None:
        for rule in checked:
            if (
                ("name" in rule and ap.name.lower() == str(rule["name"]).lower())
                or ("prefix" in rule and ap.name.lower().startswith(str(rule["prefix"]).lower()))
                or ("location" in rule and str(rule["location"]).lower() in ap.location.lower())
            ):
                return sites[rule["site"]]
        return default(ap)

    return site_of

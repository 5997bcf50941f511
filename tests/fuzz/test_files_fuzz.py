"""Files an operator gives: the inventory and the secrets file (YAML), the AP-to-site mapping (CSV)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import given

from inventory import ap_sites
from inventory.yaml_file import InventoryError, load
from netmon import secrets as secrets_mod
from tests.fuzz import FUZZ, inputs

INVENTORY = b"""\
sites:
  - {name: hall, kind: city-hall, lat: 45.4, lon: -75.7}
  - name: library
    kind: library
devices:
  - {hostname: sw1, address: 127.0.0.1, site: hall, role: switch, snmp: p}
  - {hostname: wlc1, address: '::1', site: library, role: wlc, ssh: s, platform: cisco_wlc_ssh}
links:
  - {a: sw1, a_port: Te1/1/1, b: wlc1, b_port: Gi0/1, length_km: 2.5}
"""
SECRET_VALUE = "Tr0ub4dor-fuzz-secret"
SECRETS = f"""\
snmp:
  p: {{version: 3, user: u, auth_protocol: sha256, auth_key: {SECRET_VALUE}, priv_protocol: aes,
      priv_key: {SECRET_VALUE}}}
ssh:
  s: {{username: netmon, password: {SECRET_VALUE}}}
privacy: {{key: {SECRET_VALUE}-pseudonyms}}
radius:
  wlc: {{address: 127.0.0.0/29, secret: {SECRET_VALUE}}}
""".encode()


def _scratch(factory, name: str) -> Path:
    """One folder per target, the file rewritten for every example (100,000 folders would fill a soak's disk)."""
    folder = factory.getbasetemp() / f"fuzz-{name}"
    folder.mkdir(exist_ok=True)
    return folder


def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


@FUZZ
@given(inputs([INVENTORY], 4096))
def test_the_inventory_loader_refuses_with_file_and_line(tmp_path_factory, data):
    path = _write(_scratch(tmp_path_factory, "inv"), "inventory.yml", data)
    try:
        load(path, snmp_profiles={"p"}, ssh_profiles={"s"})
    except InventoryError as exc:
        assert all(problem.startswith(str(path)) for problem in exc.problems), exc.problems


@FUZZ
@given(inputs([SECRETS], 4096))
def test_the_secrets_loader_refuses_without_quoting_a_secret(tmp_path_factory, data):
    path = _write(_scratch(tmp_path_factory, "sec"), "secrets.yml", data)
    try:
        secrets = secrets_mod.load(path, environ={})
    except secrets_mod.SecretsError as exc:
        # Values and unknown keys are never repeated; a profile's own name is (it is how the operator finds it),
        # even when a mangled file made a secret into one.
        message = re.sub(r"(profile|client) '[^']*'", r"\1 NAME", str(exc))
        assert SECRET_VALUE not in message and str(exc).startswith(str(path))
        return
    assert SECRET_VALUE not in repr(secrets)


@FUZZ
@given(inputs([b"ap,site\nap-1,hall\n00:3a:a0:00:00:01,library\n"], 2048))
def test_the_ap_site_mapping_refuses_with_file_and_line(tmp_path_factory, data):
    path = _write(_scratch(tmp_path_factory, "aps"), "aps.csv", data)
    try:
        ap_sites.load(path, {"hall", "library"})
    except InventoryError as exc:
        assert all(problem.startswith(str(path)) for problem in exc.problems), exc.problems


CONFIG = b"""\
db: n.db
listen: 127.0.0.1:9310
interval: 60
snmp: {timeout: 2.0, retries: 1, engine: native}
ap_site_rules: [{prefix: ap-hall-, site: hall}]
radius: {listen: '127.0.0.1:1813', interim_interval: 600, fticks_sources: [127.0.0.1]}
eduroam_ssids: [eduroam]
timezone: America/Toronto
"""


@FUZZ
@given(inputs([CONFIG], 2048))
def test_the_configuration_loader_refuses_with_the_file(tmp_path_factory, data):
    from netmon import config as config_mod

    path = _write(_scratch(tmp_path_factory, "cfg"), "netmon.yml", data)
    try:
        config_mod.load(path, environ={})
    except config_mod.ConfigError as exc:
        assert str(exc).startswith(str(path)) or "interval" in str(exc) or "retention" in str(exc), str(exc)

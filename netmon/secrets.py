"""Credential profiles, read from a private secrets file or the environment.

The inventory names a profile (``snmp: core-v3``); the secret values live
here and nowhere else: never in the database, logs, metric labels or error
messages. A value of the form ``env:NAME`` is read from the environment
variable NAME, so a deployment can keep the file free of secrets entirely::

    snmp:
      core-v3:
        version: 3
        user: netmon
        auth_protocol: sha256      # md5 sha sha224 sha256 sha384 sha512
        auth_key: env:NETMON_CORE_AUTH
        priv_protocol: aes256      # des 3des aes aes128 aes192 aes256
        priv_key: env:NETMON_CORE_PRIV
      legacy:
        version: 2c
        community: env:NETMON_LEGACY_COMMUNITY
    ssh:
      noc:
        username: netmon
        password: env:NETMON_SSH_PASSWORD
    privacy:
      key: env:NETMON_PSEUDONYM_KEY   # >= 16 bytes; a new key starts new pseudonyms
    radius:                           # RADIUS accounting clients (NAS): name, source address or network, secret
      wlc-city:
        address: 192.0.2.10           # or a network: 192.0.2.0/28
        secret: env:NETMON_RADIUS_WLC_CITY
"""

from __future__ import annotations

import ipaddress
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from collectors.credentials import Nas, SnmpCredentials, SnmpV2cCredentials, SnmpV3Credentials, SshCredentials
from netmon.files import FileProblem, YamlProblem, read_settings
from netmon.privacy import PrivacyError, Pseudonymizer


class SecretsError(Exception):
    """A problem with the secrets file. Messages name profiles and fields, never values."""


@dataclass(frozen=True)
class Secrets:
    snmp: dict[str, SnmpCredentials] = field(default_factory=dict)
    ssh: dict[str, SshCredentials] = field(default_factory=dict)
    privacy: Pseudonymizer | None = None  # the key that pseudonymises residents' MACs and user names
    radius: dict[str, Nas] = field(default_factory=dict)  # accounting clients by name


def check_private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsError(
            f"{path}: refusing to read a secrets file that group or others can access "
            f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
        )


def load(path: str | Path | None, environ: dict[str, str] | None = None) -> Secrets:
    """Load the secrets file; ``None`` or a missing default gives no profiles."""
    if path is None:
        return Secrets()
    path = Path(path)
    environ = os.environ if environ is None else environ
    if not path.exists():
        raise SecretsError(f"{path}: secrets file does not exist")
    check_private(path)
    try:
        doc = read_settings(path)
    except YamlProblem as exc:
        # Only the position: the parser's own message can quote the offending line, which may hold a secret.
        raise SecretsError(f"{path}: bad YAML at {f'line {exc.line}' if exc.line else 'somewhere'}") from None
    except FileProblem as exc:
        raise SecretsError(exc.where(path)) from None
    if not isinstance(doc, dict):
        raise SecretsError(f"{path}: must be a mapping with 'snmp' and/or 'ssh'")
    for section in ("snmp", "ssh", "radius"):
        if doc.get(section) is not None and not isinstance(doc[section], dict):
            raise SecretsError(f"{path}: '{section}' must be a mapping of profile names to their settings")
    unknown = set(doc) - {"snmp", "ssh", "privacy", "radius"}
    if unknown:
        # The keys are not repeated: a secret pasted at the wrong indentation becomes a key.
        raise SecretsError(f"{path}: {len(unknown)} unknown section(s) (expected 'snmp', 'ssh', 'privacy', 'radius')")

    def value(profile: str, entry: dict, key: str, required: bool = False) -> str | None:
        raw = entry.get(key)
        if raw is None:
            if required:
                raise SecretsError(f"{path}: profile {profile!r} is missing {key!r}")
            return None
        raw = str(raw)
        if raw.startswith("env:"):
            name = raw[4:]
            if name not in environ:
                raise SecretsError(
                    f"{path}: profile {profile!r} field {key!r} refers to unset environment variable {name}"
                )
            return environ[name]
        return raw

    snmp: dict[str, SnmpCredentials] = {}
    for name, entry in (doc.get("snmp") or {}).items():
        if not isinstance(entry, dict):
            raise SecretsError(f"{path}: SNMP profile {name!r} must be a mapping")
        version = str(entry.get("version", "2c")).lower()
        try:
            if version in ("2c", "2", "v2c"):
                snmp[name] = SnmpV2cCredentials(profile=name, community=value(name, entry, "community", True))
            elif version in ("3", "v3"):
                auth = value(name, entry, "auth_protocol")
                priv = value(name, entry, "priv_protocol")
                snmp[name] = SnmpV3Credentials(
                    profile=name,
                    user=value(name, entry, "user", True),
                    auth_protocol=auth.lower() if auth else None,
                    auth_key=value(name, entry, "auth_key"),
                    priv_protocol=priv.lower() if priv else None,
                    priv_key=value(name, entry, "priv_key"),
                    context=value(name, entry, "context") or "",
                )
            else:
                raise SecretsError(f"{path}: SNMP profile {name!r}: version must be 2c or 3")
        except ValueError as exc:
            raise SecretsError(f"{path}: SNMP profile {name!r}: {exc}") from None
    ssh: dict[str, SshCredentials] = {}
    for name, entry in (doc.get("ssh") or {}).items():
        if not isinstance(entry, dict):
            raise SecretsError(f"{path}: SSH profile {name!r} must be a mapping")
        ssh[name] = SshCredentials(
            profile=name,
            username=value(name, entry, "username", True),
            password=value(name, entry, "password"),
            key_file=value(name, entry, "key_file"),
            enable_secret=value(name, entry, "enable_secret"),
        )
    privacy = None
    if doc.get("privacy") is not None:
        entry = doc["privacy"]
        if not isinstance(entry, dict):
            raise SecretsError(f"{path}: 'privacy' must be a mapping with a 'key'")
        try:
            privacy = Pseudonymizer(value("privacy", entry, "key", True).encode())
        except PrivacyError as exc:
            raise SecretsError(f"{path}: privacy: {exc}") from None
    radius: dict[str, Nas] = {}
    for name, entry in (doc.get("radius") or {}).items():
        if not isinstance(entry, dict):
            raise SecretsError(f"{path}: RADIUS client {name!r} must be a mapping with 'address' and 'secret'")
        extra = set(entry) - {"address", "secret"}
        if extra:
            raise SecretsError(
                f"{path}: RADIUS client {name!r}: {len(extra)} unknown field(s) (expected 'address' and 'secret')"
            )
        address = value(name, entry, "address", True)
        try:
            network = ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise SecretsError(f"{path}: RADIUS client {name!r}: 'address' is not an address or network") from None
        secret = value(name, entry, "secret", True)
        if not secret:
            raise SecretsError(f"{path}: RADIUS client {name!r}: empty 'secret'")
        radius[str(name)] = Nas(str(name), network, secret.encode())
    return Secrets(snmp=snmp, ssh=ssh, privacy=privacy, radius=radius)

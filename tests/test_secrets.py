"""Secrets: private file only, env indirection, nothing secret in reprs or messages."""

from __future__ import annotations

import os

import pytest

from netmon import secrets


def write(tmp_path, text, mode=0o600):
    p = tmp_path / "secrets.yml"
    p.write_text(text)
    os.chmod(p, mode)
    return p


def test_refuses_group_or_world_readable(tmp_path):
    p = write(tmp_path, "snmp: {a: {community: s3cr3t-community}}", 0o644)
    with pytest.raises(secrets.SecretsError, match="chmod 600") as err:
        secrets.load(p)
    assert "s3cr3t" not in str(err.value)
    os.chmod(p, 0o640)
    with pytest.raises(secrets.SecretsError):
        secrets.load(p)


def test_v2c_v3_ssh_and_env(tmp_path):
    p = write(
        tmp_path,
        """
snmp:
  v2: {version: 2c, community: env:COMM}
  v3:
    version: 3
    user: netmon
    auth_protocol: SHA512
    auth_key: env:AUTH
    priv_protocol: aes256
    priv_key: privkey-0123
    context: sw1
ssh:
  noc: {username: netmon, password: env:SSHPW}
""",
    )
    s = secrets.load(p, environ={"COMM": "c0mmunity", "AUTH": "authkey-0123", "SSHPW": "pw-0123"})
    assert s.snmp["v2"].community == "c0mmunity"
    v3 = s.snmp["v3"]
    assert (v3.auth_protocol, v3.priv_protocol, v3.context, v3.security_level) == (
        "sha512",
        "aes256",
        "sw1",
        "authPriv",
    )
    assert s.ssh["noc"].password == "pw-0123"
    text = repr(s)
    for secret in ("c0mmunity", "authkey-0123", "privkey-0123", "pw-0123"):
        assert secret not in text


def test_unset_env_named_not_valued(tmp_path):
    p = write(tmp_path, "snmp: {v2: {version: 2c, community: env:NOPE}}")
    with pytest.raises(secrets.SecretsError, match="unset environment variable NOPE"):
        secrets.load(p, environ={})


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("{version: 3, user: u, auth_protocol: sha, auth_key: short}", "at least 8"),
        ("{version: 3, user: u, priv_protocol: aes, priv_key: 12345678}", "privacy needs authentication"),
        ("{version: 3, user: u, auth_protocol: sha999, auth_key: 12345678}", "unknown SNMPv3 auth protocol"),
        ("{version: 1, community: x}", "version must be 2c or 3"),
        ("{version: 2c}", "missing 'community'"),
    ],
)
def test_bad_profiles(tmp_path, body, match):
    p = write(tmp_path, f"snmp:\n  p1: {body}\n")
    with pytest.raises(secrets.SecretsError, match=match):
        secrets.load(p)


def test_bad_yaml_does_not_echo_content(tmp_path):
    p = write(tmp_path, "snmp:\n  p1: {community: 'topsecret\n")
    with pytest.raises(secrets.SecretsError) as err:
        secrets.load(p)
    assert "topsecret" not in str(err.value)


def test_privacy_key(tmp_path):
    p = write(tmp_path, "privacy: {key: env:PSEUDO}\n")
    s = secrets.load(p, environ={"PSEUDO": "a-long-enough-key-0123456789"})
    assert s.privacy is not None and len(s.privacy.mac("aa:bb:cc:dd:ee:ff")) == 32
    assert "a-long-enough" not in repr(s)
    p = write(tmp_path, "privacy: {key: short}\n")
    with pytest.raises(secrets.SecretsError, match="at least 16 bytes") as err:
        secrets.load(p)
    assert "short" not in str(err.value).replace("at least", "")

"""Pseudonyms: stable under one key, unlinkable across keys, never the raw value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netmon.privacy import PrivacyError, Pseudonymizer, normal_mac, realm_of

KEY = b"k" * 32
P = Pseudonymizer(KEY)


def test_mac_spellings_are_one_device():
    spellings = ["AA:BB:CC:00:11:22", "aa-bb-cc-00-11-22", "aabb.cc00.1122", bytes.fromhex("aabbcc001122")]
    assert {P.mac(m) for m in spellings} == {P.mac("aa:bb:cc:00:11:22")}
    with pytest.raises(PrivacyError):
        normal_mac("not-a-mac")


@given(mac=st.binary(min_size=6, max_size=6), other=st.binary(min_size=6, max_size=6))
def test_pseudonyms_are_stable_distinct_and_opaque(mac, other):
    a = P.mac(mac)
    assert a == Pseudonymizer(KEY).mac(mac)
    assert len(a) == 32 and normal_mac(mac).replace(":", "") not in a
    if mac != other:
        assert a != P.mac(other)
    assert a != Pseudonymizer(b"r" * 32).mac(mac)  # a rotated key starts new pseudonyms


@pytest.mark.parametrize(
    ("username", "realm"),
    [
        ("alice@uni.example", "uni.example"),
        ("Bob@Student.UNI-Two.example.", "student.uni-two.example"),
        ("weird@name@eduroam.example", "eduroam.example"),
        ("anonymous", None),
        ("x@localhost", None),
        ("x@-bad-.example", None),
        ("x@", None),
    ],
)
def test_realm_is_the_home_institution(username, realm):
    assert realm_of(username) == realm


def test_users_are_case_insensitive_and_realm_specific():
    assert P.user("Alice@Uni.Example") == P.user("alice@uni.example")
    assert P.user("alice@uni.example") != P.user("alice@other.example")


def test_short_keys_and_reprs():
    with pytest.raises(PrivacyError):
        Pseudonymizer(b"short")
    assert "kkkk" not in repr(P) and len(P.key_id) == 8

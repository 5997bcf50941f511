"""Shards (netmon.shard): Prometheus' hashmod rule, every device in exactly one shard, and how shards are spelled."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netmon.shard import MAX_SHARDS, Shard, in_shard, parse_shard, shard_of


@dataclass(frozen=True)
class Dev:
    hostname: str


def test_prometheus_own_hashmod_cases():
    # model/relabel/relabel_test.go (TestRelabel): hashmod of "baz" and of "foo\nbar", modulus 1000.
    assert shard_of("baz", 1000) == 976
    assert shard_of("foo\nbar", 1000) == 734


@pytest.mark.parametrize("hostname", ["sw-city-hall-1", "rtr-core", "ap-library-07", "é-unicode", ""])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1024])
def test_the_last_eight_bytes_of_the_md5_big_endian(hostname, n):
    # 32 hex digits: the last 16 are bytes 8..15, big-endian as written.
    digest = hashlib.md5(hostname.encode("utf-8"), usedforsecurity=False).hexdigest()
    assert shard_of(hostname, n) == int(digest[16:], 16) % n


@pytest.mark.parametrize(
    ("hostname", "md5_hex", "by_n"),
    [
        # md5 from `printf %s HOST | md5sum`; shards from its last 16 hex digits mod 2, 3, 4, 10.
        ("sw-city-hall-1", "daedb9acf7bcc8e7fd365d4900535edb", [1, 2, 3, 9]),
        ("rtr-core", "09955774b4a1cf4c273e39b389f263a4", [0, 1, 0, 4]),
        ("ap-library-07", "91e290266c0db600ae8ffd02e4a6075b", [1, 2, 3, 9]),
    ],
)
def test_pinned_values(hostname, md5_hex, by_n):
    assert hashlib.md5(hostname.encode(), usedforsecurity=False).hexdigest() == md5_hex
    assert [int(md5_hex[16:], 16) % n for n in (2, 3, 4, 10)] == by_n
    assert [shard_of(hostname, n) for n in (2, 3, 4, 10)] == by_n


@given(
    n=st.integers(1, 64),
    hostnames=st.sets(st.text(min_size=1, max_size=40), max_size=60),
)
def test_the_shards_cover_every_hostname_exactly_once(n, hostnames):
    devices = [Dev(h) for h in sorted(hostnames)]
    seen: list[str] = []
    for k in range(n):
        part = in_shard(devices, Shard(k, n))
        assert all(shard_of(d.hostname, n) == k for d in part)
        seen += [d.hostname for d in part]
    assert sorted(seen) == sorted(hostnames)  # every one, none twice


def test_no_shard_is_every_device_in_order():
    devices = [Dev("b"), Dev("a")]
    assert in_shard(devices, None) == devices
    assert in_shard(devices, Shard(0, 1)) == devices


@pytest.mark.parametrize(("text", "shard"), [("0/1", Shard(0, 1)), ("3/4", Shard(3, 4)), (" 1 / 2 ", Shard(1, 2))])
def test_parse(text, shard):
    assert parse_shard(text) == shard
    assert str(parse_shard(text)) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2/2", "the shard must be in 0..1"),
        ("0/0", "the number of shards must be in 1..1024"),
        (f"0/{MAX_SHARDS + 1}", "the number of shards must be in 1..1024"),
        ("-1/2", "is not of the form K/N"),
        ("1", "is not of the form K/N"),
        (1, "is not of the form K/N"),
        ("a/b", "is not of the form K/N"),
        ("1/2/3", "is not of the form K/N"),
        ("", "is not of the form K/N"),
    ],
)
def test_bad_shards(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_shard(text)

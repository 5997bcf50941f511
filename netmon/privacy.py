"""Pseudonyms for residents: client MACs and user names are stored only as keyed hashes.

HMAC-SHA256 under a key from the secrets file (``privacy: {key: env:...}``),
truncated to 128 bits and written as hex: the same person gets the same
pseudonym while the key stays (so sessions and unique-user counts work), no
one without the key can test a guess, and rotating the key starts new
pseudonyms (yesterday's cannot be linked to today's). The realm of an
eduroam user name (``user@realm``) is the home institution, not the person:
it is kept in the clear, lower-cased; the user part never is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

MIN_KEY_BYTES = 16
_MAC_HEX = re.compile(r"[^0-9a-f]")
_REALM = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")


class PrivacyError(ValueError):
    pass


def normal_mac(mac: str | bytes) -> str:
    """aa:bb:cc:dd:ee:ff from any usual spelling (or 6 raw bytes), so one device has one pseudonym."""
    if isinstance(mac, bytes) and len(mac) == 6:
        digits = mac.hex()
    else:
        text = mac.decode("ascii", "replace") if isinstance(mac, bytes) else mac
        digits = _MAC_HEX.sub("", text.lower())
    if len(digits) != 12:
        raise PrivacyError("not a MAC address")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def realm_of(username: str) -> str | None:
    """The home realm of ``user@realm`` (after the last @), or None when there is no plausible one."""
    if "@" not in username:
        return None
    realm = username.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return realm if _REALM.match(realm) else None


@dataclass(frozen=True)
class Pseudonymizer:
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise PrivacyError(f"the pseudonym key must be at least {MIN_KEY_BYTES} bytes")

    def _hash(self, kind: str, value: str) -> str:
        return hmac.new(self.key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def mac(self, mac: str | bytes) -> str:
        return self._hash("mac", normal_mac(mac))

    def user(self, username: str) -> str:
        # Case-insensitive like the RADIUS servers that authenticate them; realm included: alice@a != alice@b.
        return self._hash("user", username.strip().lower())

    def address(self, address: str) -> str:
        return self._hash("ip", address.strip().lower())

    @property
    def key_id(self) -> str:
        """Names the key (not derivable into it): tells which pseudonyms belong to which key period."""
        return self._hash("key-id", "netmon")[:8]

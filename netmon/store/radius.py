"""RADIUS accounting sessions and F-Ticks events in the store: the session state machine.

One ``radius_sessions`` row per NAS, sender and session key. ``nas`` is the
declared name (secrets file), ``sender`` the source address of the
controller within it (a declaration may cover a network), ``session_key`` a
keyed hash of Acct-Session-Id plus Acct-Multi-Session-Id when present (some
NAS put the client's MAC in the id). Start, Interim-Update and Stop may come
in any order, twice, or not at all:

- the first packet of a session opens the row, whatever it is (an Interim or
  a Stop before its Start opens it at ``event time - Acct-Session-Time``);
- a packet that moves nothing forward (session time and both octet counters
  no larger than stored, and for an Interim its time no later than the
  last update) changes nothing: retransmissions and late, out-of-order
  updates are harmless, and counters never go backwards; an in-order
  Interim always moves the last update, even for an idle client;
- a Start seen after the session's updates moves ``start`` to the NAS's
  time when earlier (the updates only gave an estimate), and only once;
- a Stop closes the row once (a later duplicate changes nothing) and
  replaces netmon's own guess ``timed-out``;
- an Interim for a session netmon had timed out reopens it (the NAS was
  silent, not the user gone);
- a packet whose session began after the stored one ended (the NAS reused
  the Acct-Session-Id, as many do after a reboot: known from a Start or
  Acct-Session-Time) starts a new row; the old one keeps its history under
  ``<key>#<id>``;
- Accounting-On (the NAS restarted: its sessions are gone) closes the open
  sessions of that NAS and sender at their last update, Accounting-Off (it
  is shutting down) at the packet's time;
- a session without an update for 3 x its Acct-Interim-Interval (or the
  configured default, also when the NAS says less than 60 s) is closed by
  :func:`close_timed_out` as ``timed-out``, at its last update.

Event times are the NAS's (Event-Timestamp, else arrival minus
Acct-Delay-Time), so a retransmission maps to the same instant. Octets fold
in Acct-Input/Output-Gigawords. Personal data is stored only as pseudonyms
(:mod:`netmon.privacy`): the user name, the Calling-Station-Id MAC (with the
same function as the controller sessions, so one device has one pseudonym in
``wifi_sessions.client`` and ``radius_sessions.client``), the Framed-IP,
Chargeable-User-Identity, Operator-Name and the session id. The realm stays
in clear, and so do the NAS's name and address (infrastructure).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from collectors.radius import codec
from collectors.radius.fticks import FTicksEvent
from netmon.privacy import PrivacyError, Pseudonymizer, normal_mac, realm_of
from netmon.store.db import Database

log = logging.getLogger(__name__)
TIMED_OUT = "timed-out"
FTICKS_DROPPED = "unknown_source"  # fticks_counts: syslog datagrams from a source not in radius.fticks_sources
# fticks_counts keys that count dropped datagrams (netmon_fticks_dropped_datagrams_total{reason}), not events
FTICKS_DROP_REASONS = (FTICKS_DROPPED, "rate_limited", "overflow")
# RFC 2869 5.16: an Acct-Interim-Interval MUST NOT be below 60 s. A smaller one (0 is common: "no interim
# updates") cannot be the NAS's real rhythm; stored, it would time its sessions out at the first check, and
# every Interim would reopen them. Such a session gets the configured default instead.
MIN_INTERIM = 60
_HASHED = re.compile(r"^[0-9a-fA-F]{32,}$")


@dataclass(frozen=True)
class SessionSettings:
    eduroam_ssids: frozenset[str] = frozenset({"eduroam"})
    interim_interval: int = 600  # seconds, when the NAS does not say (Acct-Interim-Interval)


def record_batch(conn: sqlite3.Connection, batch, pseudonyms: Pseudonymizer, settings: SessionSettings) -> Counter:
    """Store one listener batch inside the caller's transaction; returns (type, result) per record.

    result is ``ok`` (the session changed), ``duplicate`` (nothing new), ``ignored`` (a status
    type that is not about sessions) or ``store_error`` (this record could not be stored; the rest
    of the batch is, and the record's index goes into ``batch.failed`` so it is not answered).
    """
    outcome: Counter = Counter()
    failed = getattr(batch, "failed", None)
    errors = []
    for index, r in enumerate(batch.records):
        # One record that cannot be stored (a value SQLite refuses, a bug) must not fail the whole batch: the
        # batch would go unanswered, every NAS would retransmit it, and every later batch would fail the same
        # way. Each record gets a savepoint; a failing one is rolled back alone, counted, and left unanswered.
        conn.execute("SAVEPOINT radius_record")
        try:
            result = _apply(conn, r, pseudonyms, settings)
        except Exception as exc:
            conn.execute("ROLLBACK TO radius_record")
            result = "store_error"
            errors.append((r.nas, r.status_name, type(exc).__name__))
            if failed is not None:
                failed.add(index)
        conn.execute("RELEASE radius_record")
        outcome[(r.status_name, result)] += 1
    if errors:
        # The exception's text may quote a value from the packet: only its type, the NAS and the status are logged
        log.error("RADIUS: %d accounting records could not be stored (first: %s from %s, %s)", len(errors),
                  errors[0][2], errors[0][0], errors[0][1])  # fmt: skip
    conn.executemany(
        "INSERT INTO radius_packets (type, result, count) VALUES (?, ?, ?) "
        "ON CONFLICT(type, result) DO UPDATE SET count = count + excluded.count",
        [(kind, result, n) for (kind, result), n in (batch.counts + outcome).items()],
    )
    conn.executemany(
        "INSERT INTO radius_nas (nas, last_packet) VALUES (?, ?) "
        "ON CONFLICT(nas) DO UPDATE SET last_packet = max(last_packet, excluded.last_packet)",
        list(batch.last_packet.items()),
    )
    return outcome


def session_pseudonym(p: Pseudonymizer, session_key: str) -> str:
    """The stored ``session_key``: a keyed hash of Acct-Session-Id (+ Acct-Multi-Session-Id), as
    :class:`Pseudonymizer` makes them (HMAC-SHA256 of kind and value, 128 bits in hex).

    Some NAS write the client's MAC into the id (Cisco AireOS: ``5c8a1b2e/00:11:22:33:44:55/123``), so it is
    personal data. Idempotency needs only equality, which the hash keeps while the key stays; after a key
    rotation the updates of a session still open start a new row (the old one times out).
    """
    digest = hmac.new(p.key, b"acct-session\x00" + session_key.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()[:32]


def _site(conn, ap_mac: str | None) -> int | None:
    if ap_mac is None:
        return None
    row = conn.execute(
        "SELECT site_id FROM access_points WHERE mac = ? AND site_id IS NOT NULL "
        "ORDER BY status = 'gone', last_seen DESC LIMIT 1",
        (ap_mac,),
    ).fetchone()
    return row[0] if row else None


def _client(p: Pseudonymizer, calling_station: str | None) -> str | None:
    if not calling_station:
        return None
    try:
        return p.mac(calling_station)
    except PrivacyError:
        return None  # not a MAC (a phone number, an address): nothing to follow a device by


def _identity(p: Pseudonymizer, r: codec.AccountingRecord) -> dict:
    return {
        "user": p.user(r.user_name) if r.user_name else None,
        "realm": realm_of(r.user_name) if r.user_name else None,
        "client": _client(p, r.calling_station),
        "operator_name": p.user(r.operator_name) if r.operator_name else None,
        "cui": p.user(r.cui) if r.cui and r.cui != "\x00" else None,
        "framed_ip": p.address(r.framed_ip) if r.framed_ip and r.framed_ip != "0.0.0.0" else None,
    }


def _apply(conn, r: codec.AccountingRecord, p: Pseudonymizer, settings: SessionSettings) -> str:
    t = r.event_time
    if r.status in (codec.ACCOUNTING_ON, codec.ACCOUNTING_OFF):
        on = r.status == codec.ACCOUNTING_ON
        # Only the sessions of the controller that sent it (its source address): one declared name may cover a
        # network of controllers, and one of them restarting ends none of the others' sessions.
        conn.execute(
            "UPDATE radius_sessions SET stop = " + ("last_update" if on else "max(last_update, ?)") + ", "
            "terminate_cause = ? WHERE nas = ? AND sender = ? AND stop IS NULL AND start <= ?",
            ((t,) if not on else ()) + ("NAS-Reboot" if on else "NAS-Request", r.nas, r.source, t),
        )
        return "ok"  # news even when nothing was open: the NAS restarted or stops
    if r.status not in (codec.START, codec.INTERIM_UPDATE, codec.STOP):
        return "ignored"
    session_time = r.session_time or 0
    inp, out = r.input_octets or 0, r.output_octets or 0
    ap_mac, ssid = codec.split_called_station(r.called_station)
    ssid = ssid or r.vendor_ssid
    cause = None
    if r.status == codec.STOP:
        cause = codec.TERMINATE_CAUSES.get(r.terminate_cause, str(r.terminate_cause or "")) or None
    key = session_pseudonym(p, r.session_key)
    row = conn.execute(
        "SELECT id, start, last_update, stop, session_time, input_octets, output_octets, terminate_cause, ap_mac, "
        "site_id, user, realm, client, interim_interval, start_seen FROM radius_sessions "
        "WHERE nas = ? AND sender = ? AND session_key = ?",
        (r.nas, r.source, key),
    ).fetchone()
    start = t if r.status == codec.START else t - session_time
    interval = r.interim_interval if r.interim_interval is not None and r.interim_interval >= MIN_INTERIM else None
    # Without Acct-Session-Time an Interim or Stop says nothing about when its session began (start would be
    # its own time): only a Start, or a session time, can show that the id was reused.
    knows_start = r.status == codec.START or r.session_time is not None
    if row is not None and row["stop"] is not None and knows_start and start > row["stop"]:
        # Began after that session ended: the NAS reused the id (many restart their counters on reboot).
        # The old row keeps its history under a key of its own; this one starts afresh.
        conn.execute("UPDATE radius_sessions SET session_key = session_key || '#' || id WHERE id = ?", (row["id"],))
        row = None
    if row is None:
        ident = _identity(p, r)
        conn.execute(
            "INSERT INTO radius_sessions (nas, sender, session_key, user, realm, client, operator_name, cui, "
            "framed_ip, ap_mac, ssid, site_id, eduroam, start, last_update, stop, session_time, input_octets, "
            "output_octets, terminate_cause, interim_interval, start_seen) "
            f"VALUES ({', '.join('?' * 22)})",
            (r.nas, r.source, key, ident["user"], ident["realm"], ident["client"], ident["operator_name"],
             ident["cui"], ident["framed_ip"], ap_mac, ssid, _site(conn, ap_mac),
             int(ssid is not None and ssid in settings.eduroam_ssids), start, t,
             t if r.status == codec.STOP else None, session_time, inp, out, cause, interval,
             int(r.status == codec.START)),
        )  # fmt: skip
        return "ok"
    sets: dict[str, object] = {}
    newer = session_time > row["session_time"] or inp > row["input_octets"] or out > row["output_octets"]
    if r.status == codec.START and not row["start_seen"]:
        # The Start after the updates that opened the row: the NAS's own start time replaces the estimate.
        # A session whose Start was seen keeps it (a late Start of an older session with a reused id is not news).
        sets.update(start=min(t, row["start"]), start_seen=1)
    # An Interim newer than the last update shows the session alive even when no counter moved (an idle client,
    # a NAS that omits Acct-Session-Time): without this, such a session would be closed as timed-out while its
    # Interims keep coming. Not for a session the NAS itself closed. Interims are at least MIN_INTERIM apart; one
    # less than half of that after the last update is a retransmission timed by its arrival (no Event-Timestamp,
    # Acct-Delay-Time not updated), not news.
    alive = (
        r.status == codec.INTERIM_UPDATE
        and t >= row["last_update"] + MIN_INTERIM / 2
        and (row["stop"] is None or row["terminate_cause"] == TIMED_OUT)
    )
    if newer:
        sets.update(session_time=max(session_time, row["session_time"]), input_octets=max(inp, row["input_octets"]),
                    output_octets=max(out, row["output_octets"]), last_update=max(t, row["last_update"]))  # fmt: skip
    elif alive:
        sets["last_update"] = t  # counters never go backwards: only the time moves
    if newer or alive:
        if ap_mac is not None and ap_mac != row["ap_mac"]:  # roamed: the session follows the AP it is on
            sets.update(ap_mac=ap_mac, ssid=ssid, site_id=_site(conn, ap_mac),
                        eduroam=int(ssid is not None and ssid in settings.eduroam_ssids))  # fmt: skip
        if r.status == codec.INTERIM_UPDATE and row["terminate_cause"] == TIMED_OUT:
            sets.update(stop=None, terminate_cause=None)  # only netmon's guess: the NAS was silent, not the user gone
    if r.status == codec.STOP and (row["stop"] is None or row["terminate_cause"] == TIMED_OUT):
        sets.update(stop=max(t, row["start"]), terminate_cause=cause, last_update=max(t, row["last_update"]))
    if interval is not None and interval != row["interim_interval"]:
        sets["interim_interval"] = interval
    if "site_id" not in sets and row["site_id"] is None and row["ap_mac"] is not None:
        site = _site(conn, row["ap_mac"])  # the controller's inventory may have come after the session's start
        if site is not None:
            sets["site_id"] = site
    if (row["user"] is None and r.user_name) or (row["client"] is None and _client(p, r.calling_station)):
        for key, value in _identity(p, r).items():
            if value is not None and key in ("user", "realm", "client") and row[key] is None:
                sets.setdefault(key, value)
    if sets:
        _update(conn, row["id"], sets)
    # Housekeeping (a site found, an interval learnt) is not news about the session.
    return "ok" if set(sets) - {"interim_interval", "site_id", "start_seen"} else "duplicate"


def _update(conn, row_id: int, sets: dict) -> None:
    conn.execute(
        f"UPDATE radius_sessions SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?", [*sets.values(), row_id]
    )


def close_timed_out(conn: sqlite3.Connection, now: float, default_interval: int) -> int:
    """Close open sessions silent for 3 x their interim interval, at their last update; returns how many."""
    return conn.execute(
        "UPDATE radius_sessions SET stop = last_update, terminate_cause = ? "
        "WHERE stop IS NULL AND last_update < ? - 3 * coalesce(interim_interval, ?)",
        (TIMED_OUT, now, default_interval),
    ).rowcount


def csi_pseudonym(p: Pseudonymizer, csi: str | None) -> str | None:
    """F-Ticks CSI: a MAC gets the same pseudonym as the device's sessions; a hash is kept as it came."""
    if not csi:
        return None
    try:
        normal_mac(csi)
        return p.mac(csi)
    except PrivacyError:
        pass
    if _HASHED.match(csi):
        return csi.lower()  # the RADIUS server hashed it already (radsecproxy FTicksMAC FullyHashed)
    return p.user(csi)


def record_fticks(
    conn: sqlite3.Connection,
    events: Iterable[FTicksEvent],
    pseudonyms: Pseudonymizer,
    malformed: int = 0,
    dropped: int | Mapping[str, int] = 0,
) -> int:
    """F-Ticks events inside the caller's transaction: one row each, a "repeated N times" line one row of weight N.

    ``malformed`` lines and ``dropped`` syslog datagrams are counted too: an int counts datagrams from a source not
    allowed, a mapping counts them by reason (``unknown_source``, ``rate_limited``, ``overflow``). Returns the rows
    written.
    """
    rows = []
    counts: Counter = Counter()
    for e in events:
        rows.append((e.ts, e.realm, e.viscountry, e.visinst, e.result, csi_pseudonym(pseudonyms, e.csi), e.repeat))
        counts[e.result] += e.repeat
    if malformed:
        counts["malformed"] += malformed
    for reason, n in dropped.items() if isinstance(dropped, Mapping) else [(FTICKS_DROPPED, dropped)]:
        if n:
            counts[reason] += n
    conn.executemany(
        "INSERT INTO fticks_events (ts, realm, viscountry, visinst, result, csi, weight) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO fticks_counts (result, count) VALUES (?, ?) "
        "ON CONFLICT(result) DO UPDATE SET count = count + excluded.count",
        list(counts.items()),
    )
    return len(rows)


class RadiusStore(Database):
    def record_radius(self, batch, pseudonyms, settings) -> Counter:
        """One accounting listener batch in one transaction; returns (type, result) per record."""
        with self.transaction() as conn:
            return record_batch(conn, batch, pseudonyms, settings)

    def close_timed_out_radius(self, now: float, default_interval: int) -> int:
        with self.transaction() as conn:
            return close_timed_out(conn, now, default_interval)

    def record_fticks(self, events, pseudonyms, malformed: int = 0, dropped: int = 0) -> int:
        with self.transaction() as conn:
            return record_fticks(conn, events, pseudonyms, malformed, dropped)

    def radius_sessions(self, open_only: bool = False) -> list[dict]:
        sql = "SELECT r.*, s.name AS site FROM radius_sessions r LEFT JOIN sites s ON s.id = r.site_id"
        if open_only:
            sql += " WHERE r.stop IS NULL"
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY r.start, r.id")]

    def radius_packet_counts(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute("SELECT type, result, count FROM radius_packets ORDER BY 1, 2")]

    def radius_last_packets(self) -> dict[str, float]:
        return {r["nas"]: r["last_packet"] for r in self.conn.execute("SELECT nas, last_packet FROM radius_nas")}

    def radius_active(self) -> list[dict]:
        """Open sessions counted by SSID, eduroam flag and realm."""
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT coalesce(ssid, '') AS ssid, eduroam, realm, count(*) AS sessions FROM radius_sessions "
                "WHERE stop IS NULL GROUP BY 1, 2, 3"
            )
        ]

    def fticks_counts(self) -> dict[str, int]:
        return {r["result"]: r["count"] for r in self.conn.execute("SELECT result, count FROM fticks_counts")}

"""The store's schema: every migration, in order, in one place.

Migration N is applied once, in one transaction with the ``schema_migrations``
row that records it (:meth:`netmon.store.db.Database.migrate`). Released
migrations are never edited: a change to the schema is a new one at the end.
"""

from __future__ import annotations

COUNTERS = (
    "in_octets",
    "out_octets",
    "in_ucast_pkts",
    "out_ucast_pkts",
    "in_errors",
    "out_errors",
    "in_discards",
    "out_discards",
)
# IF-MIB defines errors and discards only as Counter32, whatever the octet counters are.
ALWAYS_32 = {"in_errors", "out_errors", "in_discards", "out_discards"}

# Raw device values are TEXT: a Counter64 can exceed SQLite's signed 64-bit INTEGER
# (some agents answer 2**64-1 for counters they do not keep).
_COUNTER_COLUMNS = ",\n".join(f"    raw_{c} TEXT,\n    total_{c} INTEGER NOT NULL DEFAULT 0" for c in COUNTERS)

MIGRATIONS: list[str] = [
    # 1: inventory, latest state, events, collector health
    f"""
CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lat REAL,
    lon REAL
);
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    hostname TEXT NOT NULL UNIQUE COLLATE NOCASE,
    address TEXT NOT NULL,
    port INTEGER NOT NULL DEFAULT 161,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    role TEXT NOT NULL CHECK (role IN ('switch', 'wlc', 'router', 'ap')),
    snmp_profile TEXT,
    ssh_profile TEXT,
    interval INTEGER,
    snmp_timeout REAL,
    snmp_retries INTEGER
);
CREATE TABLE device_state (
    device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    up INTEGER,
    last_poll REAL,
    last_success REAL,
    sys_descr TEXT,
    sys_object_id TEXT,
    sys_name TEXT,
    uptime_ticks INTEGER,
    uptime_at REAL,
    last_error_reason TEXT
);
CREATE TABLE interfaces (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ifindex INTEGER NOT NULL,
    name TEXT NOT NULL,
    descr TEXT NOT NULL DEFAULT '',
    alias TEXT NOT NULL DEFAULT '',
    type INTEGER,
    speed_bps INTEGER,
    admin_status INTEGER,
    oper_status INTEGER,
    counter_bits INTEGER NOT NULL,
    sampled_at REAL NOT NULL,
    uptime_ticks INTEGER,
    discontinuity_ticks INTEGER,
    missing_polls INTEGER NOT NULL DEFAULT 0,
{_COUNTER_COLUMNS},
    PRIMARY KEY (device_id, ifindex)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    device_id INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    hostname TEXT NOT NULL,
    kind TEXT NOT NULL,
    ifindex INTEGER,
    ifname TEXT,
    old TEXT,
    new TEXT,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_device ON events(device_id, ts);
CREATE TABLE collector_status (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    collector TEXT NOT NULL,
    last_run REAL NOT NULL,
    duration REAL NOT NULL,
    last_success REAL,
    last_error_reason TEXT,
    PRIMARY KEY (device_id, collector)
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta VALUES ('inventory_generation', '0');
CREATE TABLE snmp_drops (
    reason TEXT PRIMARY KEY,
    count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE collector_errors (
    collector TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (collector, reason)
);
""",
    # 2: transceiver DOM readings (latest per device, port, lane and sensor kind), hardware inventory
    """
ALTER TABLE devices ADD COLUMN platform TEXT;
ALTER TABLE device_state ADD COLUMN chassis_id TEXT;
ALTER TABLE devices ADD COLUMN ssh_port INTEGER NOT NULL DEFAULT 22;
CREATE TABLE links (
    id INTEGER PRIMARY KEY,
    a_device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    a_port TEXT NOT NULL,
    protocol TEXT NOT NULL,
    b_name TEXT NOT NULL,
    b_port TEXT NOT NULL,
    b_device_id INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    b_chassis_id TEXT NOT NULL DEFAULT '',
    b_address TEXT NOT NULL DEFAULT '',
    b_platform TEXT NOT NULL DEFAULT '',
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    UNIQUE (a_device_id, a_port, protocol, b_name, b_port)
);
CREATE TABLE fibre_links (
    a_device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    a_port TEXT NOT NULL,
    b_device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    b_port TEXT NOT NULL,
    length_km REAL,
    PRIMARY KEY (a_device_id, a_port)
);
CREATE TABLE hardware (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entity_index INTEGER,
    class TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    firmware TEXT NOT NULL DEFAULT '',
    software TEXT NOT NULL DEFAULT '',
    hardware_rev TEXT NOT NULL DEFAULT '',
    contained_in INTEGER,
    seen_at REAL NOT NULL,
    source TEXT NOT NULL DEFAULT 'snmp',
    PRIMARY KEY (device_id, position)
);
CREATE TABLE optics (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ifname TEXT NOT NULL,
    ifindex INTEGER,
    lane INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value REAL NOT NULL,
    low_alarm REAL,
    low_warning REAL,
    high_warning REAL,
    high_alarm REAL,
    sensor TEXT NOT NULL DEFAULT '',
    sampled_at REAL NOT NULL,
    source TEXT NOT NULL DEFAULT 'snmp',
    PRIMARY KEY (device_id, ifname, lane, kind)
);
""",
    # 3: Wi-Fi: access points, per-AP/SSID client samples, client sessions (pseudonymised)
    """
CREATE TABLE access_points (
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    mac TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    uptime_seconds INTEGER,
    site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    PRIMARY KEY (controller_id, mac)
);
CREATE TABLE ap_radios (
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ap_mac TEXT NOT NULL,
    slot INTEGER NOT NULL,
    band TEXT,
    channel INTEGER,
    tx_power REAL,
    tx_power_unit TEXT NOT NULL DEFAULT '',
    clients INTEGER,
    utilization REAL,
    status TEXT NOT NULL DEFAULT 'unknown',
    seen_at REAL NOT NULL,
    PRIMARY KEY (controller_id, ap_mac, slot)
);
CREATE TABLE wifi_samples (
    ts REAL NOT NULL,
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ap_mac TEXT NOT NULL,
    ssid TEXT NOT NULL,
    clients INTEGER NOT NULL
);
CREATE INDEX wifi_samples_ts ON wifi_samples(ts);
CREATE INDEX wifi_samples_controller ON wifi_samples(controller_id, ts);
CREATE TABLE wifi_sessions (
    id INTEGER PRIMARY KEY,
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    client TEXT NOT NULL,
    ssid TEXT NOT NULL,
    ap_mac TEXT NOT NULL,
    site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL,
    start REAL NOT NULL,
    last_seen REAL NOT NULL,
    end REAL,
    bytes_rx INTEGER NOT NULL DEFAULT 0,
    bytes_tx INTEGER NOT NULL DEFAULT 0,
    raw_rx INTEGER NOT NULL DEFAULT 0,
    raw_tx INTEGER NOT NULL DEFAULT 0,
    eduroam INTEGER NOT NULL DEFAULT 0,
    realm TEXT,
    user TEXT,
    source TEXT NOT NULL DEFAULT 'poll'
);
CREATE INDEX wifi_sessions_open ON wifi_sessions(controller_id, client) WHERE end IS NULL;
CREATE INDEX wifi_sessions_start ON wifi_sessions(start);
""",
    # 4: the explicit AP-to-site mapping (inventory/ap_sites.py), imported like the inventory
    # key: an AP's MAC (aa:bb:..) when kind = 'mac', its lower-cased name when kind = 'name'
    """
CREATE TABLE ap_site_map (
    kind TEXT NOT NULL CHECK (kind IN ('mac', 'name')),
    key TEXT NOT NULL,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, key)
);
""",
    # 5: RADIUS accounting sessions, packet counts per type and result, last packet per NAS, F-Ticks events
    """
CREATE TABLE radius_sessions (
    id INTEGER PRIMARY KEY,
    nas TEXT NOT NULL,
    sender TEXT NOT NULL DEFAULT '',
    session_key TEXT NOT NULL,
    user TEXT,
    realm TEXT,
    client TEXT,
    operator_name TEXT,
    cui TEXT,
    framed_ip TEXT,
    ap_mac TEXT,
    ssid TEXT,
    site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL,
    eduroam INTEGER NOT NULL DEFAULT 0,
    start REAL NOT NULL,
    last_update REAL NOT NULL,
    stop REAL,
    session_time INTEGER NOT NULL DEFAULT 0,
    input_octets INTEGER NOT NULL DEFAULT 0,
    output_octets INTEGER NOT NULL DEFAULT 0,
    terminate_cause TEXT,
    interim_interval INTEGER,
    start_seen INTEGER NOT NULL DEFAULT 0,
    UNIQUE (nas, sender, session_key)
);
CREATE INDEX radius_sessions_open ON radius_sessions(last_update) WHERE stop IS NULL;
CREATE INDEX radius_sessions_start ON radius_sessions(start);
CREATE INDEX radius_sessions_client ON radius_sessions(client);
CREATE TABLE radius_packets (
    type TEXT NOT NULL,
    result TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (type, result)
);
CREATE TABLE radius_nas (
    nas TEXT PRIMARY KEY,
    last_packet REAL NOT NULL
);
CREATE TABLE fticks_events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    realm TEXT NOT NULL,
    viscountry TEXT,
    visinst TEXT,
    result TEXT NOT NULL,
    csi TEXT
);
CREATE INDEX fticks_events_ts ON fticks_events(ts);
CREATE TABLE fticks_counts (
    result TEXT PRIMARY KEY,
    count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX access_points_mac ON access_points(mac);
""",
    # 6: daily Wi-Fi usage aggregates for the planners' reports (kept when raw sessions are pruned)
    """
CREATE TABLE usage_days (
    day TEXT PRIMARY KEY,
    tz TEXT NOT NULL,
    built_at REAL NOT NULL,
    complete INTEGER NOT NULL,
    pruned INTEGER NOT NULL DEFAULT 0,
    source_sessions INTEGER NOT NULL
);
CREATE TABLE usage_daily (
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    ssid TEXT NOT NULL,
    clients INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    connected_hours REAL NOT NULL,
    bytes INTEGER NOT NULL,
    peak_clients INTEGER NOT NULL,
    peak_hour INTEGER,
    eduroam_sessions INTEGER NOT NULL,
    eduroam_users INTEGER NOT NULL,
    clients_hll BLOB NOT NULL,
    PRIMARY KEY (day, site, ssid)
);
CREATE TABLE usage_site_daily (
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    clients INTEGER NOT NULL,
    peak_clients INTEGER NOT NULL,
    peak_hour INTEGER,
    clients_hll BLOB NOT NULL,
    PRIMARY KEY (day, site)
);
CREATE TABLE usage_daily_realm (
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    ssid TEXT NOT NULL,
    realm TEXT NOT NULL,
    sessions INTEGER NOT NULL,
    users INTEGER NOT NULL,
    users_hll BLOB NOT NULL,
    PRIMARY KEY (day, site, ssid, realm)
);
CREATE TABLE usage_hourly (
    day TEXT NOT NULL,
    site TEXT NOT NULL,
    hour INTEGER NOT NULL,
    clients INTEGER NOT NULL,
    connected_hours REAL NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (day, site, hour)
);
CREATE TABLE usage_ap_daily (
    day TEXT NOT NULL,
    ap_mac TEXT NOT NULL,
    ap_name TEXT NOT NULL,
    site TEXT NOT NULL,
    sessions INTEGER NOT NULL,
    clients INTEGER NOT NULL,
    connected_hours REAL NOT NULL,
    peak_clients INTEGER NOT NULL,
    peak_hour INTEGER,
    PRIMARY KEY (day, ap_mac)
);
""",
    # 7: an F-Ticks "message repeated N times" line is one row of weight N, not N rows (a flood cannot grow the store)
    """
ALTER TABLE fticks_events ADD COLUMN weight INTEGER NOT NULL DEFAULT 1;
""",
    # 8: Wi-Fi client counts written when they change, not at every poll (docs/scaling.md). One row per controller
    # poll (wifi_polls); a count (wifi_counts) holds from its poll until the next row of the same controller, AP
    # and SSID (0: gone); a ``full`` poll lists every non-zero count, so a reader starts from the last one.
    # Strings by id (names). wifi_current: each controller's counts at its latest poll. ``wifi_samples`` stays
    # as a view of the rows written, and an insert into it is one count at that poll.
    """
CREATE TABLE names (
    id INTEGER PRIMARY KEY,
    value TEXT NOT NULL UNIQUE
);
CREATE TABLE wifi_polls (
    id INTEGER PRIMARY KEY,
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ts REAL NOT NULL,
    full INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX wifi_polls_controller ON wifi_polls(controller_id, ts);
CREATE INDEX wifi_polls_ts ON wifi_polls(ts);
CREATE TABLE wifi_counts (
    poll_id INTEGER NOT NULL REFERENCES wifi_polls(id) ON DELETE CASCADE,
    ap_id INTEGER NOT NULL REFERENCES names(id),
    ssid_id INTEGER NOT NULL REFERENCES names(id),
    clients INTEGER NOT NULL,
    PRIMARY KEY (poll_id, ap_id, ssid_id)
) WITHOUT ROWID;
CREATE TABLE wifi_current (
    controller_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ap_id INTEGER NOT NULL REFERENCES names(id),
    ssid_id INTEGER NOT NULL REFERENCES names(id),
    clients INTEGER NOT NULL,
    PRIMARY KEY (controller_id, ap_id, ssid_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO names (value) SELECT ap_mac FROM wifi_samples UNION SELECT ssid FROM wifi_samples;
INSERT INTO wifi_polls (controller_id, ts, full)
    SELECT controller_id, ts, 1 FROM wifi_samples GROUP BY controller_id, ts ORDER BY ts, controller_id;
INSERT INTO wifi_counts (poll_id, ap_id, ssid_id, clients)
    SELECT p.id, a.id, s.id, sum(w.clients) FROM wifi_samples w
    JOIN wifi_polls p ON p.controller_id = w.controller_id AND p.ts = w.ts
    JOIN names a ON a.value = w.ap_mac JOIN names s ON s.value = w.ssid
    WHERE w.clients != 0 GROUP BY p.id, a.id, s.id;
INSERT INTO wifi_current (controller_id, ap_id, ssid_id, clients)
    SELECT p.controller_id, c.ap_id, c.ssid_id, c.clients FROM wifi_counts c JOIN wifi_polls p ON p.id = c.poll_id
    WHERE p.ts = (SELECT max(ts) FROM wifi_polls x WHERE x.controller_id = p.controller_id);
DROP TABLE wifi_samples;
CREATE VIEW wifi_samples AS
    SELECT p.ts, p.controller_id, a.value AS ap_mac, s.value AS ssid, c.clients
    FROM wifi_counts c JOIN wifi_polls p ON p.id = c.poll_id
    JOIN names a ON a.id = c.ap_id JOIN names s ON s.id = c.ssid_id;
CREATE TRIGGER wifi_samples_insert INSTEAD OF INSERT ON wifi_samples BEGIN
    INSERT OR IGNORE INTO names (value) VALUES (NEW.ap_mac), (NEW.ssid);
    INSERT INTO wifi_polls (controller_id, ts) SELECT NEW.controller_id, NEW.ts
        WHERE NOT EXISTS (SELECT 1 FROM wifi_polls WHERE controller_id = NEW.controller_id AND ts = NEW.ts);
    INSERT INTO wifi_counts (poll_id, ap_id, ssid_id, clients) VALUES (
        (SELECT min(id) FROM wifi_polls WHERE controller_id = NEW.controller_id AND ts = NEW.ts),
        (SELECT id FROM names WHERE value = NEW.ap_mac), (SELECT id FROM names WHERE value = NEW.ssid), NEW.clients)
        ON CONFLICT (poll_id, ap_id, ssid_id) DO UPDATE SET clients = clients + excluded.clients;
END;
""",
]

"""Cisco Catalyst 9800 (IOS-XE) controllers: CISCO-LWAPP-* first, AIRESPACE where LWAPP has no field.

From the LWAPP MIBs:

* CISCO-LWAPP-AP-MIB cLApTable ``1.3.6.1.4.1.9.9.513.1.1.1.1`` by
  cLApSysMacAddress (the base radio MAC, the same key bsnAPTable uses):
  5 name, 6 uptime (TimeTicks), 38 admin status (TruthValue), 49 location.
  The table lists the APs that have joined the controller.
* cLApExtTable ``...9.9.513.1.1.10.1``: 4 cLApInetAddress (IPv4 or IPv6).
* cLApGlobalAPConnectCount ``...9.9.513.1.3.35.0``: the controller's AP count.
* CISCO-LWAPP-WLAN-MIB cLWlanConfigTable ``...9.9.512.1.1.1.1`` by
  cLWlanIndex (the same index as bsnDot11EssIndex): 3 profile name, 4 SSID.
* CISCO-LWAPP-DOT11-CLIENT-MIB cldcClientTable ``...9.9.599.1.3.1.1`` by client
  MAC: 2 status (CLDot11ClientStatus: idle 1 ... associated 4 ... excluded 9,
  one more than the AIRESPACE numbering), 3 WLAN profile, 6 protocol,
  8 AP (base radio) MAC, 27 user name, 28 SSID; cldcClientStatisticTable
  ``...9.9.599.1.4.1.1``: 9 data bytes received from, 13 sent to the client.

From AIRESPACE-WIRELESS-MIB, which the 9800 still answers: AP model and
serial and operational status (bsnAPTable), the radios (bsnAPIfTable: the
LWAPP tables have no channel, power or client count), clients per WLAN
(bsnDot11EssNumberOfMobileStations, as LibreNMS reads it on this platform),
client RSSI and SNR (bsnMobileStationStatsTable), and the client protocol
where cldcClientProtocol has no value for it (its enumeration stops at
802.11ac; bsnMobileStationProtocol knows 802.11ax).
"""

from __future__ import annotations

from collectors.observations import Client, Wlan, WlcResult
from collectors.snmp.api import SnmpSession
from collectors.wlc import aireos, core

name = "c9800"

LAP = (1, 3, 6, 1, 4, 1, 9, 9, 513, 1, 1, 1, 1)
LAP_NAME, LAP_UPTIME, LAP_ADMIN, LAP_LOCATION = (LAP + (c,) for c in (5, 6, 38, 49))
LAP_ADDRESS = (1, 3, 6, 1, 4, 1, 9, 9, 513, 1, 1, 10, 1, 4)  # cLApInetAddress
LAP_CONNECT_COUNT = (1, 3, 6, 1, 4, 1, 9, 9, 513, 1, 3, 35, 0)  # cLApGlobalAPConnectCount
WLAN = (1, 3, 6, 1, 4, 1, 9, 9, 512, 1, 1, 1, 1)
WLAN_PROFILE, WLAN_SSID = WLAN + (3,), WLAN + (4,)
CLDC = (1, 3, 6, 1, 4, 1, 9, 9, 599, 1, 3, 1, 1)
CLDC_STATUS, CLDC_PROFILE, CLDC_PROTOCOL, CLDC_AP_MAC, CLDC_USER, CLDC_SSID = (
    CLDC + (c,) for c in (2, 3, 6, 8, 27, 28)
)
CLDC_STATS = (1, 3, 6, 1, 4, 1, 9, 9, 599, 1, 4, 1, 1)
CLDC_BYTES_RX, CLDC_BYTES_TX = CLDC_STATS + (9,), CLDC_STATS + (13,)

TRUTH_FALSE = 2
CLIENT_STATUS = {
    1: "idle",
    2: "aaaPending",
    3: "authenticated",
    4: "associated",
    5: "powersave",
    6: "disassociated",
    7: "tobedeleted",
    8: "probing",
    9: "excluded",
}
CLIENT_PROTOCOL = {
    1: "802.11a",
    2: "802.11b",
    3: "802.11g",
    5: "mobile",
    6: "802.11n",  # dot11n24
    7: "802.11n",  # dot11n5
    8: "ethernet",
    9: "802.3",
    10: "802.11ac",  # dot11ac5
}


def ap_status(admin: object, oper: object) -> str:
    if admin == TRUTH_FALSE:
        return "disabled"
    if core.number(oper) is not None:
        return aireos.ap_status(oper, None)
    return "up"  # listed in cLApTable: joined to this controller


async def read(session: SnmpSession) -> WlcResult:
    scalars = await session.get([LAP_CONNECT_COUNT])
    cols = await session.walk_columns(
        [LAP_NAME, LAP_UPTIME, LAP_ADMIN, LAP_LOCATION, LAP_ADDRESS, aireos.AP_MODEL, aireos.AP_SERIAL, aireos.AP_OPER]
    )
    cols.update(await session.walk_columns([*aireos.RADIO_COLUMNS, WLAN_PROFILE, WLAN_SSID, aireos.ESS_CLIENTS]))
    cols.update(
        await session.walk_columns(
            [
                CLDC_STATUS,
                CLDC_PROFILE,
                CLDC_PROTOCOL,
                CLDC_AP_MAC,
                CLDC_USER,
                CLDC_SSID,
                CLDC_BYTES_RX,
                CLDC_BYTES_TX,
                aireos.MS_RSSI,
                aireos.MS_SNR,
                aireos.MS_PROTOCOL,
            ]
        )
    )

    aps = core.mac_keyed_aps(
        cols,
        core.rows(cols, LAP_NAME),
        lambda index: ap_status(cols[LAP_ADMIN].get(index), cols[aireos.AP_OPER].get(index)),
        name=LAP_NAME,
        model=aireos.AP_MODEL,
        serial=aireos.AP_SERIAL,
        ip=LAP_ADDRESS,
        location=LAP_LOCATION,
        uptime=LAP_UPTIME,
    )

    wlans = []
    wlan_of_profile: dict[str, int] = {}
    for index in core.rows(cols, WLAN_SSID, aireos.ESS_CLIENTS):
        if len(index) != 1:
            continue
        wlans.append(
            Wlan(core.text(cols[WLAN_SSID].get(index)), index[0], core.number(cols[aireos.ESS_CLIENTS].get(index)))
        )
        profile = core.text(cols[WLAN_PROFILE].get(index))
        if profile:
            wlan_of_profile[profile] = index[0]
    ssid_of = {w.wlan_id: w.ssid for w in wlans}

    clients = []
    for index in core.rows(cols, CLDC_STATUS, CLDC_AP_MAC):
        client_mac = core.mac(index)
        if not client_mac:
            continue
        wlan_id = wlan_of_profile.get(core.text(cols[CLDC_PROFILE].get(index)))
        protocol = CLIENT_PROTOCOL.get(core.number(cols[CLDC_PROTOCOL].get(index)))
        if protocol is None:
            protocol = aireos.STATION_PROTOCOL.get(core.number(cols[aireos.MS_PROTOCOL].get(index)), "unknown")
        clients.append(
            Client(
                mac=client_mac,
                ap_mac=core.mac(cols[CLDC_AP_MAC].get(index)),
                ssid=core.text(cols[CLDC_SSID].get(index)) or ssid_of.get(wlan_id, ""),
                wlan_id=wlan_id,
                protocol=protocol,
                rssi_dbm=core.number(cols[aireos.MS_RSSI].get(index)),
                snr_db=core.number(cols[aireos.MS_SNR].get(index)),
                bytes_rx=core.number(cols[CLDC_BYTES_RX].get(index)),
                bytes_tx=core.number(cols[CLDC_BYTES_TX].get(index)),
                status=CLIENT_STATUS.get(core.number(cols[CLDC_STATUS].get(index)), "unknown"),
                username=core.text(cols[CLDC_USER].get(index)),
            )
        )

    return core.result(
        name,
        await core.controller_model(session),
        aps,
        aireos.radios(cols),
        wlans,
        clients,
        reported_ap_count=core.number(scalars.get(LAP_CONNECT_COUNT)),
    )

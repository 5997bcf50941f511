"""Cisco AireOS controllers and Cisco Business Wireless: AIRESPACE-WIRELESS-MIB.

Tables (column numbers from AIRESPACE-WIRELESS-MIB, checked against the
CBW240AC walk in ../shared/fixtures):

* bsnAPTable ``1.3.6.1.4.1.14179.2.2.1.1`` by bsnAPDot3MacAddress (the base
  radio MAC): 3 name, 4 location, 6 operation status (associated 1,
  disassociating 2, downloading 3), 16 model, 17 serial, 19 IP, 37 admin
  status (enable 1, disable 2);
* bsnAPIfTable ``...14179.2.2.2.1`` by (AP MAC, slot): 2 type (dot11b 1,
  dot11a 2, uwb 4, dot116ghz 6, dot11xor56ghz 7), 4 channel (an enumeration
  whose values are the channel numbers), 6 Tx power level (1..8, 1 the
  strongest), 12 oper status (down 1, up 2), 15 clients, 22 the radio's
  power levels in dBm ("16,13,10,7,4,1,-1");
* bsnAPIfLoadParametersTable ``...14179.2.2.13.1``: 3 channel utilisation %;
* bsnDot11EssTable ``...14179.2.1.1.1`` by WLAN index: 2 SSID, 38 clients;
* bsnMobileStationTable ``...14179.2.1.4.1`` by client MAC: 3 user name,
  4 AP MAC, 6 WLAN index, 7 SSID, 9 status (idle 0 ... blacklisted 8),
  25 protocol; bsnMobileStationStatsTable ``...14179.2.1.6.1``: 1 RSSI (dBm),
  2 bytes received from the client, 3 bytes sent to it, 26 SNR (dB).

AP uptime is not in bsnAPTable: it comes from CISCO-LWAPP-AP-MIB cLApUpTime,
which AireOS also implements, keyed by the same base radio MAC. The
controller's own AP count is CISCO-LWAPP-SYS-MIB clsSysApConnectCount (what
LibreNMS graphs as "Connected APs"); its model AIRESPACE-SWITCHING-MIB
agentInventoryMachineModel, else ENTITY-MIB (Cisco Business Wireless).
"""

from __future__ import annotations

from collectors.observations import Client, Radio, Wlan, WlcResult
from collectors.snmp.api import OID, SnmpSession
from collectors.wlc import core

name = "aireos"

AP = (1, 3, 6, 1, 4, 1, 14179, 2, 2, 1, 1)
AP_NAME, AP_LOCATION, AP_OPER, AP_MODEL, AP_SERIAL, AP_IP, AP_ADMIN = (AP + (c,) for c in (3, 4, 6, 16, 17, 19, 37))
RADIO = (1, 3, 6, 1, 4, 1, 14179, 2, 2, 2, 1)
IF_TYPE, IF_CHANNEL, IF_POWER_LEVEL, IF_OPER, IF_CLIENTS, IF_POWER_LIST = (RADIO + (c,) for c in (2, 4, 6, 12, 15, 22))
IF_CHANNEL_UTIL = (1, 3, 6, 1, 4, 1, 14179, 2, 2, 13, 1, 3)
ESS = (1, 3, 6, 1, 4, 1, 14179, 2, 1, 1, 1)
ESS_SSID, ESS_CLIENTS = ESS + (2,), ESS + (38,)
MS = (1, 3, 6, 1, 4, 1, 14179, 2, 1, 4, 1)
MS_USER, MS_AP_MAC, MS_ESS_INDEX, MS_SSID, MS_STATUS, MS_PROTOCOL = (MS + (c,) for c in (3, 4, 6, 7, 9, 25))
MS_STATS = (1, 3, 6, 1, 4, 1, 14179, 2, 1, 6, 1)
MS_RSSI, MS_BYTES_RX, MS_BYTES_TX, MS_SNR = (MS_STATS + (c,) for c in (1, 2, 3, 26))

LWAPP_AP_UPTIME = (1, 3, 6, 1, 4, 1, 9, 9, 513, 1, 1, 1, 1, 6)  # cLApUpTime, TimeTicks
CLS_AP_COUNT = (1, 3, 6, 1, 4, 1, 9, 9, 618, 1, 8, 4, 0)  # clsSysApConnectCount
CLS_CLIENT_COUNT = (1, 3, 6, 1, 4, 1, 9, 9, 618, 1, 8, 15, 0)  # clsCurrentOnlineUsersCount
MACHINE_MODEL = (1, 3, 6, 1, 4, 1, 14179, 1, 1, 1, 3, 0)  # agentInventoryMachineModel

AP_OPER_STATUS = {1: "up", 2: "down", 3: "downloading"}
RADIO_OPER_STATUS = {1: "down", 2: "up"}
RADIO_TYPE_BAND = {1: "2.4GHz", 2: "5GHz", 6: "6GHz"}
RADIO_TYPE_XOR_5_6 = 7
STATION_STATUS = {
    0: "idle",
    1: "aaaPending",
    2: "authenticated",
    3: "associated",
    4: "powersave",
    5: "disassociated",
    6: "tobedeleted",
    7: "probing",
    8: "blacklisted",
}
STATION_PROTOCOL = {
    1: "802.11a",
    2: "802.11b",
    3: "802.11g",
    4: "unknown",
    5: "mobile",
    6: "802.11n",  # dot11n24
    7: "802.11n",  # dot11n5
    8: "ethernet",
    9: "802.3",
    10: "802.11ac",
    11: "802.11ax",  # dot11ax5
    12: "802.11ax",  # dot11ax24
    13: "802.11ax",  # dot11ax6
}


def ap_status(oper: object, admin: object) -> str:
    if admin == 2:
        return "disabled"
    return AP_OPER_STATUS.get(core.number(oper), "unknown")


def radio_band(radio_type: object, channel: int | None) -> str | None:
    """bsnAPIfType names the band, except for dual-band (uwb) and 5/6 GHz XOR radios: then the channel."""
    kind = core.number(radio_type)
    if kind in RADIO_TYPE_BAND:
        return RADIO_TYPE_BAND[kind]
    return core.band_from_channel(channel, five_or_six=kind == RADIO_TYPE_XOR_5_6)


def radios(cols: dict[OID, dict[OID, object]]) -> list[Radio]:
    """bsnAPIfTable (+ load table) -> radios. Shared with the Catalyst 9800, which still answers it."""
    out = []
    for index in core.rows(cols, IF_TYPE, IF_CHANNEL, IF_OPER):
        ap_mac, rest = core.mac_index(index)
        if not ap_mac or len(rest) != 1:
            continue
        channel = core.number(cols[IF_CHANNEL].get(index))
        level = core.number(cols[IF_POWER_LEVEL].get(index))
        dbm = core.dbm_for_level(level, core.power_levels(cols[IF_POWER_LIST].get(index)))
        if dbm is not None:
            power, unit = float(dbm), "dBm"
        elif level is not None:
            power, unit = float(level), "level"
        else:
            power, unit = None, ""
        out.append(
            Radio(
                ap_mac=ap_mac,
                slot=rest[0],
                band=radio_band(cols[IF_TYPE].get(index), channel),
                channel=channel,
                tx_power=power,
                tx_power_unit=unit,
                clients=core.number(cols[IF_CLIENTS].get(index)),
                utilization_ratio=core.ratio_from_percent(cols[IF_CHANNEL_UTIL].get(index)),
                status=RADIO_OPER_STATUS.get(core.number(cols[IF_OPER].get(index)), "unknown"),
            )
        )
    return out


RADIO_COLUMNS = (IF_TYPE, IF_CHANNEL, IF_POWER_LEVEL, IF_OPER, IF_CLIENTS, IF_POWER_LIST, IF_CHANNEL_UTIL)


def wlans(cols: dict[OID, dict[OID, object]]) -> list[Wlan]:
    """bsnDot11EssTable -> WLANs with the controller's client count."""
    out = []
    for index in core.rows(cols, ESS_SSID, ESS_CLIENTS):
        if len(index) != 1:
            continue
        out.append(Wlan(core.text(cols[ESS_SSID].get(index)), index[0], core.number(cols[ESS_CLIENTS].get(index))))
    return out


def _wlan_id(value: object) -> int | None:
    n = core.number(value)
    return n if n else None  # bsnDot11EssIndex starts at 1; 0 is "none"


def clients(cols: dict[OID, dict[OID, object]], ssid_of: dict[int, str]) -> list[Client]:
    out = []
    for index in core.rows(cols, MS_AP_MAC, MS_STATUS, MS_SSID):
        client_mac = core.mac(index)
        if not client_mac:
            continue
        wlan_id = _wlan_id(cols[MS_ESS_INDEX].get(index))
        out.append(
            Client(
                mac=client_mac,
                ap_mac=core.mac(cols[MS_AP_MAC].get(index)),
                ssid=core.text(cols[MS_SSID].get(index)) or ssid_of.get(wlan_id or 0, ""),
                wlan_id=wlan_id,
                protocol=STATION_PROTOCOL.get(core.number(cols[MS_PROTOCOL].get(index)), "unknown"),
                rssi_dbm=core.number(cols[MS_RSSI].get(index)),
                snr_db=core.number(cols[MS_SNR].get(index)),
                bytes_rx=core.number(cols[MS_BYTES_RX].get(index)),
                bytes_tx=core.number(cols[MS_BYTES_TX].get(index)),
                status=STATION_STATUS.get(core.number(cols[MS_STATUS].get(index)), "unknown"),
                username=core.text(cols[MS_USER].get(index)),
            )
        )
    return out


async def read(session: SnmpSession) -> WlcResult:
    scalars = await session.get([MACHINE_MODEL, CLS_AP_COUNT, CLS_CLIENT_COUNT])
    cols = await session.walk_columns([AP_NAME, AP_LOCATION, AP_OPER, AP_MODEL, AP_SERIAL, AP_IP, AP_ADMIN])
    cols.update(await session.walk_columns([LWAPP_AP_UPTIME, *RADIO_COLUMNS, ESS_SSID, ESS_CLIENTS]))
    cols.update(
        await session.walk_columns(
            [
                MS_USER,
                MS_AP_MAC,
                MS_ESS_INDEX,
                MS_SSID,
                MS_STATUS,
                MS_PROTOCOL,
                MS_RSSI,
                MS_BYTES_RX,
                MS_BYTES_TX,
                MS_SNR,
            ]
        )
    )
    aps = core.mac_keyed_aps(
        cols,
        core.rows(cols, AP_NAME, AP_OPER),
        lambda index: ap_status(cols[AP_OPER].get(index), cols[AP_ADMIN].get(index)),
        name=AP_NAME,
        model=AP_MODEL,
        serial=AP_SERIAL,
        ip=AP_IP,
        location=AP_LOCATION,
        uptime=LWAPP_AP_UPTIME,
    )
    found = wlans(cols)
    return core.result(
        name,
        await core.controller_model(session, core.text(scalars.get(MACHINE_MODEL))),
        aps,
        radios(cols),
        found,
        clients(cols, {w.wlan_id: w.ssid for w in found if w.wlan_id is not None}),
        reported_ap_count=core.number(scalars.get(CLS_AP_COUNT)),
        reported_client_count=core.number(scalars.get(CLS_CLIENT_COUNT)),
    )

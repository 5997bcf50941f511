"""Aruba (ArubaOS 6/8) mobility controllers: WLSX-WLAN-MIB, WLSX-SWITCH-MIB, WLSX-USER-MIB.

Tables (under wlsxEnterpriseMibModules ``1.3.6.1.4.1.14823.2.2.1``):

* wlsxWlanAPTable ``.5.2.1.4.1`` by wlanAPMacAddress: 2 IP, 3 name,
  6 serial, 12 uptime (TimeTicks), 13 model name, 14 location,
  19 status (ArubaAPStatus: up 1, down 2);
* wlsxWlanRadioTable ``.5.2.1.5.1`` by (AP MAC, radio number): 2 PHY type
  (ArubaPhyType: dot11a 1, dot11b 2, dot11g 3, dot11ag 4, wired 5,
  dot11ax6ghz 6), 3 channel, 4 Tx power in half dBm, 6 utilisation %,
  7 associated clients, 16 AP name, 17 Tx power in tenths of a dBm
  (newer ArubaOS; preferred, as LibreNMS does);
* wlsxWlanAPBssidTable ``.5.2.1.7.1`` by (AP MAC, radio, BSSID): 2 ESSID;
* wlsxWlanESSIDTable ``.5.2.1.8.1`` by ESSID (a length-prefixed string):
  2 number of stations;
* wlsxWlanStationTable ``.5.2.2.1.1`` by station MAC: 2 the BSSID it is on,
  3 PHY type, 4 authenticated, 5 associated (TruthValue), 12 ESSID,
  14 wlanStaRSSI, 16 HT mode (ArubaHTMode: none 1, ht* 2-3, vht* 4-8,
  he* 9-13), 20 AP name;
* wlsxUserTable ``.4.1.2.1`` by (MAC, IP): 3 user name, 42 octets received
  by the user's address, 43 octets it transmitted (WLSX-USER-MIB);
* wlsxSwitchTotalNumAccessPoints ``.1.3.1.0`` and
  wlsxSwitchTotalNumStationsAssociated ``.1.3.2.0`` (WLSX-SWITCH-MIB): the
  controller's own totals, what LibreNMS graphs.

ArubaOS reports ``wlanStaRSSI`` as a positive figure in dB above the noise
floor (its UI calls it the signal); netmon files a non-negative value as
``snr_db`` and a negative one, a real RSSI, as ``rssi_dbm``. APs that appear
only in the radio table (a controller that answers it but not the AP table)
are reported with the name the radio table gives and status ``unknown``.
The controller's model comes from sysDescr's ``(MODEL: ...)``, else ENTITY-MIB.
"""

from __future__ import annotations

import re

from collectors.observations import AccessPoint, Client, Radio, Wlan, WlcResult
from collectors.snmp.api import SnmpSession
from collectors.wlc import core

name = "aruba"

BASE = (1, 3, 6, 1, 4, 1, 14823, 2, 2, 1)
TOTAL_APS = BASE + (1, 3, 1, 0)
TOTAL_STATIONS = BASE + (1, 3, 2, 0)
AP = BASE + (5, 2, 1, 4, 1)
AP_IP, AP_NAME, AP_SERIAL, AP_UPTIME, AP_MODEL, AP_LOCATION, AP_STATUS = (AP + (c,) for c in (2, 3, 6, 12, 13, 14, 19))
RADIO = BASE + (5, 2, 1, 5, 1)
RADIO_TYPE, RADIO_CHANNEL, RADIO_POWER_HALF_DBM, RADIO_UTIL, RADIO_CLIENTS, RADIO_AP_NAME, RADIO_POWER_10X = (
    RADIO + (c,) for c in (2, 3, 4, 6, 7, 16, 17)
)
BSSID_ESSID = BASE + (5, 2, 1, 7, 1, 2)
ESSID_STATIONS = BASE + (5, 2, 1, 8, 1, 2)
STA = BASE + (5, 2, 2, 1, 1)
STA_BSSID, STA_PHY, STA_AUTHENTICATED, STA_ASSOCIATED, STA_ESSID, STA_RSSI, STA_HT_MODE, STA_AP_NAME = (
    STA + (c,) for c in (2, 3, 4, 5, 12, 14, 16, 20)
)
USER = BASE + (4, 1, 2, 1)
USER_NAME, USER_RX_OCTETS, USER_TX_OCTETS = USER + (3,), USER + (42,), USER + (43,)

AP_STATUS_NAMES = {1: "up", 2: "down"}
PHY_BAND = {1: "5GHz", 2: "2.4GHz", 3: "2.4GHz", 6: "6GHz"}
PHY_PROTOCOL = {1: "802.11a", 2: "802.11b", 3: "802.11g", 5: "wired", 6: "802.11ax"}
TRUE = 1
_MODEL = re.compile(r"\(MODEL:\s*([^)\s]+)\s*\)")


def protocol(phy: object, ht_mode: object) -> str:
    """802.11 generation from the HT mode (he* ax, vht* ac, ht* n), else from the PHY type."""
    mode = core.number(ht_mode)
    if mode is not None and 9 <= mode <= 13:
        return "802.11ax"
    if mode is not None and 4 <= mode <= 8:
        return "802.11ac"
    if mode in (2, 3):
        return "802.11n"
    return PHY_PROTOCOL.get(core.number(phy), "unknown")


def tx_power_dbm(tenths: object, halves: object) -> float | None:
    t, h = core.number(tenths), core.number(halves)
    if t is not None:
        return t / 10
    return h / 2 if h is not None else None


def model_from_descr(descr: str) -> str:
    found = _MODEL.search(descr)
    return found.group(1) if found else ""


def station_status(associated: object, authenticated: object) -> str:
    if associated == TRUE:
        return "associated"
    if authenticated == TRUE:
        return "authenticated"
    return "unknown"


async def read(session: SnmpSession) -> WlcResult:
    scalars = await session.get([core.SYS_DESCR, TOTAL_APS, TOTAL_STATIONS])
    cols = await session.walk_columns([AP_IP, AP_NAME, AP_SERIAL, AP_UPTIME, AP_MODEL, AP_LOCATION, AP_STATUS])
    cols.update(
        await session.walk_columns(
            [RADIO_TYPE, RADIO_CHANNEL, RADIO_POWER_HALF_DBM, RADIO_UTIL, RADIO_CLIENTS, RADIO_AP_NAME, RADIO_POWER_10X]
        )
    )
    cols.update(await session.walk_columns([BSSID_ESSID, ESSID_STATIONS]))
    cols.update(
        await session.walk_columns(
            [STA_BSSID, STA_PHY, STA_AUTHENTICATED, STA_ASSOCIATED, STA_ESSID, STA_RSSI, STA_HT_MODE, STA_AP_NAME]
        )
    )
    if cols[STA_BSSID] or cols[STA_ESSID]:
        cols.update(await session.walk_columns([USER_NAME, USER_RX_OCTETS, USER_TX_OCTETS]))

    aps: dict[str, AccessPoint] = {}
    for index in core.rows(cols, AP_NAME, AP_STATUS):
        ap_mac = core.mac(index)
        if ap_mac:
            status = AP_STATUS_NAMES.get(core.number(cols[AP_STATUS].get(index)), "unknown")
            aps[ap_mac] = core.access_point(
                cols, index, ap_mac, status, name=AP_NAME, model=AP_MODEL, serial=AP_SERIAL, ip=AP_IP,
                location=AP_LOCATION, uptime=AP_UPTIME,
            )  # fmt: skip

    radios = []
    for index in core.rows(cols, RADIO_TYPE, RADIO_CHANNEL, RADIO_AP_NAME):
        ap_mac, rest = core.mac_index(index)
        if not ap_mac or len(rest) != 1:
            continue
        if ap_mac not in aps:
            aps[ap_mac] = AccessPoint(mac=ap_mac, name=core.text(cols[RADIO_AP_NAME].get(index)))
        channel = core.number(cols[RADIO_CHANNEL].get(index))
        phy = core.number(cols[RADIO_TYPE].get(index))
        power = tx_power_dbm(cols[RADIO_POWER_10X].get(index), cols[RADIO_POWER_HALF_DBM].get(index))
        radios.append(
            Radio(
                ap_mac=ap_mac,
                slot=rest[0],
                band=PHY_BAND[phy] if phy in PHY_BAND else core.band_from_channel(channel),
                channel=channel,
                tx_power=power,
                tx_power_unit="dBm" if power is not None else "",
                clients=core.number(cols[RADIO_CLIENTS].get(index)),
                utilization_ratio=core.ratio_from_percent(cols[RADIO_UTIL].get(index)),
            )
        )

    # BSSID -> AP MAC, for stations (which name the BSSID they are on)
    ap_of_bssid: dict[str, str] = {}
    for index in cols[BSSID_ESSID]:
        if len(index) == 13:
            ap_of_bssid[core.mac(index[7:])] = core.mac(index[:6])
    ap_of_name = {a.name: a.mac for a in aps.values() if a.name}

    wlans = []
    for index, value in sorted(cols[ESSID_STATIONS].items()):
        ssid = core.string_index(index)
        if ssid is not None:
            wlans.append(Wlan(ssid, None, core.number(value)))

    users: dict[str, list] = {}
    for index in core.rows(cols, USER_NAME, USER_RX_OCTETS, USER_TX_OCTETS):
        user_mac = core.mac(index[:6])
        if user_mac:
            users.setdefault(user_mac, []).append(index)

    clients = []
    for index in core.rows(cols, STA_BSSID, STA_ESSID):
        client_mac = core.mac(index)
        if not client_mac:
            continue
        ap_mac = ap_of_bssid.get(core.mac(cols[STA_BSSID].get(index)), "")
        if not ap_mac:
            ap_mac = ap_of_name.get(core.text(cols[STA_AP_NAME].get(index)), "")
        signal = core.number(cols[STA_RSSI].get(index))
        entries = users.get(client_mac, [])
        names = [core.text(cols[USER_NAME].get(i)) for i in entries]
        received = [core.number(cols[USER_TX_OCTETS].get(i)) for i in entries]  # transmitted by the user
        sent = [core.number(cols[USER_RX_OCTETS].get(i)) for i in entries]  # received by the user
        clients.append(
            Client(
                mac=client_mac,
                ap_mac=ap_mac,
                ssid=core.text(cols[STA_ESSID].get(index)),
                wlan_id=None,
                protocol=protocol(cols[STA_PHY].get(index), cols[STA_HT_MODE].get(index)),
                rssi_dbm=signal if signal is not None and signal < 0 else None,
                snr_db=signal if signal is not None and signal >= 0 else None,
                bytes_rx=_total(received),
                bytes_tx=_total(sent),
                status=station_status(cols[STA_ASSOCIATED].get(index), cols[STA_AUTHENTICATED].get(index)),
                username=next((n for n in names if n), ""),
            )
        )

    return core.result(
        name,
        await core.controller_model(session, model_from_descr(core.text(scalars.get(core.SYS_DESCR)))),
        aps.values(),
        radios,
        wlans,
        clients,
        reported_ap_count=core.number(scalars.get(TOTAL_APS)),
        reported_client_count=core.number(scalars.get(TOTAL_STATIONS)),
    )


def _total(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None

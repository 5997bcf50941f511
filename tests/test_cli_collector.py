"""The SSH ``cli`` collector against fake devices on 127.0.0.1 (tests/ssh_device.py).

netmiko logs in for real (paramiko, a PTY shell, its own session preparation),
so these tests prove the whole path: login, prompt, commands, TextFSM, the
observations, and the failure reasons with their time bounds. The device
outputs below are synthetic, written for these tests in the devices' formats.
"""

from __future__ import annotations

import asyncio
import os
import time

import asyncssh
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors import cli, cli_parsers
from collectors.cli import CliResult, CliTarget, CliTimeouts, collect, collect_many
from collectors.credentials import SshCredentials
from collectors.observations import HardwareItem, Neighbor, OpticReading, SystemInfo
from netmon.lab.ssh_device import DeviceBehaviour, FakeDevice, closed_port, fake_devices, silent_port

PASSWORD = "Tr0ub4dor&3-lab-only"
WRONG_PASSWORD = "not-the-right-one-7731"
ENABLE_SECRET = "en4ble-S3cret-lab"
CREDS = SshCredentials(profile="lab", username="netmon", password=PASSWORD)
FAST = CliTimeouts(connect=3, banner=3, auth=3, prompt=3, command=5, total=60)
# For the failure cases: short, so a silent device costs about 2 x prompt (netmiko waits once
# more while logging out of a session that never showed a prompt).
SHORT = CliTimeouts(connect=2, banner=2, auth=2, prompt=1.5, command=1.5, total=30)

ssh = pytest.mark.integration

# -- a Cisco IOS access switch ------------------------------------------------------------------

IOS_VERSION = """\
Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, RELEASE SOFTWARE (fc3)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2023 by Cisco Systems, Inc.
Compiled Tue 28-Feb-23 04:25 by mcpre

ROM: Bootstrap program is C2960X boot loader
BOOTLDR: C2960X Boot Loader (C2960X-HBOOT-M) Version 15.2(7r)E1, RELEASE SOFTWARE (fc1)

dist-sw-07 uptime is 1 year, 2 weeks, 3 days, 4 hours, 5 minutes
System returned to ROM by power-on
System restarted at 10:12:31 CET Mon Mar 4 2024
System image file is "flash:c2960x-universalk9-mz.152-7.E8.bin"
Last reload reason: power-on

cisco WS-C2960X-48FPD-L (APM86XXX) processor (revision B0) with 524288K bytes of memory.
Processor board ID FOC2031X1AB
Last reset from power-on
1 Virtual Ethernet interface
1 FastEthernet interface
50 Gigabit Ethernet interfaces
2 Ten Gigabit Ethernet interfaces
The password-recovery mechanism is enabled.

512K bytes of flash-simulated non-volatile configuration memory.
Base ethernet MAC Address       : 70:DB:98:12:34:00
Motherboard assembly number     : 73-15799-07
Model revision number           : B0
Model number                    : WS-C2960X-48FPD-L
System serial number            : FOC2031X1AB

Configuration register is 0xF
"""

IOS_INVENTORY = """\
NAME: "1", DESCR: "WS-C2960X-48FPD-L"
PID: WS-C2960X-48FPD-L , VID: V05  , SN: FOC2031X1AB

NAME: "Switch 1 - Power Supply 0", DESCR: "FRU Power Supply"
PID: PWR-C2-1025WAC    , VID: V02  , SN: DCB2211G0ZZ

NAME: "GigabitEthernet1/0/51", DESCR: "1000BaseLX SFP"
PID: GLC-LH-SMD          , VID: V01  , SN: FNS17231ABC

NAME: "TenGigabitEthernet1/0/1", DESCR: "SFP-10GBase-LR"
PID: SFP-10G-LR          , VID: V02  , SN: ONT2011004X
"""

XCVR_LEGEND = """\

If device is externally calibrated, only calibrated values are printed.
++ : high alarm, +  : high warning, -  : low warning, -- : low alarm.
NA or N/A: not applicable, Tx: transmit, Rx: receive.
mA: milliamperes, dBm: decibels (milliwatts).

                                            Optical   Optical
            Temperature  Voltage  Current   Tx Power  Rx Power
Port        (Celsius)    (Volts)  (mA)      (dBm)     (dBm)
---------   -----------  -------  --------  --------  --------
"""

IOS_TRANSCEIVER = (
    XCVR_LEGEND
    + """\
Gi1/0/51      31.2       3.28      21.4      -5.6      -9.8
Te1/0/1       28.9       3.30      34.1      -2.1     -14.7
Te1/0/2       29.5       3.31       0.0       N/A       N/A
"""
)

IOS_LLDP = """\
------------------------------------------------
Local Intf: Te1/0/1
Chassis id: 7c21.0e55.8a00
Port id: Te1/1/4
Port Description: TenGigabitEthernet1/1/4
System Name: core-sw-01.city.example

System Description:
Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4, RELEASE SOFTWARE (fc3)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Sat 31-Jul-21 00:12 by mcpre

Time remaining: 104 seconds
System Capabilities: B,R
Enabled Capabilities: B,R
Management Addresses:
    IP: 127.20.0.1
Auto Negotiation - not supported
Physical media capabilities - not advertised
Media Attachment Unit type - not advertised
Vlan ID: - not advertised

------------------------------------------------
Local Intf: Gi1/0/12
Chassis id: 3c51.0e12.abcd
Port id: 3c51.0e12.abcd
Port Description: eth0
System Name: ap-library-2f

System Description:
ArubaOS (MODEL: 515), Version 8.10.0.6

Time remaining: 97 seconds
System Capabilities: B,W
Enabled Capabilities: W
Management Addresses:
    IP: 127.30.4.12
Auto Negotiation - supported, enabled
Physical media capabilities:
    1000baseT(FD)
    100base-TX(FD)
Media Attachment Unit type: 30
Vlan ID: 304


Total entries displayed: 2
"""

IOS_CDP = """\
-------------------------
Device ID: core-sw-01.city.example
Entry address(es):
  IP address: 127.20.0.1
Platform: cisco C9500-24Y4C,  Capabilities: Router Switch IGMP
Interface: TenGigabitEthernet1/0/1,  Port ID (outgoing port): TenGigabitEthernet1/1/4
Holdtime : 142 sec

Version :
Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4, RELEASE SOFTWARE (fc3)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Sat 31-Jul-21 00:12 by mcpre

advertisement version: 2
VTP Management Domain: ''
Native VLAN: 1
Duplex: full
Management address(es):
  IP address: 127.20.0.1


Total cdp entries displayed : 1
"""

IOS_OUTPUTS = {
    "show version": IOS_VERSION,
    "show inventory": IOS_INVENTORY,
    "show interface transceiver": IOS_TRANSCEIVER,
    "show lldp neighbors detail": IOS_LLDP,
    "show cdp neighbors detail": IOS_CDP,
}
IOS_COMMANDS = list(cli_parsers.COMMANDS["cisco_ios"].values())

CORE_DESCR = (
    "Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4, RELEASE SOFTWARE (fc3)"
)
# 1 year (365 days) + 2 weeks + 3 days + 4 h + 5 min, in hundredths of a second
IOS_UPTIME_TICKS = ((365 + 14 + 3) * 86400 + 4 * 3600 + 5 * 60) * 100

IOS_SYSTEM = SystemInfo(
    descr="Cisco IOS Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, WS-C2960X-48FPD-L",
    object_id="",
    uptime_ticks=IOS_UPTIME_TICKS,
    name="dist-sw-07",
)
IOS_HARDWARE = [
    HardwareItem(None, "chassis", "1", "WS-C2960X-48FPD-L", "WS-C2960X-48FPD-L", "FOC2031X1AB", hardware_rev="V05"),
    HardwareItem(
        None,
        "powerSupply",
        "Switch 1 - Power Supply 0",
        "FRU Power Supply",
        "PWR-C2-1025WAC",
        "DCB2211G0ZZ",
        hardware_rev="V02",
    ),
    HardwareItem(
        None, "transceiver", "GigabitEthernet1/0/51", "1000BaseLX SFP", "GLC-LH-SMD", "FNS17231ABC", hardware_rev="V01"
    ),
    HardwareItem(
        None,
        "transceiver",
        "TenGigabitEthernet1/0/1",
        "SFP-10GBase-LR",
        "SFP-10G-LR",
        "ONT2011004X",
        hardware_rev="V02",
    ),
]


def _optic(port: str, kind: str, value: float, lane: int = 0, thresholds: dict | None = None) -> OpticReading:
    label = {"temperature": "Temperature", "voltage": "Voltage", "bias": "Bias Current"}.get(kind)
    label = label or {"tx_power": "Tx Power", "rx_power": "Rx Power"}[kind]
    sensor = f"{port} Lane {lane} {label}" if lane else f"{port} {label}"
    return OpticReading(port, None, lane, kind, value, thresholds or {}, sensor)


IOS_OPTICS = [
    _optic("Gi1/0/51", "temperature", 31.2),
    _optic("Gi1/0/51", "voltage", 3.28),
    _optic("Gi1/0/51", "bias", 0.0214),  # 21.4 mA
    _optic("Gi1/0/51", "tx_power", -5.6),
    _optic("Gi1/0/51", "rx_power", -9.8),
    _optic("Te1/0/1", "temperature", 28.9),
    _optic("Te1/0/1", "voltage", 3.30),
    _optic("Te1/0/1", "bias", 0.0341),
    _optic("Te1/0/1", "tx_power", -2.1),
    _optic("Te1/0/1", "rx_power", -14.7),
    # laser off: bias 0.0 mA is a reading, N/A powers are none (never 0 dBm)
    _optic("Te1/0/2", "temperature", 29.5),
    _optic("Te1/0/2", "voltage", 3.31),
    _optic("Te1/0/2", "bias", 0.0),
]
IOS_LLDP_NEIGHBORS = [
    Neighbor(
        "lldp",
        "Te1/0/1",
        "core-sw-01.city.example",
        "Te1/1/4",
        remote_chassis_id="7c:21:0e:55:8a:00",
        remote_address="127.20.0.1",
        remote_description=CORE_DESCR,
    ),
    Neighbor(
        "lldp",
        "Gi1/0/12",
        "ap-library-2f",
        "3c:51:0e:12:ab:cd",
        remote_chassis_id="3c:51:0e:12:ab:cd",
        remote_address="127.30.4.12",
        remote_description="ArubaOS (MODEL: 515), Version 8.10.0.6",
    ),
]
IOS_CDP_NEIGHBORS = [
    Neighbor(
        "cdp",
        "TenGigabitEthernet1/0/1",
        "core-sw-01.city.example",
        "TenGigabitEthernet1/1/4",
        remote_address="127.20.0.1",
        remote_platform="cisco C9500-24Y4C",
        remote_description=CORE_DESCR,
    )
]

# -- a Cisco Nexus leaf, with a 4-lane QSFP -----------------------------------------------------

NXOS_VERSION = """\
Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Copyright (c) 2002-2023, Cisco Systems, Inc. All rights reserved.

Software
  BIOS: version 05.47
  NXOS: version 9.3(12)
  BIOS compile time:  04/28/2022
  NXOS image file is: bootflash:///nxos.9.3.12.bin
  NXOS compile time:  6/20/2023 12:00:00 [06/21/2023 02:38:56]


Hardware
  cisco Nexus9000 C93180YC-FX Chassis
  Intel(R) Xeon(R) CPU  D-1528 @ 1.90GHz with 24569560 kB of memory.
  Processor Board ID FDO23450ABC

  Device name: dc-leaf-01
  bootflash:  115805708 kB
Kernel uptime is 45 day(s), 6 hour(s), 7 minute(s), 8 second(s)

Last reset at 123456 usecs after Mon Jan  1 10:00:00 2024
  Reason: Reset Requested by CLI command reload
  System version: 9.3(11)
  Service:

plugin
  Core Plugin, Ethernet Plugin

Active Package(s):

"""

NXOS_INVENTORY = """\
NAME: "Chassis",  DESCR: "Nexus9000 C93180YC-FX Chassis"
PID: N9K-C93180YC-FX     ,  VID: V04 ,  SN: FDO23450ABC

NAME: "Slot 1",  DESCR: "48x10/25G + 6x40/100G Ethernet Module"
PID: N9K-C93180YC-FX     ,  VID: V04 ,  SN: FDO23450ABC

NAME: "Power Supply 1",  DESCR: "Nexus9000 C93180YC-FX Chassis Power Supply"
PID: NXA-PAC-500W-PE     ,  VID: V01 ,  SN: ART2219F0AB

NAME: "Fan 1",  DESCR: "Nexus9000 C93180YC-FX Chassis Fan Module"
PID: NXA-FAN-30CFM-B     ,  VID: V01 ,  SN: N/A

NAME: "Ethernet1/49",  DESCR: "CISCO-FINISAR"
PID: QSFP-40G-LR4        ,  VID: V02 ,  SN: FNS21380XYZ
"""

_NX_TABLE_HEAD = """\
           SFP Detail Diagnostics Information (internal calibration)
  ----------------------------------------------------------------------------
                Current              Alarms                  Warnings
                Measurement     High        Low         High          Low
  ----------------------------------------------------------------------------
"""
_NX_TABLE_TAIL = """\
  Transmit Fault Count = 0
  ----------------------------------------------------------------------------
  Note: ++  high-alarm; +  high-warning; --  low-alarm; -  low-warning

"""
NXOS_TRANSCEIVER = (
    """\
Ethernet1/1
    transceiver is present
    type is 10Gbase-LR
    name is CISCO-FINISAR
    part number is FTLX1474D3BCL-CS
    revision is A
    serial number is FNS20250ABC
    nominal bitrate is 10300 MBit/sec
    Link length supported for 9/125um fiber is 10 km
    cisco id is 3
    cisco extended id number is 4
    cisco part number is 10-2457-02
    cisco product id is SFP-10G-LR
    cisco version id is V02
    number of lanes 1

"""
    + _NX_TABLE_HEAD
    + """\
  Temperature   33.12 C        75.00 C     -5.00 C     70.00 C        0.00 C
  Voltage        3.31 V         3.63 V      2.97 V      3.46 V        3.13 V
  Current       38.50 mA       85.00 mA    15.00 mA    80.00 mA      20.00 mA
  Tx Power      -2.31 dBm       3.49 dBm  -12.20 dBm    0.49 dBm     -8.20 dBm
  Rx Power     -17.85 dBm -     3.49 dBm  -20.00 dBm    0.49 dBm    -16.00 dBm
"""
    + _NX_TABLE_TAIL
    + """\
Ethernet1/2
    transceiver is not present

Ethernet1/49
    transceiver is present
    type is QSFP-40G-LR4
    name is CISCO-FINISAR
    part number is FTL4C1QE1C-C1
    revision is A
    serial number is FNS21380XYZ
    nominal bitrate is 10300 MBit/sec per channel
    Link length supported for 9/125um fiber is 10 km
    cisco id is 13
    cisco extended id number is 16
    cisco part number is 10-2760-01
    cisco product id is QSFP-40G-LR4
    cisco version id is V02
    number of lanes 4

Lane Number:1 Network Lane
"""
    + _NX_TABLE_HEAD
    + """\
  Temperature   41.20 C        75.00 C     -5.00 C     70.00 C        0.00 C
  Voltage        3.29 V         3.63 V      2.97 V      3.46 V        3.13 V
  Current       42.10 mA       85.00 mA    15.00 mA    80.00 mA      20.00 mA
  Tx Power       0.52 dBm       5.00 dBm   -9.00 dBm    2.00 dBm     -7.00 dBm
  Rx Power      -3.10 dBm       5.00 dBm  -16.00 dBm    2.00 dBm    -13.00 dBm
"""
    + _NX_TABLE_TAIL
    + "Lane Number:2 Network Lane\n"
    + _NX_TABLE_HEAD
    + """\
  Current       40.90 mA       85.00 mA    15.00 mA    80.00 mA      20.00 mA
  Tx Power       0.61 dBm       5.00 dBm   -9.00 dBm    2.00 dBm     -7.00 dBm
  Rx Power      -2.95 dBm       5.00 dBm  -16.00 dBm    2.00 dBm    -13.00 dBm
"""
    + _NX_TABLE_TAIL
)

NXOS_LLDP = """\
Capability codes:
  (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device
  (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other
Device ID            Local Intf      Hold-time  Capability  Port ID

Chassis id: 00c8.8b12.3456
Port id: Ethernet1/50
Local Port id: Eth1/49
Port Description: uplink to dc-leaf-01
System Name: dc-spine-01
System Description: Cisco Nexus Operating System (NX-OS) Software 9.3(12)
TAC support: http://www.cisco.com/tac
Copyright (c) 2002-2023, Cisco Systems, Inc. All rights reserved.
Time remaining: 109 seconds
System Capabilities: B, R
Enabled Capabilities: B, R
Management Address: 127.0.0.11
Vlan ID: 1


Total entries displayed: 1
"""

NXOS_CDP = """\
----------------------------------------
Device ID:dc-spine-01(FDO22221XYZ)
System Name: dc-spine-01

Interface address(es):
    IPv4 Address: 127.0.0.11
Platform: N9K-C9336C-FX2, Capabilities: Router Switch IGMP Filtering Supports-STP-Dispute
Interface: Ethernet1/49, Port ID (outgoing port): Ethernet1/50
Holdtime: 161 sec

Version:
Cisco Nexus Operating System (NX-OS) Software, Version 9.3(12)

Advertisement Version: 2

Native VLAN: 1
Duplex: full

MTU: 9216
Mgmt address(es):
    IPv4 Address: 127.0.0.11
"""

NXOS_OUTPUTS = {
    "show version": NXOS_VERSION,
    "show inventory": NXOS_INVENTORY,
    "show interface transceiver details": NXOS_TRANSCEIVER,
    "show lldp neighbors detail": NXOS_LLDP,
    "show cdp neighbors detail": NXOS_CDP,
}


# -- helpers ------------------------------------------------------------------------------------


def assert_no_secret(result: CliResult, *secrets: str) -> None:
    """Neither an error message nor anything else in the result carries a secret."""
    for secret in (PASSWORD, ENABLE_SECRET, *secrets):
        for error in result.errors:
            assert secret not in error.message, error
        assert secret not in repr(result)


def reasons(result: CliResult) -> dict[str, str]:
    return {e.collector: e.reason for e in result.errors}


def device(**kw) -> DeviceBehaviour:
    kw.setdefault("password", PASSWORD)
    return DeviceBehaviour(**kw)


# -- a good device ------------------------------------------------------------------------------


@ssh
def test_ios_device_yields_the_same_observations_as_snmp():
    with FakeDevice(device(hostname="dist-sw-07", outputs=IOS_OUTPUTS)) as dev:
        result = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, FAST)
    assert result.errors == []
    assert result.ok
    assert result.system == IOS_SYSTEM
    assert result.hardware == IOS_HARDWARE
    assert result.optics == IOS_OPTICS
    assert result.lldp == IOS_LLDP_NEIGHBORS
    assert result.cdp == IOS_CDP_NEIGHBORS
    assert result.neighbors == IOS_LLDP_NEIGHBORS + IOS_CDP_NEIGHBORS
    # netmiko's session preparation, then exactly the five commands, once each
    assert dev.commands[:2] == ["terminal width 511", "terminal length 0"]
    assert [c for c in dev.commands if c.startswith("show")] == IOS_COMMANDS
    assert set(result.durations) == {"connect", *cli_parsers.COMMANDS["cisco_ios"]}
    assert result.duration < 10
    assert_no_secret(result)


@ssh
def test_nxos_device_with_lanes_and_thresholds():
    with FakeDevice(device(hostname="dc-leaf-01", outputs=NXOS_OUTPUTS)) as dev:
        result = collect("127.0.0.1", dev.port, "cisco_nxos", CREDS, FAST)
    assert result.errors == []
    assert result.system == SystemInfo(
        descr="Cisco NX-OS Software, Version 9.3(12), C93180YC-FX",
        object_id="",
        uptime_ticks=(45 * 86400 + 6 * 3600 + 7 * 60 + 8) * 100,
        name="dc-leaf-01",
    )
    assert [(h.klass, h.name, h.model, h.serial) for h in result.hardware] == [
        ("chassis", "Chassis", "N9K-C93180YC-FX", "FDO23450ABC"),
        ("module", "Slot 1", "N9K-C93180YC-FX", "FDO23450ABC"),
        ("powerSupply", "Power Supply 1", "NXA-PAC-500W-PE", "ART2219F0AB"),
        ("fan", "Fan 1", "NXA-FAN-30CFM-B", ""),  # "N/A" is no serial
        ("transceiver", "Ethernet1/49", "QSFP-40G-LR4", "FNS21380XYZ"),
    ]
    optics = {(o.ifname, o.lane, o.kind): o for o in result.optics}
    assert len(optics) == len(result.optics) == 13  # 5 single-lane + 5 on lane 1 + 3 on lane 2
    assert optics[("Ethernet1/1", 0, "rx_power")] == _optic(
        "Ethernet1/1",
        "rx_power",
        -17.85,
        thresholds={"high_alarm": 3.49, "high_warning": 0.49, "low_warning": -16.0, "low_alarm": -20.0},
    )
    assert optics[("Ethernet1/1", 0, "bias")] == _optic(
        "Ethernet1/1",
        "bias",
        0.0385,
        thresholds={"high_alarm": 0.085, "high_warning": 0.08, "low_warning": 0.02, "low_alarm": 0.015},
    )
    assert optics[("Ethernet1/49", 2, "tx_power")] == _optic(
        "Ethernet1/49",
        "tx_power",
        0.61,
        lane=2,
        thresholds={"high_alarm": 5.0, "high_warning": 2.0, "low_warning": -7.0, "low_alarm": -9.0},
    )
    assert ("Ethernet1/49", 2, "temperature") not in optics  # the module reports it on lane 1 only
    assert result.lldp == [
        Neighbor(
            "lldp",
            "Eth1/49",
            "dc-spine-01",
            "Ethernet1/50",
            remote_chassis_id="00:c8:8b:12:34:56",
            remote_address="127.0.0.11",
            remote_description="Cisco Nexus Operating System (NX-OS) Software 9.3(12)",
        )
    ]
    assert result.cdp == [
        Neighbor(
            "cdp",
            "Ethernet1/49",
            "dc-spine-01(FDO22221XYZ)",  # the Device ID as announced, like cdpCacheDeviceId
            "Ethernet1/50",
            remote_address="127.0.0.11",
            remote_platform="N9K-C9336C-FX2",
            remote_description="Cisco Nexus Operating System (NX-OS) Software, Version 9.3(12)",
        )
    ]
    assert [c for c in dev.commands if c.startswith("show")] == list(cli_parsers.COMMANDS["cisco_nxos"].values())


@ssh
def test_key_file_login(tmp_path):
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "id_ed25519"
    key_file.write_bytes(key.export_private_key("openssh"))
    os.chmod(key_file, 0o600)
    behaviour = device(outputs=IOS_OUTPUTS, authorized_keys=(key.export_public_key("openssh").decode(),))
    creds = SshCredentials(profile="keys", username="netmon", key_file=str(key_file))
    with FakeDevice(behaviour) as dev:
        result = collect("127.0.0.1", dev.port, "cisco_ios", creds, FAST, kinds=["system"])
    assert result.errors == []
    assert result.system == IOS_SYSTEM
    assert result.hardware is None  # not asked for


@ssh
def test_enable_mode_with_secret_and_wrong_secret():
    behaviour = device(hostname="sw9", outputs=IOS_OUTPUTS, enable_password=ENABLE_SECRET)
    with FakeDevice(behaviour) as dev:
        good = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, FAST, enable_secret=ENABLE_SECRET, kinds=["system"])
        commands = list(dev.commands)
        t = time.monotonic()
        bad = collect(
            "127.0.0.1", dev.port, "cisco_ios", CREDS, FAST, enable_secret="wrong-enable-99", kinds=["system"]
        )
        bad_time = time.monotonic() - t
        unprivileged = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, FAST, kinds=["system"])
    assert good.errors == [] and good.system == IOS_SYSTEM
    assert commands[commands.index("enable") + 1] == "show version"
    assert reasons(bad) == {"cli": "auth"} and "enable" in bad.errors[0].message
    assert bad.system is None
    assert bad_time < 5
    assert_no_secret(bad, "wrong-enable-99")
    # without a secret the commands run in user EXEC (`>`), which show commands allow
    assert unprivileged.errors == [] and unprivileged.system == IOS_SYSTEM


# -- failures, each with its reason and within its time bound -----------------------------------


@ssh
def test_wrong_password_is_auth_and_fast():
    with FakeDevice(device(outputs=IOS_OUTPUTS)) as dev:
        t = time.monotonic()
        result = collect("127.0.0.1", dev.port, "cisco_ios", SshCredentials("lab", "netmon", WRONG_PASSWORD), FAST)
        elapsed = time.monotonic() - t
        rejected = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, FAST)  # the right one still works
    assert reasons(result) == {"cli": "auth"}
    assert "netmon" in result.errors[0].message and "authentication failed" in result.errors[0].message
    assert result.system is None and result.hardware is None and result.optics is None
    assert elapsed < 2.5
    assert_no_secret(result, WRONG_PASSWORD)
    assert rejected.errors == []


@ssh
def test_device_rejecting_every_password_is_auth():
    with FakeDevice(device(reject_password=True)) as dev:
        result = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, FAST)
    assert reasons(result) == {"cli": "auth"}
    assert_no_secret(result)


@ssh
def test_device_hanging_after_login_times_out_within_bound():
    with FakeDevice(device(hang_after_login=True)) as dev:
        t = time.monotonic()
        result = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, SHORT)
        elapsed = time.monotonic() - t
    assert reasons(result) == {"cli": "timeout"}
    assert "sent nothing" in result.errors[0].message
    assert elapsed < 2 * SHORT.prompt + 2.5  # about 2 x prompt: the wait, then the logout's own wait
    assert result.duration == pytest.approx(elapsed, abs=0.5)
    assert_no_secret(result)


@ssh
def test_a_shell_that_is_not_a_cli_is_prompt():
    with FakeDevice(device(prompt="netmon@jumphost:~$ ")) as dev:
        t = time.monotonic()
        result = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, SHORT)
        elapsed = time.monotonic() - t
    assert reasons(result) == {"cli": "prompt"}
    assert "netmon@jumphost:~$" in result.errors[0].message  # says what it saw instead
    assert elapsed < 2 * SHORT.prompt + 2.5
    assert_no_secret(result)


@ssh
def test_closed_port_is_ssh_and_immediate():
    t = time.monotonic()
    result = collect("127.0.0.1", closed_port(), "cisco_ios", CREDS, FAST)
    assert time.monotonic() - t < 1.0
    assert reasons(result) == {"cli": "ssh"}
    assert "refused" in result.errors[0].message
    assert_no_secret(result)


@ssh
def test_a_port_that_never_speaks_ssh_is_timeout_within_the_banner_limit():
    with silent_port() as port:
        t = time.monotonic()
        result = collect("127.0.0.1", port, "cisco_ios", CREDS, SHORT)
        elapsed = time.monotonic() - t
    assert reasons(result) == {"cli": "timeout"}
    assert "banner" in result.errors[0].message
    assert elapsed < SHORT.banner + 1.5
    assert_no_secret(result)


@ssh
def test_unknown_host_key_is_refused_when_known_hosts_is_given(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    with FakeDevice(device(outputs=IOS_OUTPUTS)) as dev:
        result = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, FAST, known_hosts=str(known_hosts))
        assert dev.commands == []  # never logged in
    assert reasons(result) == {"cli": "ssh"}
    assert "known_hosts" in result.errors[0].message


def test_unsupported_device_type_is_internal_without_connecting():
    result = collect("127.0.0.1", closed_port(), "hp_procurve", CREDS, FAST)
    assert reasons(result) == {"cli": "internal"}
    assert "hp_procurve" in result.errors[0].message
    assert "connect" not in result.durations
    bad_kind = collect("127.0.0.1", closed_port(), "cisco_ios", CREDS, FAST, kinds=["system", "routes"])
    assert reasons(bad_kind) == {"cli": "internal"} and "routes" in bad_kind.errors[0].message


@ssh
def test_garbage_and_rejected_commands_are_parse_and_the_rest_still_run():
    outputs = {k: v for k, v in IOS_OUTPUTS.items() if k != "show cdp neighbors detail"}
    behaviour = device(outputs=outputs, garbage=frozenset({"show inventory", "show lldp neighbors detail"}))
    with FakeDevice(behaviour) as dev:
        result = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, FAST)
    assert reasons(result) == {"cli.hardware": "parse", "cli.lldp": "parse", "cli.cdp": "parse"}
    messages = {e.collector: e.message for e in result.errors}
    assert messages["cli.hardware"].startswith("show inventory: nothing recognisable")
    assert messages["cli.lldp"].startswith("show lldp neighbors detail: output not understood")
    assert "rejected" in messages["cli.cdp"] and "% Invalid input" in messages["cli.cdp"]
    # the other commands ran and produced their observations
    assert result.system == IOS_SYSTEM
    assert result.optics == IOS_OPTICS
    assert result.hardware is None and result.lldp is None and result.cdp is None
    assert [c for c in dev.commands if c.startswith("show")] == IOS_COMMANDS
    assert_no_secret(result)


@ssh
def test_nothing_to_list_is_an_empty_list_not_an_error():
    outputs = {
        **IOS_OUTPUTS,
        "show interface transceiver": XCVR_LEGEND,  # headers, no optics
        "show lldp neighbors detail": "% LLDP is not enabled",
        "show cdp neighbors detail": "",
    }
    with FakeDevice(device(outputs=outputs)) as dev:
        result = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, FAST)
    assert result.errors == []
    assert result.optics == [] and result.lldp == [] and result.cdp == []
    assert result.system == IOS_SYSTEM


@ssh
def test_a_command_that_hangs_ends_the_session_and_the_rest_are_reported():
    with FakeDevice(device(outputs=IOS_OUTPUTS, hang_on=frozenset({"show inventory"}))) as dev:
        t = time.monotonic()
        result = collect("127.0.0.1", dev.port, "cisco_ios", CREDS, SHORT)
        elapsed = time.monotonic() - t
    assert result.system == IOS_SYSTEM
    assert reasons(result) == {
        "cli.hardware": "timeout",
        "cli.optics": "timeout",
        "cli.lldp": "timeout",
        "cli.cdp": "timeout",
    }
    assert "not run" in {e.collector: e.message for e in result.errors}["cli.cdp"]
    assert [c for c in dev.commands if c.startswith("show")] == IOS_COMMANDS[:2]
    assert elapsed < 2 * SHORT.prompt + 2 * SHORT.command + 2


# -- several devices ----------------------------------------------------------------------------


@ssh
def test_collect_many_a_dead_and_a_hanging_device_do_not_delay_the_good_ones():
    good = [
        device(
            hostname=f"acc-sw-{i}",
            outputs={**IOS_OUTPUTS, "show version": IOS_VERSION.replace("dist-sw-07", f"acc-sw-{i}")},
        )
        for i in (1, 2, 3)
    ]
    hang_timeouts = CliTimeouts(connect=2, banner=2, auth=2, prompt=2.5, command=2, total=30)
    with fake_devices([device(hang_after_login=True), *good]) as devs:
        hanging, *goods = devs
        targets = [
            CliTarget("127.0.0.1", CREDS, port=hanging.port, name="hanging", timeouts=hang_timeouts),
            CliTarget("127.0.0.1", CREDS, port=closed_port(), name="dead"),
            *(CliTarget("127.0.0.1", CREDS, port=d.port, name=d.behaviour.hostname) for d in goods),
        ]
        finished: dict[str, float] = {}
        start = time.monotonic()

        def on_result(target: CliTarget, result: CliResult) -> None:
            finished[target.name] = time.monotonic() - start

        # 3 workers for 5 devices: the hanging one holds a worker, the others share the remaining two
        results = asyncio.run(collect_many(targets, max_workers=3, timeouts=FAST, on_result=on_result))
        total = time.monotonic() - start
    assert [r.name for r in results] == ["hanging", "dead", "acc-sw-1", "acc-sw-2", "acc-sw-3"]
    by_name = {r.name: r for r in results}
    assert reasons(by_name["hanging"]) == {"cli": "timeout"}
    assert reasons(by_name["dead"]) == {"cli": "ssh"}
    for i in (1, 2, 3):
        r = by_name[f"acc-sw-{i}"]
        assert r.errors == [], r.errors
        assert r.system.name == f"acc-sw-{i}"
        assert r.optics == IOS_OPTICS and r.lldp == IOS_LLDP_NEIGHBORS
        # done before the hanging device gave up, and well before its prompt timeout ran out twice
        assert finished[f"acc-sw-{i}"] < finished["hanging"]
        assert finished[f"acc-sw-{i}"] < 2 * hang_timeouts.prompt
    assert finished["dead"] < 1.0
    assert total < 2 * hang_timeouts.prompt + 2.5  # the whole batch costs the slowest device, not the sum
    for r in results:
        assert_no_secret(r)


def test_collect_many_with_no_devices():
    assert asyncio.run(collect_many([], max_workers=4)) == []


def test_collect_many_never_raises_even_if_collect_does(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError(f"bug near {PASSWORD}")

    monkeypatch.setattr(cli, "collect", broken)
    results = asyncio.run(collect_many([CliTarget("127.0.0.1", CREDS, port=1, name="x")], max_workers=1))
    assert len(results) == 1 and reasons(results[0]) == {"cli": "internal"}
    assert_no_secret(results[0])


# -- the pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2 years, 31 weeks, 6 days, 9 hours, 55 minutes", (2 * 365 + 31 * 7 + 6) * 86400 + 9 * 3600 + 55 * 60),
        ("1 day, 15 hours, 32 minutes", 86400 + 15 * 3600 + 32 * 60),
        ("7 weeks, 17 hours, 14 minutes", 7 * 7 * 86400 + 17 * 3600 + 14 * 60),
        ("123 day(s), 5 hour(s), 15 minute(s), 19 second(s)", 123 * 86400 + 5 * 3600 + 15 * 60 + 19),
        ("4 weeks, 2 days, 3 hours and 12 minutes", (4 * 7 + 2) * 86400 + 3 * 3600 + 12 * 60),
        ("5 days, 3:02:01", 5 * 86400 + 3 * 3600 + 2 * 60 + 1),
        ("", None),
        ("unknown", None),
    ],
)
def test_uptime_seconds(text, seconds):
    assert cli_parsers.uptime_seconds(text) == seconds


@given(st.integers(0, 20), st.integers(0, 51), st.integers(0, 6), st.integers(0, 23), st.integers(0, 59), st.booleans())
def test_uptime_ticks_is_a_wrapping_timeticks(years, weeks, days, hours, minutes, plural_suffix):
    parts = [(years, "year"), (weeks, "week"), (days, "day"), (hours, "hour"), (minutes, "minute")]
    text = ", ".join(f"{n} {unit}{'(s)' if plural_suffix else ('s' if n != 1 else '')}" for n, unit in parts if n)
    seconds = (years * 365 + weeks * 7 + days) * 86400 + hours * 3600 + minutes * 60
    ticks = cli_parsers.uptime_ticks(text)
    if not text:
        assert ticks is None
    else:
        assert ticks == (seconds * 100) % 2**32
        assert 0 <= ticks < 2**32


@pytest.mark.parametrize(
    ("text", "value"),
    [("-3.0", -3.0), ("23.1", 23.1), ("+1.5", 1.5), ("0", 0.0), ("N/A", None), ("NA", None), ("--", None), ("", None)],
)
def test_number(text, value):
    got = cli_parsers.number(text)
    assert (None if got is None else float(got)) == value


def test_mac_and_address_normalisation():
    assert cli_parsers.mac_or_text("7C21.0E55.8A00") == "7c:21:0e:55:8a:00"
    assert cli_parsers.mac_or_text("00-1C-73-EE-C0-46") == "00:1c:73:ee:c0:46"
    assert cli_parsers.mac_or_text("Ethernet1/1") == "Ethernet1/1"
    assert cli_parsers.ip_or_empty("127.0.0.1") == "127.0.0.1"
    assert cli_parsers.ip_or_empty("2001:db8::1") == "2001:db8::1"
    assert cli_parsers.ip_or_empty("2cc2.6081.eaf9") == ""


def test_telling_empty_from_garbage():
    assert cli_parsers.empty_output_ok("")
    assert cli_parsers.empty_output_ok("\nTotal entries displayed: 0\n")
    assert cli_parsers.empty_output_ok(XCVR_LEGEND)
    assert cli_parsers.feature_disabled("% LLDP is not enabled")
    assert cli_parsers.feature_disabled("% CDP is not enabled")
    assert not cli_parsers.empty_output_ok("lorem ipsum 0x7f3a\n")
    assert cli_parsers.device_error("   ^\n% Invalid input detected at '^' marker.\n").startswith("% Invalid input")
    assert cli_parsers.device_error("% Invalid command at '^' marker.")
    assert cli_parsers.device_error("error: syntax error, expecting <command>: lldpp")
    assert cli_parsers.device_error(IOS_VERSION) is None

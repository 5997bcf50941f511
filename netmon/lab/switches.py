"""The lab's simulated switches and router: snmprec data for snmpsim, and the SSH switch's CLI output.

Every switch gets IF-MIB counters that advance with time (snmpsim's ``numeric``
variation), ENTITY-MIB hardware, two 10G LR optics with DOM readings and
thresholds (CISCO-ENTITY-SENSOR-MIB), and LLDP neighbours forming a ring; the
router has only 32-bit ifTable counters. The SSH switch's outputs are Cisco
IOS-XE's formats, as ntc-templates parses them.
"""

from __future__ import annotations

import random
import re

from netmon.lab.city import LabDevice

CISCO_C9300 = "1.3.6.1.4.1.9.1.2494"
CISCO_ISR4331 = "1.3.6.1.4.1.9.1.2068"


def oid_key(line: str) -> tuple[int, ...]:
    return tuple(int(x) for x in line.split("|", 1)[0].split("."))


def _text(value: str) -> str:
    # snmprec type 4 takes the text as is; keep it to printable ASCII without the separator.
    return re.sub(r"[^ -{}~]", "?", value)


def switch_records(dev: LabDevice, uplink_peers: list[str], rng: random.Random) -> list[str]:
    """snmprec lines for one switch or router; counters advance at a per-port rate."""
    recs: list[str] = []
    descr = (
        "Cisco IOS Software [Cupertino], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.3.4"
        if dev.legacy
        else "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4"
    )
    recs += [
        f"1.3.6.1.2.1.1.1.0|4|{descr}",
        f"1.3.6.1.2.1.1.2.0|6|{CISCO_ISR4331 if dev.legacy else CISCO_C9300}",
        # TimeTicks advance 100 per second from a random boot time in the last ~30 days.
        f"1.3.6.1.2.1.1.3.0|67:numeric|rate=100,initial={rng.randint(10_000, 260_000_000)}",
        "1.3.6.1.2.1.1.4.0|4|noc@city.example",
        f"1.3.6.1.2.1.1.5.0|4|{dev.hostname}",
        f"1.3.6.1.2.1.1.6.0|4|{dev.site}",
    ]
    ports = []  # (ifindex, name, descr, alias, type, speed_mbps, admin, oper, rate)
    if dev.legacy:
        for n in range(dev.ports):
            up = n < 2 or rng.random() < 0.5
            ports.append(
                (
                    n + 1,
                    f"Gi0/0/{n}",
                    f"GigabitEthernet0/0/{n}",
                    "",
                    6,
                    1000,
                    1,
                    1 if up else 2,
                    rng.randint(2_000_000, 40_000_000) if up else 0,
                )
            )
    else:
        for n in range(1, dev.ports + 1):
            admin = 2 if rng.random() < 0.08 else 1
            up = admin == 1 and rng.random() < 0.7
            alias = f"AP {dev.site}-ap-{n:02d}" if up and rng.random() < 0.3 else ""
            ports.append(
                (
                    n,
                    f"Gi1/0/{n}",
                    f"GigabitEthernet1/0/{n}",
                    alias,
                    6,
                    1000,
                    admin,
                    1 if up else 2,
                    rng.randint(1_000, 4_000_000) if up else 0,
                )
            )
        for u, peer in enumerate(uplink_peers[:2], start=1):
            ports.append(
                (
                    1000 + u,
                    f"Te1/1/{u}",
                    f"TenGigabitEthernet1/1/{u}",
                    f"fibre to {peer}",
                    6,
                    10000,
                    1,
                    1,
                    rng.randint(5_000_000, 60_000_000),
                )
            )
        ports.append((5001, "Vl1", "Vlan1", "management", 53, 1000, 1, 1, rng.randint(1_000, 20_000)))
    ift, ifx = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"
    recs.append(f"1.3.6.1.2.1.2.1.0|2|{len(ports)}")
    for ifindex, name, ifdescr, alias, iftype, mbps, admin, oper, rate in ports:
        i = ifindex
        recs += [
            f"{ift}.1.{i}|2|{i}",
            f"{ift}.2.{i}|4|{ifdescr}",
            f"{ift}.3.{i}|2|{iftype}",
            f"{ift}.4.{i}|2|1500",
            f"{ift}.5.{i}|66|{min(mbps * 1_000_000, 4294967295)}",
            f"{ift}.7.{i}|2|{admin}",
            f"{ift}.8.{i}|2|{oper}",
            f"{ift}.9.{i}|67|{rng.randint(0, 10_000)}",
        ]
        in_rate, out_rate = rate, int(rate * rng.uniform(0.2, 1.5))
        errors = 0.05 if rate and rng.random() < 0.1 else 0
        counters32 = [
            (10, in_rate),
            (11, in_rate / 700),
            (13, in_rate / 2_000_000),
            (14, errors),
            (16, out_rate),
            (17, out_rate / 700),
            (19, out_rate / 3_000_000),
            (20, errors / 2),
        ]
        for col, r in counters32:
            # octet/packet counters start anywhere (some wrap soon); errors and discards start small
            start = rng.randint(0, 2**31) if col in (10, 11, 16, 17) else rng.randint(0, 500)
            if r:
                recs.append(f"{ift}.{col}.{i}|65:numeric|rate={r:.4f},initial={start},wrap=1,max=4294967295")
            else:
                recs.append(f"{ift}.{col}.{i}|65|{start}")
        if dev.legacy:
            continue
        recs += [
            f"{ifx}.1.{i}|4|{name}",
            f"{ifx}.15.{i}|66|{mbps}",
            f"{ifx}.18.{i}|4|{_text(alias)}",
            f"{ifx}.19.{i}|67|0",
        ]
        for col, r in ((6, in_rate), (7, in_rate / 700), (10, out_rate), (11, out_rate / 700)):
            start = rng.randint(0, 10**12)
            recs.append(
                f"{ifx}.{col}.{i}|70:numeric|rate={r:.4f},initial={start}" if r else f"{ifx}.{col}.{i}|70|{start}"
            )
    recs.sort(key=oid_key)
    return recs


def _dotted_mac(k: int) -> str:
    raw = chassis_mac(k)
    return f"{raw[0:4]}.{raw[4:8]}.{raw[8:12]}"


def cli_outputs(dev: LabDevice, k: int, switches: list[LabDevice]) -> dict[str, str]:
    """What the lab's SSH switch prints, in Cisco IOS-XE's formats (parsed by ntc-templates)."""
    rng = random.Random(f"cli-{k}")
    legend = (
        "\nIf device is externally calibrated, only calibrated values are printed.\n"
        "++ : high alarm, +  : high warning, -  : low warning, -- : low alarm.\n"
        "NA or N/A: not applicable, Tx: transmit, Rx: receive.\n"
        "mA: milliamperes, dBm: decibels (milliwatts).\n\n"
        "                                            Optical   Optical\n"
        "            Temperature  Voltage  Current   Tx Power  Rx Power\n"
        "Port        (Celsius)    (Volts)  (mA)      (dBm)     (dBm)\n"
        "---------   -----------  -------  --------  --------  --------\n"
    )
    optics = "".join(
        f"Te1/1/{u}      {rng.uniform(28, 45):4.1f}       {rng.uniform(3.25, 3.35):4.2f}"
        f"      {rng.uniform(5.5, 8.0):4.1f}      {rng.uniform(-3, -1):4.1f}      {rng.uniform(-9, -4):4.1f}\n"
        for u in (1, 2)
    )
    inventory = (
        f'NAME: "c93xx Stack", DESCR: "c93xx Stack"\nPID: C9300-48P         , VID: V02  , SN: FOC{2300 + k:04d}X001\n\n'
        + "".join(
            f'NAME: "TenGigabitEthernet1/1/{u}", DESCR: "SFP-10GBase-LR"\n'
            f"PID: SFP-10G-LR          , VID: V02  , SN: FNS{2500 + k:04d}{u}001\n\n"
            for u in (1, 2)
        )
    )
    lldp, cdp = [], []
    for u in (1, 2) if len(switches) > 1 else ():
        peer_k = (k - 1) % len(switches) if u == 1 else (k + 1) % len(switches)
        peer, peer_port = switches[peer_k].hostname, 2 if u == 1 else 1
        lldp.append(
            "------------------------------------------------\n"
            f"Local Intf: Te1/1/{u}\nChassis id: {_dotted_mac(peer_k)}\nPort id: Te1/1/{peer_port}\n"
            f"Port Description: TenGigabitEthernet1/1/{peer_port}\nSystem Name: {peer}\n\n"
            "System Description:\nCisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), "
            "Version 17.9.4, RELEASE SOFTWARE (fc5)\n\nTime remaining: 101 seconds\nSystem Capabilities: B,R\n"
            f"Enabled Capabilities: B,R\nManagement Addresses:\n    IP: 127.0.1.{peer_k + 1}\n"
            "Auto Negotiation - not supported\nPhysical media capabilities - not advertised\n"
            "Media Attachment Unit type - not advertised\nVlan ID: - not advertised\n\n"
        )
        cdp.append(
            f"-------------------------\nDevice ID: {peer}\nEntry address(es):\n  IP address: 127.0.1.{peer_k + 1}\n"
            "Platform: cisco C9300-48P,  Capabilities: Router Switch IGMP\n"
            f"Interface: TenGigabitEthernet1/1/{u},  Port ID (outgoing port): TenGigabitEthernet1/1/{peer_port}\n"
            "Holdtime : 142 sec\n\nVersion :\nCisco IOS Software [Cupertino], Catalyst L3 Switch Software "
            "(CAT9K_IOSXE), Version 17.9.4, RELEASE SOFTWARE (fc5)\n\nadvertisement version: 2\n"
            "Native VLAN: 1\nDuplex: full\n\n"
        )
    return {
        "show version": (
            "Cisco IOS XE Software, Version 17.09.04\n"
            "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4, "
            "RELEASE SOFTWARE (fc5)\n\n"
            f"{dev.hostname} uptime is 2 weeks, 3 days, 4 hours, 5 minutes\n"
            "System returned to ROM by Reload Command\n"
            'System image file is "flash:packages.conf"\n\n'
            "cisco C9300-48P (X86) processor with 1392780K/6147K bytes of memory.\n"
            f"Processor board ID FOC{2300 + k:04d}X001\n"
            "Configuration register is 0x102\n"
        ),
        "show inventory": inventory,
        "show interface transceiver": legend + optics,
        "show lldp neighbors detail": "".join(lldp) + f"\nTotal entries displayed: {len(lldp)}\n",
        "show cdp neighbors detail": "".join(cdp) + f"\n\nTotal cdp entries displayed : {len(cdp)}\n",
    }


def chassis_mac(k: int) -> str:
    return f"001a2b00{k // 256:02x}{k % 256:02x}"


def fibre_records(dev: LabDevice, k: int, switches: list[LabDevice]) -> list[str]:
    """ENTITY-MIB hardware, transceiver DOM (CISCO-ENTITY-SENSOR-MIB) and LLDP for one lab switch.

    Each switch has two 10G LR optics, Te1/1/1 towards the previous switch in the
    ring and Te1/1/2 towards the next, and sees both over LLDP. Every third
    switch has a Te1/1/1 whose receive power drifts down towards its low warning
    (a dirty connector, a bent fibre): a slope the NOC should see before the alarm.
    Uses its own random stream (seeded by the switch's place in the ring), so the
    interface data of the lab stays as it was.
    """
    rng = random.Random(f"fibre-{k}")
    ent, cs, lldp = "1.3.6.1.2.1.47.1.1.1.1", "1.3.6.1.4.1.9.9.91.1", "1.0.8802.1.1.2.1"
    recs = [
        f"{ent}.2.1|4|Cisco Catalyst 9300 Series 48-port 1G switch",
        f"{ent}.4.1|2|0",
        f"{ent}.5.1|2|3",
        f"{ent}.7.1|4|Switch 1 Chassis",
        f"{ent}.8.1|4|V02",
        f"{ent}.9.1|4|17.9.4r",
        f"{ent}.10.1|4|17.9.4",
        f"{ent}.11.1|4|FOC{2300 + k:04d}X{rng.randint(100, 999)}",
        f"{ent}.13.1|4|C9300-48P",
        f"{ent}.2.2|4|Cisco Catalyst 9300 4x10G uplink module",
        f"{ent}.4.2|2|1",
        f"{ent}.5.2|2|9",
        f"{ent}.7.2|4|Switch 1 FRU Uplink Module 1",
        f"{ent}.11.2|4|FOC{2400 + k:04d}Y{rng.randint(100, 999)}",
        f"{ent}.13.2|4|C9300-NM-4G",
        f"{lldp}.3.1.0|2|4",  # lldpLocChassisIdSubtype: macAddress
        f"{lldp}.3.2.0|4x|{chassis_mac(k)}",
        f"{lldp}.3.3.0|4|{dev.hostname}",
    ]
    ring = len(switches) > 1
    for u in (1, 2):
        port = 3000 + u * 10
        ifindex = 1000 + u
        drifting = u == 1 and k % 3 == 1
        temp, volts, bias = rng.randint(280, 450), rng.randint(325, 335), rng.randint(55, 80)
        tx = rng.randint(-30, -10)  # -3.0 .. -1.0 dBm
        rx = -171 if drifting else rng.randint(-90, -40)  # dBm x 10
        recs += [
            f"{ent}.2.{port}|4|SFP-10GBase-LR",
            f"{ent}.4.{port}|2|2",
            f"{ent}.5.{port}|2|10",
            f"{ent}.7.{port}|4|Te1/1/{u}",
            f"{ent}.11.{port}|4|FNS{2500 + k:04d}{u}{rng.randint(100, 999)}",
            f"{ent}.13.{port}|4|SFP-10G-LR",
            f"1.3.6.1.2.1.47.1.3.2.1.2.{port}.0|6|1.3.6.1.2.1.2.2.1.1.{ifindex}",
        ]
        # tenths of a dBm, one tenth lower every 200 s: about 30 min from -17.1 dBm to the -18.0 warning
        rx_record = f"2:numeric|rate=-0.005,initial={rx},min=-400,max=50" if drifting else f"2|{rx}"
        # (offset, name, SensorDataType, scale, precision, value, (low alarm, low warning, high warning, high alarm))
        sensors = [
            (1, "Temperature Sensor", 8, 9, 1, f"2|{temp}", (-50, 0, 700, 750)),
            (2, "Supply Voltage Sensor", 4, 9, 2, f"2|{volts}", (290, 300, 360, 370)),
            (3, "Bias Current Sensor", 5, 8, 1, f"2|{bias}", (20, 25, 120, 130)),
            (4, "Transmit Power Sensor", 14, 9, 1, f"2|{tx}", (-82, -72, 5, 10)),
            (5, "Receive Power Sensor", 14, 9, 1, rx_record, (-200, -180, 5, 10)),
        ]
        for offset, label, kind, scale, precision, value, limits in sensors:
            i = port + offset
            recs += [
                f"{ent}.2.{i}|4|Te1/1/{u} {label}",
                f"{ent}.4.{i}|2|{port}",
                f"{ent}.5.{i}|2|8",
                f"{ent}.7.{i}|4|Te1/1/{u} {label}",
                f"{cs}.1.1.1.1.{i}|2|{kind}",
                f"{cs}.1.1.1.2.{i}|2|{scale}",
                f"{cs}.1.1.1.3.{i}|2|{precision}",
                f"{cs}.1.1.1.4.{i}|{value}",
                f"{cs}.1.1.1.5.{i}|2|1",
            ]
            # entSensorThresholdTable rows (severity, relation, value): major = alarm, minor = warning
            rows = ((20, 1, limits[0]), (10, 1, limits[1]), (10, 3, limits[2]), (20, 3, limits[3]))
            for n, (severity, relation, limit) in enumerate(rows, start=1):
                recs += [
                    f"{cs}.2.1.1.2.{i}.{n}|2|{severity}",
                    f"{cs}.2.1.1.3.{i}.{n}|2|{relation}",
                    f"{cs}.2.1.1.4.{i}.{n}|2|{limit}",
                ]
        recs += [
            f"{lldp}.3.7.1.2.{u}|2|5",
            f"{lldp}.3.7.1.3.{u}|4|Te1/1/{u}",
            f"{lldp}.3.7.1.4.{u}|4|TenGigabitEthernet1/1/{u}",
        ]
        if not ring:
            continue
        peer_k = (k - 1) % len(switches) if u == 1 else (k + 1) % len(switches)
        peer, peer_port = switches[peer_k], 2 if u == 1 else 1
        row = f"0.{u}.1"
        recs += [
            f"{lldp}.4.1.1.4.{row}|2|4",
            f"{lldp}.4.1.1.5.{row}|4x|{chassis_mac(peer_k)}",
            f"{lldp}.4.1.1.6.{row}|2|5",
            f"{lldp}.4.1.1.7.{row}|4|Te1/1/{peer_port}",
            f"{lldp}.4.1.1.8.{row}|4|TenGigabitEthernet1/1/{peer_port}",
            f"{lldp}.4.1.1.9.{row}|4|{peer.hostname}",
            f"{lldp}.4.1.1.10.{row}|4|Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE)",
            f"{lldp}.4.2.1.3.{row}.1.4.127.0.1.{peer_k + 1}|2|2",
        ]
    return recs

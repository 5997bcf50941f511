"""The lab: a simulated city network on loopback, the embedded default. Never imported by the product.

``netmon demo``, the integration tests and the benchmarks build it and run
netmon against it for real. One module per simulated peer:

- :mod:`netmon.lab.city`: what the city has (sites, devices, controllers) and where each peer listens;
- :mod:`netmon.lab.build`: writes the lab's data files, inventory, secrets and configuration;
- :mod:`netmon.lab.switches`: the switches' and the router's SNMP data, the SSH switch's CLI output;
- :mod:`netmon.lab.snmpsim`: the snmpsim agent that serves them;
- :mod:`netmon.lab.wlc_agent`: the Wi-Fi controllers' SNMP agent (residents coming and going);
- :mod:`netmon.lab.wlc_cli`: the controllers' CLI, rendered from the same model;
- :mod:`netmon.lab.ssh_device`: an SSH server that plays a device's CLI for netmiko;
- :mod:`netmon.lab.radius_nas`: the controllers' RADIUS accounting and the eduroam proxy's F-Ticks;
- :mod:`netmon.lab.peers`: starts and stops those peers for a built lab;
- :mod:`netmon.lab.history`: months of synthetic Wi-Fi sessions for the planners' reports.

The names below are the lab's public surface (``from netmon import lab``).
"""

from netmon.lab.build import build
from netmon.lab.city import (
    CITY_CENTRE,
    RADIUS_SOURCES,
    SSH_USER,
    V3_AUTH_KEY,
    V3_PRIV_KEY,
    V3_USER,
    WLC_9800,
    WLC_ANNEX,
    WLC_CITY,
    Lab,
    LabDevice,
    free_tcp_port,
    free_udp_port,
    site_names,
)
from netmon.lab.peers import RadiusNas, SshDevice, WlcDevice
from netmon.lab.snmpsim import LAB_V3_USER, Simulator, V3User, snmpsim_command
from netmon.lab.switches import CISCO_C9300, CISCO_ISR4331

__all__ = [
    "CISCO_C9300",
    "CISCO_ISR4331",
    "CITY_CENTRE",
    "LAB_V3_USER",
    "RADIUS_SOURCES",
    "SSH_USER",
    "V3_AUTH_KEY",
    "V3_PRIV_KEY",
    "V3_USER",
    "WLC_9800",
    "WLC_ANNEX",
    "WLC_CITY",
    "Lab",
    "LabDevice",
    "RadiusNas",
    "Simulator",
    "SshDevice",
    "V3User",
    "WlcDevice",
    "build",
    "free_tcp_port",
    "free_udp_port",
    "site_names",
    "snmpsim_command",
]

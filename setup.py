"""netmon: network and Wi-Fi operations monitor for a city-scale public network."""

from pathlib import Path

from setuptools import find_packages, setup

# What runs in production: the core, the collectors, the inventory, the exporter.
PRODUCT = find_packages(
    include=["netmon*", "collectors*", "inventory*", "exporters*"], exclude=["netmon.lab", "netmon.lab.*"]
)
# The simulated city, kept apart: `netmon demo` (netmon/cli/demo.py) is the only product code that imports it,
# and what it needs beyond the product (snmpsim, pysmi, asyncssh) comes with the "lab" extra.
LAB = ["netmon.lab"]

setup(
    name="netmon",
    version="0.1.0",
    description="Network and Wi-Fi operations monitor: SNMP/SSH collectors, SQLite store, Prometheus exporter",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="GPL-3.0-or-later",
    python_requires=">=3.11",
    packages=PRODUCT + LAB,
    # The Prometheus rules `netmon demo` loads (netmon.prometheus_server) travel with the exporter,
    # the project's own TextFSM templates (collectors/templates) with the CLI parsers.
    package_data={"exporters": ["rules/*.yml"], "collectors": ["templates/*.textfsm"]},
    install_requires=[
        "pysnmp>=7.1,<7.2",
        # pysnmp enables AES/3DES privacy only when `cryptography` is importable.
        # (47+: the CFB mode lives in cryptography.hazmat.decrepit, where collectors.snmp.usm imports it)
        "cryptography>=47",
        "apscheduler>=3.10,<4",
        "prometheus-client>=0.20",
        # bcrypt: basic auth for /metrics with the exporter-toolkit web configuration's hashes.
        "bcrypt>=4",
        "sqlite-utils>=3.36",
        "PyYAML>=6",
        # SSH collection: netmiko drives the CLI, ntc-templates' TextFSM templates parse it.
        "netmiko>=4.4,<5",
        "ntc-templates>=7",
        # Planners' reports: charts rendered offline (Agg backend) into the HTML and the PDF;
        # numpy also holds the HyperLogLog sketches of distinct clients.
        "matplotlib>=3.7",
        "numpy>=1.24",
        # scapy: the reference RADIUS decoder, pcap replay and capture (the hot path has its own codec).
        "scapy>=2.5",
    ],
    extras_require={
        # The lab (snmpsim agents) and the test tools.
        # asyncssh plays SSH devices in the tests and the lab.
        "lab": ["snmpsim==1.2.2", "pysmi>=2,<3", "asyncssh>=2.14"],
        # pyrad: a second real RADIUS client (besides FreeRADIUS's radclient) in the accounting tests.
        "test": [
            "pytest>=8",
            "hypothesis>=6",
            "ruff>=0.17,<0.18",
            "snmpsim==1.2.2",
            "pysmi>=2,<3",
            "asyncssh>=2.14",
            "pyrad>=2.4",
        ],
    },
    entry_points={"console_scripts": ["netmon = netmon.cli:main"]},
)

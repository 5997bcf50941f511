"""netmon: network and Wi-Fi operations monitor.

Data flows one way: inventory -> scheduler -> collectors -> store -> exporters.
"""

__version__ = "0.1.0"

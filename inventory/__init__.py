"""Site inventory: sites, devices (later fibre links and access points).

A source is anything that returns an :class:`inventory.model.Inventory`;
the YAML file is the first one (``inventory.yaml_file.load``).
"""

from inventory.model import ROLES, Device, Inventory, Site
from inventory.yaml_file import InventoryError, load

__all__ = ["ROLES", "Device", "Inventory", "InventoryError", "Site", "load"]

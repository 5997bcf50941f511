"""The SQLite store: the only part of netmon that runs SQL.

WAL mode, one transaction per write (:mod:`netmon.store.db`), the schema's
migrations in one ordered list (:mod:`netmon.store.migrations`), and one
module per concern:

- :mod:`netmon.store.devices`: the inventory, each device's state, interfaces and their counter totals,
  collector health, events;
- :mod:`netmon.store.topology`: LLDP/CDP links, transceiver DOM readings, hardware;
- :mod:`netmon.store.wifi`: access points, per-AP/SSID samples, client sessions (pseudonymised);
- :mod:`netmon.store.radius`: RADIUS accounting sessions and F-Ticks events;
- :mod:`netmon.store.usage`: daily usage aggregates, retention, the reports' reads.

:class:`Store` is all of them on one connection. Everything outside the
package reads and writes through its named methods, which take and return
typed observations and rows, never a cursor.
"""

from netmon.errors import StoreError
from netmon.store.db import Database
from netmon.store.devices import DevicesStore
from netmon.store.migrations import MIGRATIONS
from netmon.store.radius import RadiusStore
from netmon.store.rows import DeviceRow
from netmon.store.topology import TopologyStore
from netmon.store.usage import UsageStore
from netmon.store.wifi import WifiStore

__all__ = ["MIGRATIONS", "DeviceRow", "Store", "StoreError"]


class Store(DevicesStore, TopologyStore, WifiStore, RadiusStore, UsageStore, Database):
    """One SQLite database (``readonly``: for the exporter's scrapes, no migration)."""

"""Hand what a device poll observed to the store: the writer thread's side of the scheduler.

A ``poll`` job's result is the device's state (:meth:`Store.record_poll`),
then, in a transaction of its own, a controller's Wi-Fi data
(:meth:`Store.record_wlc`): a failure there is the ``wlc`` collector's, not
the device's state. A ``cli`` job adds hardware, optics and neighbours
(:meth:`Store.record_cli`). A store failure never leaves a device looking
as it did at its last good poll: its state becomes unknown instead.
"""

from __future__ import annotations

import logging

from collectors.observations import CollectorRun
from inventory.ap_sites import site_rules
from netmon.config import Config
from netmon.poller import DevicePoll
from netmon.privacy import Pseudonymizer
from netmon.store import Store
from netmon.store.wifi import WifiSettings

log = logging.getLogger(__name__)


class Recorder:
    """Stores device polls; call it from one thread at a time (the scheduler's writer)."""

    def __init__(self, store: Store, config: Config, privacy: Pseudonymizer | None):
        self.store = store
        self.config = config
        self.privacy = privacy

    def record(self, result: DevicePoll) -> list[dict]:
        """Store a poll of either job; returns the events it produced (state changes: ``poll`` jobs only)."""
        if result.job == "cli":
            self.cli(result)
            return []
        return self.poll(result)

    def poll(self, result: DevicePoll) -> list[dict]:
        device, seen = result.device, result.observed
        try:
            events = self.store.record_poll(
                device, result.started, seen.system, seen.interfaces, result.runs,
                dropped=result.dropped, optics=seen.optics, hardware=seen.hardware, read_at=result.read_at,
                neighbors=seen.neighbors, chassis_id=seen.chassis_id,
            )  # fmt: skip
            if seen.wlc is not None:
                self.wifi(result)
            return events
        except Exception:
            # A store failure (disk full, locked too long, a bug) must not leave the device
            # looking as it did at its last good poll: mark its state unknown instead.
            log.exception("%s: could not store the poll result", device.hostname)
            try:
                self.store.record_failure(device, result.started)
            except Exception:
                log.exception("%s: could not record the store failure either", device.hostname)
            return []

    def wifi(self, result: DevicePoll) -> None:
        """The controller's Wi-Fi data; a failure here is the wlc collector's, not the device's state."""
        cfg, device = self.config, result.device
        try:
            settings = WifiSettings(frozenset(cfg.eduroam_ssids), device.interval or cfg.interval, cfg.wifi_grace)
            site_of = site_rules(cfg.ap_site_rules, self.store.site_ids())
            at = result.read_at or result.started
            self.store.record_wlc(device, at, result.wlc, self.privacy, settings, site_of)
        except Exception:
            log.exception("%s: could not store the Wi-Fi data", device.hostname)
            self.store.record_cli(device, result.started, [CollectorRun("wlc", 0.0, "store")])

    def cli(self, result: DevicePoll) -> None:
        seen = result.observed
        try:
            self.store.record_cli(
                result.device, result.started, result.runs,
                hardware=seen.hardware, optics=seen.optics, neighbors=seen.neighbors,
            )  # fmt: skip
        except Exception:
            log.exception("%s: could not store the SSH collection", result.device.hostname)

"""Exporters turn the store's latest state into something others read. They never talk to devices."""

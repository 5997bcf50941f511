"""Collectors talk to devices and return typed observations.

They never write to the store and never know Prometheus: the scheduler hands
them a session, they return dataclasses from :mod:`collectors.observations`.
"""

"""Conformance against real-device data kept beside the project, never in it.

The shared fixtures (``../shared/fixtures``, see its ``NOTICE.md``) hold SNMP
walks recorded from real switches and controllers by LibreNMS, with
LibreNMS's own expected database rows for each walk. This suite serves the
walks with snmpsim, polls them with netmon's real collectors and compares.
When the folder is not there (a plain checkout, most CI runners) the whole
suite skips with a message saying so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures"
SNMP_FIXTURES = FIXTURES / "snmp"
EXPECTED = SNMP_FIXTURES / "expected"

MISSING_REASON = "../shared/fixtures not found: the conformance suite runs only beside the shared real-device fixtures"


def fixture_dir(name: str) -> Path:
    """``../shared/fixtures/NAME``, or skip the calling test module saying which folder is missing."""
    folder = FIXTURES / name
    if not folder.is_dir():
        reason = MISSING_REASON if not FIXTURES.is_dir() else f"{folder} not found: no {name} fixtures to check against"
        pytest.skip(reason, allow_module_level=True)
    return folder

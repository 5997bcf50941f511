"""Bad input through the CLI: one line `netmon: <what>: <why>`, exit 2, and nothing changed."""

from __future__ import annotations

import sqlite3

from netmon.store import MIGRATIONS, Store
from tests.conftest import run_netmon

INVENTORY = """\
sites:
  - {name: hall, kind: city-hall}
devices:
  - {hostname: sw1, address: 127.0.0.1, site: hall, role: switch}
"""


def _snapshot(db) -> list:
    with sqlite3.connect(db) as conn:
        return [
            (name, conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]


def test_a_database_from_a_newer_netmon_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "n.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 0)")
    before = _snapshot(db)
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    for command in (["inventory", "import", str(tmp_path / "inventory.yml")], ["run", "--duration", "1"]):
        r = run_netmon("--db", str(db), *command)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert lines == [f"netmon: {db}: schema version 999 is newer than this netmon's ({len(MIGRATIONS)}): "
                         "use the netmon that wrote it, or a newer one"]  # fmt: skip
    assert _snapshot(db) == before

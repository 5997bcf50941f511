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


# -- the table: every bad input a careless operator (or an attacker with a file) gives ----------------------------

import contextlib  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402


@contextlib.contextmanager
def tmpfs(path, size: str, readonly: bool = False):
    """A small filesystem of the test's own (a full disk, a read-only disk): root can mount one; for anyone else the
    permission bits do it where they can, and what cannot be made here is reported, not faked."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        if os.environ.get("NETMON_REQUIRE_TOOLS") == "1":
            pytest.fail("mounting a test filesystem needs root (scripts/test runs as root in CI)")
        pytest.skip("mounting a test filesystem needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:  # root without CAP_SYS_ADMIN (a container)
        message = f"cannot mount a test filesystem: {mounted.stderr.decode().strip()}"
        if os.environ.get("NETMON_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _remount_readonly(path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def _one_line(r) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_bad_inventory_files_are_one_line_and_create_nothing(tmp_path):
    db = tmp_path / "n.db"
    nested = tmp_path / "nested.yml"
    nested.write_text("sites: " + "[" * 5000 + "]" * 5000 + "\n")
    huge = tmp_path / "huge.yml"
    with huge.open("wb") as f:
        f.truncate(100 * 2**20)  # 100 MB (sparse): refused before it is read
    cases = [
        (nested, f"netmon: {nested}:1: nested deeper than 32 levels"),
        (huge, f"netmon: {huge}: larger than 32 MiB: not a file netmon reads"),
        ("/dev/zero", "netmon: /dev/zero: cannot read: not a regular file"),
    ]
    for path, expected in cases:
        t0 = time.monotonic()
        line = _one_line(run_netmon("--db", str(db), "inventory", "import", str(path)))
        assert line == expected and time.monotonic() - t0 < 10
        assert not db.exists()


def test_bad_databases_are_one_line(tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(os.urandom(8192))
    before = corrupt.read_bytes()
    line = _one_line(run_netmon("--db", str(corrupt), "inventory", "list"))
    assert line == f"netmon: {corrupt}: not an SQLite database (a corrupt or foreign file: restore it, or move it away)"
    assert corrupt.read_bytes() == before
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    under = blocker / "n.db"
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    line = _one_line(run_netmon("--db", str(under), "inventory", "import", str(tmp_path / "inventory.yml")))
    assert line == f"netmon: {under}: cannot create its folder: {blocker} is a file, not a folder"
    foreign = tmp_path / "other-program.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    before = foreign.read_bytes()
    line = _one_line(run_netmon("--db", str(foreign), "inventory", "import", str(tmp_path / "inventory.yml")))
    assert line == f"netmon: {foreign}: not a netmon database: it holds another program's tables (1)"
    assert foreign.read_bytes() == before
    missing = tmp_path / "typo.db"
    line = _one_line(run_netmon("--db", str(missing), "inventory", "list"))
    assert line == f"netmon: {missing}: no such database (`netmon inventory import FILE` creates it)"
    assert not missing.exists()


def test_read_only_and_full_disks_are_one_line(tmp_path):
    inv = tmp_path / "inventory.yml"
    inv.write_text(INVENTORY)
    with tmpfs(tmp_path / "ro", "4m") as ro:
        Store(ro / "n.db").close()
        _remount_readonly(ro)
        line = _one_line(run_netmon("--db", str(ro / "n.db"), "inventory", "import", str(inv)))
        assert line.startswith(f"netmon: {ro / 'n.db'}: ") and ("read-only" in line or "cannot open" in line), line
        line = _one_line(run_netmon("--db", str(ro / "new.db"), "inventory", "import", str(inv)))
        assert line.startswith(f"netmon: {ro / 'new.db'}: "), line
    with tmpfs(tmp_path / "full", "64k") as full:
        line = _one_line(run_netmon("--db", str(full / "n.db"), "inventory", "import", str(inv)))
        assert line.startswith(f"netmon: {full / 'n.db'}: cannot write: database or disk is full"), line
        assert list(full.iterdir()) == []  # the database it could not create is not left behind


def test_a_locked_database_is_one_line_after_the_busy_timeout(tmp_path):
    db = tmp_path / "n.db"
    Store(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # what a busy `netmon run` writer holds
    try:
        line = _one_line(run_netmon("--db", str(db), "usage", "rebuild", "--from", "today", "--to", "today"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert line == f"netmon: {db}: busy: another process (a running `netmon run`?) held it for more than 5 s; try again"


def test_secrets_that_are_no_file_and_an_empty_netmon_db(tmp_path):
    (tmp_path / "secrets.yml").mkdir()
    line = _one_line(run_netmon("--db", str(tmp_path / "n.db"), "--secrets", str(tmp_path / "secrets.yml"),
                                "inventory", "validate", str(tmp_path / "x.yml")))  # fmt: skip
    assert line.startswith(f"netmon: {tmp_path / 'secrets.yml'}: ")
    line = _one_line(run_netmon("inventory", "list", env={"NETMON_DB": ""}, cwd=tmp_path))
    assert line == "netmon: NETMON_DB is set but empty: give the database's path, or unset it"
    assert not (tmp_path / "netmon.db").exists()


def test_a_run_that_cannot_listen_creates_nothing(tmp_path):
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    (tmp_path / "netmon.yml").write_text(f"db: n.db\ninventory: inventory.yml\nlisten: 127.0.0.1:{0}\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "netmon.yml").write_text(f"db: n.db\ninventory: inventory.yml\nlisten: 127.0.0.1:{port}\n")
        line = _one_line(run_netmon("--config", str(tmp_path / "netmon.yml"), "run", "--duration", "1"))
    assert line == f"netmon: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert not (tmp_path / "n.db").exists()

"""The house's rooms, read from the source: every module's imports (ast), checked against the one-way flow.

    inventory -> scheduler -> collectors -> store -> exporters / reports

Each module belongs to one room (:data:`ROOMS`, by the longest matching
name); a room may import only the rooms :data:`MAY_IMPORT` lists. That keeps
collectors from writing to the store or knowing Prometheus, the store from
calling back into the poller, exporters from talking to devices, and the
usage maths pure. On top: no import cycle between modules, no production
module importing the lab (but ``netmon demo``'s command), the SNMP engines
importing only the SNMP API, and no imports hidden inside functions except
the CLI's and the report renderers' (loaded when a command or format needs
them, so ``netmon --help`` stays quick).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("netmon", "collectors", "inventory", "exporters")

# room -> module name prefixes (the longest prefix wins)
ROOMS = {
    # Leaves anyone may import: what collectors and inventory need from netmon (MAC normalising, realms,
    # pseudonyms), the child-process helpers, the version.
    "leaf": ("netmon.privacy", "netmon.process", "netmon.errors", "netmon.files", "netmon.limits"),
    "inventory": ("inventory",),
    "collectors": ("collectors",),
    "maths": ("netmon.counters", "netmon.usage", "netmon.shard"),
    "config": ("netmon.config", "netmon.secrets"),
    "scheduler": ("netmon.poller", "netmon.recorder", "netmon.scheduler", "netmon.discover"),
    "store": ("netmon.store",),
    "exporters": ("exporters",),
    "reports": ("netmon.reports",),
    "app": ("netmon.app", "netmon.cli", "netmon.prometheus_server"),
    "lab": ("netmon.lab",),
}
PRODUCT = set(ROOMS) - {"lab"}
MAY_IMPORT = {
    "leaf": set(),
    "inventory": {"leaf"},
    "collectors": {"leaf"},
    "maths": {"leaf"},
    "config": {"leaf", "inventory", "collectors", "maths"},
    "store": {"leaf", "inventory", "collectors", "maths"},
    "scheduler": {"leaf", "inventory", "collectors", "maths", "config", "store"},
    "exporters": {"leaf", "config", "store"},
    "reports": {"leaf", "maths", "config", "store"},
    "app": PRODUCT,
    "lab": PRODUCT - {"app"},
}
LAB_ENTRY = {"netmon.cli.demo"}  # `netmon demo` builds and runs the lab
LAZY_IMPORTS_ALLOWED = ("netmon.cli", "netmon.reports.build")
# What each SNMP engine may import of the project: the API, its own codec, credentials, the log limiter.
ENGINES = {
    "collectors.snmp.native": {
        "collectors.snmp.api", "collectors.snmp.ber", "collectors.snmp.usm", "collectors.credentials",
        "netmon.limits",
    },
    "collectors.snmp.pysnmp_engine": {"collectors.snmp.api", "collectors.credentials"},
    "collectors.snmp.ber": {"collectors.snmp.api"},
    "collectors.snmp.usm": {"collectors.snmp.api", "collectors.snmp.ber"},
    "collectors.snmp.api": set(),
}  # fmt: skip


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import names (``from a.b import c``: ``a.b.c`` when that is a module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for every import statement of a module."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    nested = {
        id(sub)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for sub in ast.walk(node)
    }
    out = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{name}:{node.lineno}: relative import (the project imports absolutely)"
            base = node.module or ""
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for target in targets:
            if target.split(".")[0] in PACKAGES and (resolved := _resolve(target)) and resolved != name:
                out.append((resolved, node.lineno, id(node) in nested))
    return out


GRAPH = {name: _imports(name) for name in MODULES}


def room(name: str) -> str | None:
    if name == "netmon":
        return "leaf"  # the package itself: its version
    found = [(len(p), r) for r, prefixes in ROOMS.items() for p in prefixes if name == p or name.startswith(p + ".")]
    return max(found)[1] if found else None


def test_every_module_has_a_room_and_the_map_is_current():
    assert len(MODULES) > 80
    unplaced = [name for name in MODULES if room(name) is None]
    assert unplaced == [], "modules in no room: give each a room in ROOMS"
    # the rooms the issue names exist as packages
    for package in ("netmon.store", "netmon.usage", "netmon.lab", "netmon.cli", "collectors.snmp"):
        assert package in MODULES, package


def against_the_flow(graph) -> list[str]:
    return [
        f"{name}:{line}: {name} ({room(name)}) imports {target} ({room(target)})"
        for name, imports in graph.items()
        for target, line, _ in imports
        if room(target) != room(name)
        and room(target) not in MAY_IMPORT[room(name)]
        and not (name in LAB_ENTRY and room(target) == "lab")
    ]


def test_no_import_against_the_flow():
    assert against_the_flow(GRAPH) == []


def test_no_production_module_imports_the_lab():
    bad = [
        f"{name} imports {target}"
        for name, imports in GRAPH.items()
        if room(name) != "lab" and name not in LAB_ENTRY
        for target, _, _ in imports
        if room(target) == "lab"
    ]
    assert bad == []
    assert any(room(t) == "lab" for t, _, _ in GRAPH["netmon.cli.demo"])  # the demo does use it


def cycles_in(graph) -> list[list[str]]:
    """Tarjan's strongly connected components over module -> module imports (function-level ones included)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in {t for t, _, _ in graph[v]}:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycles():
    assert cycles_in(GRAPH) == []


def test_no_imports_hidden_in_functions():
    bad = [
        f"{MODULES[name].relative_to(ROOT)}:{line}: imports {target} inside a function"
        for name, imports in GRAPH.items()
        if not name.startswith(LAZY_IMPORTS_ALLOWED)
        for target, line, nested in imports
        if nested
    ]
    assert bad == []


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_the_snmp_engines_import_only_the_api(engine):
    assert {t for t, _, _ in GRAPH[engine]} <= ENGINES[engine]


def test_the_snmp_client_imports_its_engines_at_module_level():
    top = {t for t, _, nested in GRAPH["collectors.snmp.client"] if not nested}
    assert {"collectors.snmp.native", "collectors.snmp.pysnmp_engine"} <= top


def test_the_checker_sees_back_arrows_and_cycles():
    """The rules bite: a collector importing the store, the store importing the poller, the usage maths importing
    the store, an exporter importing a collector, and a cycle, each added to the real graph, are all found."""
    for source, target in (
        ("collectors.interfaces", "netmon.store"),
        ("netmon.store.devices", "netmon.poller"),
        ("netmon.usage.arrays", "netmon.store.usage"),
        ("exporters.prometheus", "collectors.snmp.client"),
        ("inventory.yaml_file", "netmon.scheduler"),
    ):
        graph = {**GRAPH, source: [*GRAPH[source], (target, 1, False)]}
        assert [v for v in against_the_flow(graph) if v.startswith(f"{source}:1:")], (source, target)
    graph = {**GRAPH, "collectors.snmp.api": [("collectors.snmp.client", 1, False)]}
    assert any({"collectors.snmp.api", "collectors.snmp.client"} <= set(c) for c in cycles_in(graph))
    assert _resolve("netmon.store.wifi.WifiSettings") == "netmon.store.wifi"

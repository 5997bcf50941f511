"""Reading an operator's files safely: bounded in size before they are read, and YAML bounded in nesting before it
is parsed (PyYAML builds nested collections recursively: 5,000 ``[`` end in a RecursionError, a 100 MB file in
gigabytes of memory). A leaf: inventory, configuration and secrets loaders use it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

MAX_INVENTORY_BYTES = 32 * 2**20  # a city of 10,000 devices is about 2 MB
MAX_SETTINGS_BYTES = 2**20  # the configuration and the secrets file
MAX_YAML_DEPTH = 32  # an inventory needs 4 levels; anything far deeper is not an inventory
# Nodes that aliases (``*defaults``) may stand for, in all: a merged block of defaults is a few dozen; nested
# aliases of aliases ("billion laughs") would otherwise stand for billions.
MAX_ALIAS_EXPANSION = 10_000


class FileProblem(ValueError):
    """Why a file cannot be read as what it should be, without its content (it may be a secrets file); ``line``
    where it is (None: the whole file)."""

    def __init__(self, why: str, line: int | None = None):
        super().__init__(why)
        self.line = line

    def where(self, path: Path) -> str:
        """``FILE:LINE: why`` (``FILE: why`` for the whole file)."""
        return f"{path}:{self.line}: {self}" if self.line is not None else f"{path}: {self}"


class YamlProblem(FileProblem):
    """A file that is not valid YAML: where, never what (the parser's message may quote a secret)."""

    def where(self, path: Path) -> str:
        return f"{path}:{self.line or 1}: {self}"


def read_settings(path: Path, limit: int = MAX_SETTINGS_BYTES):
    """A small YAML settings file (configuration, secrets, web configuration), bounded like every file netmon
    reads; ``{}`` when empty. :class:`FileProblem` when it cannot be read, :class:`YamlProblem` when it is not
    YAML."""
    text = read_text(path, limit)
    try:
        return load_yaml(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlProblem("bad YAML", mark.line + 1 if mark else None) from None


def read_text(path: Path, limit: int) -> str:
    """The file's text, refusing anything that is not a regular file under ``limit`` bytes, or not UTF-8."""
    try:
        if path.exists() and not path.is_file():
            raise FileProblem("cannot read: not a regular file")  # /dev/zero, a FIFO, a directory
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise FileProblem(f"cannot read: {exc.strerror or type(exc).__name__}") from None
    if len(data) > limit:
        raise FileProblem(f"larger than {limit // 2**20} MiB: not a file netmon reads")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not UTF-8 text ({exc.reason})") from None


def check_yaml_depth(text: str, limit: int = MAX_YAML_DEPTH) -> None:
    """Raise :class:`FileProblem` (with the line) when collections nest deeper than ``limit``; the scanner is
    iterative, so this costs no recursion. Syntax errors are left for the parser to report."""
    depth = 0
    starts = (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken, yaml.BlockSequenceStartToken,
              yaml.BlockMappingStartToken)  # fmt: skip
    ends = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, starts):
                depth += 1
                if depth > limit:
                    raise FileProblem(f"nested deeper than {limit} levels", token.start_mark.line + 1)
            elif isinstance(token, ends):
                depth -= 1
    except yaml.YAMLError:
        return


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with what aliases stand for bounded (:data:`MAX_ALIAS_EXPANSION` nodes in all)."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                self._expanded += self._size(node)
                if self._expanded > MAX_ALIAS_EXPANSION:
                    raise yaml.composer.ComposerError(
                        None, None, f"aliases stand for more than {MAX_ALIAS_EXPANSION} nodes", event.start_mark
                    )
        return super().compose_node(parent, index)

    def _size(self, node) -> int:
        """Nodes the alias stands for, counting what its own aliases stand for (depth is bounded already)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size(child) for child in node.value)
        else:
            size = 1
        self._sizes[id(node)] = size
        return size


def load_yaml(text: str):
    """``text`` as YAML, after the nesting check, with bounded aliases; raises ``yaml.YAMLError`` or
    :class:`FileProblem`."""
    check_yaml_depth(text)
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass

"""Read a spec's YAML (or JSON) text safely, keeping the line and column of every value.

Only PyYAML's SafeLoader is used, so no tag can build a Python object. Before composing, the
event stream is scanned (PyYAML's parser is iterative) to refuse what could exhaust memory or
the stack: texts over ``MAX_BYTES``, nesting deeper than ``MAX_DEPTH``, and anchors/aliases
(which would let a short text expand exponentially, the "billion laughs").
"""

from __future__ import annotations

from typing import Any

import yaml

from striate.spec.errors import Problem, SpecError

MAX_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_NODES = 200_000

Path_ = tuple[Any, ...]
Pos = tuple[int, int]


class Located:
    """Plain data read from YAML plus the (line, column) of each value and mapping key.

    ``pos[path]`` is where the value at ``path`` starts (a path is a tuple of keys and list
    indices from the root); ``key_pos[path]`` is where its key is written.
    """

    def __init__(self, data: Any, pos: dict[Path_, Pos], key_pos: dict[Path_, Pos]) -> None:
        self.data = data
        self.pos = pos
        self.key_pos = key_pos

    def at(self, path: Path_, key: bool = False) -> Pos | None:
        """Position of the value (or its key) at ``path``, else of the nearest parent."""
        table = self.key_pos if key else self.pos
        path = tuple(path)
        while path:
            if path in table:
                return table[path]
            if not key and path in self.key_pos:
                return self.key_pos[path]
            path = path[:-1]
        return self.pos.get((), (1, 1))


def _fail(source: str, mark: Any, message: str) -> SpecError:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    return SpecError([Problem(source, line, col, message)])


def _prescan(text: str, source: str) -> None:
    depth = events = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            events += 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _fail(source, event.start_mark,
                            "YAML anchors and aliases (&name, *name) are not allowed in a "
                            "spec; write the value out")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(source, event.start_mark,
                                f"nesting deeper than {MAX_DEPTH} levels; a spec needs at "
                                "most a few")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if events > MAX_NODES:
                raise _fail(source, event.start_mark,
                            f"more than {MAX_NODES} YAML values; a spec is far smaller")
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise _fail(source, mark, f"not valid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise _fail(source, None, f"not valid YAML: {' '.join(str(err).split())}") from None


def parse(text: str | bytes, source: str = "<spec>") -> Located:
    """Parse spec text into plain data with positions.

    Raises:
        SpecError: the text is too large, not UTF-8, not YAML/JSON, too deeply nested, or
            uses anchors, aliases, or duplicate keys.
    """
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _fail(source, None, f"spec is {len(text):,} bytes; the limit is {MAX_BYTES:,}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise _fail(source, None, f"spec is not UTF-8 text (byte {err.start})") from None
    if len(text) > MAX_BYTES:
        raise _fail(source, None, f"spec is {len(text):,} characters; the limit is {MAX_BYTES:,}")
    _prescan(text, source)
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise _fail(source, None, "the spec is empty; write `input:` and `layers:`")
        pos: dict[Path_, Pos] = {}
        key_pos: dict[Path_, Pos] = {}
        data = _convert(loader, root, (), pos, key_pos, source)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise _fail(source, mark, f"not valid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise _fail(source, None, f"not valid YAML: {' '.join(str(err).split())}") from None
    finally:
        loader.dispose()
    return Located(data, pos, key_pos)


def _mark(node: yaml.Node) -> Pos:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, pos: dict[Path_, Pos],
             key_pos: dict[Path_, Pos], source: str) -> Any:
    pos[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _fail(source, key_node.start_mark, "a mapping key must be a plain name")
            key = loader.construct_object(key_node)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                key = str(key)
            if key in out:
                raise _fail(source, key_node.start_mark,
                            f"duplicate key {key!r}; each option may be given once")
            key_pos[(*path, key)] = _mark(key_node)
            out[key] = _convert(loader, value_node, (*path, key), pos, key_pos, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, (*path, i), pos, key_pos, source)
                for i, item in enumerate(node.value)]
    try:
        value = loader.construct_object(node)
    except (ValueError, OverflowError, TypeError) as err:
        raise _fail(source, node.start_mark, f"cannot read value {node.value!r}: {err}") from None
    # Timestamps, binary and sets are YAML types no spec option uses: keep their text.
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        value = str(node.value)
    return value

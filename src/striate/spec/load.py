"""``load_spec``: read a YAML/JSON network spec, check it, and infer every shape.

Every problem found is collected and raised together as one :class:`SpecError`, one
``file:line:col: message`` line each.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from striate.spec.errors import Problems, SpecError
from striate.spec.model import LayerEntry, Spec
from striate.spec.text import MAX_BYTES, Located, parse
from striate.spec.types import RESERVED, known_type, suggest, type_names

TOP_KEYS = ("name", "description", "input", "layers", "outputs", "version")
MAX_ENTRIES = 5_000
MAX_REPEAT = 1_000
MAX_INPUT_SIZE = 1 << 24
MERGES = ("add", "concat", "crop", "unpool")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _is_file(text: str) -> bool:
    try:
        # a folder counts: its error ("is a folder") beats parsing its name as YAML
        return 0 < len(text.strip()) < 4096 and Path(text).exists()
    except (OSError, ValueError):  # not a possible path (too long, NUL bytes): spec text
        return False


def _read(path_or_text: str | os.PathLike[str]) -> tuple[str | bytes, str]:
    one_line = isinstance(path_or_text, str) and "\n" not in path_or_text
    if isinstance(path_or_text, os.PathLike) or (one_line and (
        path_or_text.strip().endswith((".yaml", ".yml", ".json")) or _is_file(path_or_text)
    )):
        path = Path(path_or_text)
        if path.is_dir():
            raise SpecError(f"{path} is a folder; a spec is a .yaml or .json file "
                            "(for a model folder use striate.load)")
        size = path.stat().st_size  # FileNotFoundError reaches the CLI as itself
        if size > MAX_BYTES:
            raise SpecError(f"{path}: spec is {size:,} bytes; the limit is {MAX_BYTES:,}")
        with path.open("rb") as f:
            return f.read(MAX_BYTES + 1), str(path)
    return path_or_text, "<spec>"


def load_spec(path_or_text: str | os.PathLike[str] | bytes, *, source: str | None = None) -> Spec:
    """Read, validate and shape-check a network spec.

    Args:
        path_or_text: a path to a ``.yaml``/``.yml``/``.json`` file, or the spec text.
        source: the name used in error positions (default: the path, or ``<spec>``).

    Returns:
        A :class:`Spec` whose ``plan`` holds every node with its inferred shapes.

    Raises:
        SpecError: listing every problem, each as ``file:line:col: message``.
        FileNotFoundError: the path does not exist.
    """
    if isinstance(path_or_text, bytes):
        text, src = path_or_text, "<spec>"
    else:
        text, src = _read(path_or_text)
    src = source or src
    located = parse(text, src)
    problems = Problems(src)
    spec = _structure(located, problems, src)
    if spec is not None:
        from striate.spec.infer import plan

        spec.plan = plan(spec, located, problems)
    problems.raise_if_any()
    if spec is None:  # the structure could not be read, which always records a problem
        raise SpecError(f"{src}: not a valid spec")
    return spec


def _structure(loc: Located, problems: Problems, source: str) -> Spec | None:
    data = loc.data
    if not isinstance(data, dict):
        problems.add(loc.at(()), "a spec is a mapping with `input:` and `layers:`; "
                     f"found a {type(data).__name__}")
        return None
    for key in data:
        if key not in TOP_KEYS:
            problems.add(loc.at((key,), key=True),
                         f"unknown top-level key {key!r}{suggest(str(key), TOP_KEYS)} "
                         f"(allowed: {', '.join(TOP_KEYS)})")
    version = data.get("version", 1)
    if version != 1 or isinstance(version, bool):
        problems.add(loc.at(("version",)), f"version {version!r} is not a spec version this "
                     "striate reads (1); upgrade striate or write `version: 1`")
    name = _text(loc, "name", problems)
    description = _text(loc, "description", problems)
    shape = _input(loc, problems)
    layers = data.get("layers")
    entries: list[LayerEntry] = []
    if layers is None:
        problems.add(loc.at(()), "missing `layers:` (a list of layer entries)")
    elif not isinstance(layers, list) or not layers:
        problems.add(loc.at(("layers",)), "`layers:` must be a non-empty list of entries")
    elif len(layers) > MAX_ENTRIES:
        problems.add(loc.at(("layers",)), f"{len(layers):,} entries; the limit is {MAX_ENTRIES:,}")
    else:
        for i, raw in enumerate(layers):
            entry = _entry(loc, raw, ("layers", i), problems)
            # a broken entry keeps its place, so later layers are still checked
            entries.append(entry or LayerEntry("?", path=("layers", i), ok=False))
    total = sum(e.repeat for e in entries)
    if total > MAX_ENTRIES:
        problems.add(loc.at(("layers",)), f"the repeats make {total:,} layers; the limit is "
                     f"{MAX_ENTRIES:,}")
    _check_names(loc, entries, problems)
    outputs = _outputs(loc, entries, problems)
    if shape is None or not entries:
        return None
    return Spec(shape, entries, name=name, description=description, outputs=outputs,
                source=source)


def _text(loc: Located, key: str, problems: Problems) -> str | None:
    value = loc.data.get(key)
    if value is not None and not isinstance(value, str):
        problems.add(loc.at((key,)), f"`{key}:` must be text, got {value!r}")
        return None
    return value


def _input(loc: Located, problems: Problems) -> tuple[int, ...] | None:
    value = loc.data.get("input")
    if value is None:
        problems.add(loc.at(()), "missing `input:`; write the per-sample shape, e.g. "
                     "`input: [3, 32, 32]` (C, H, W) or `input: [4, 101]` (C, L)")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    ok = (isinstance(value, list) and 1 <= len(value) <= 3
          and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_INPUT_SIZE
                  for v in value))
    if not ok:
        problems.add(loc.at(("input",)),
                     f"`input:` must be 1 to 3 positive sizes up to {MAX_INPUT_SIZE:,}, "
                     f"e.g. [3, 32, 32] (C, H, W), [4, 101] (C, L) or [784] (F,); "
                     f"got {value!r}")
        return None
    return tuple(value)


def _entry(loc: Located, raw: Any, path: tuple[Any, ...], problems: Problems,
           inline: bool = False) -> LayerEntry | None:
    """One entry: ``flatten``, ``{dropout: 0.5}``, ``{conv: {out: 32, kernel: 3}, name: c1}``
    or ``{type: conv, out: 32}``."""
    if isinstance(raw, str):
        return _typed(loc, raw, {}, path, path, problems)
    if not isinstance(raw, dict) or not raw:
        problems.add(loc.at(path), f"a layer entry is a type name or `type: {{options}}`, "
                     f"e.g. `- conv: {{out: 32, kernel: 3}}`; got {raw!r}")
        return None
    if "type" in raw:
        type_name = raw["type"]
        if not isinstance(type_name, str):
            problems.add(loc.at((*path, "type")), f"`type:` must be a name, got {type_name!r}")
            return None
        options = {k: v for k, v in raw.items() if k != "type"}
        return _typed(loc, type_name, options, path, path, problems, inline=inline)
    types = [k for k in raw if k not in RESERVED]
    if not types:
        problems.add(loc.at(path), "this entry has no layer type; write e.g. "
                     "`- conv: {out: 32, kernel: 3}`")
        return None
    if len(types) > 1:
        known = [t for t in types if isinstance(t, str) and known_type(t)]
        if len(known) > 1:
            problems.add(loc.at((*path, types[1]), key=True),
                         f"one entry names two layer types, {known[0]!r} and {known[1]!r}; "
                         "put each on its own `- ` line (is the indentation right?)")
            return None
        for t in types:
            if t not in known:
                problems.add(loc.at((*path, t), key=True),
                             f"unknown key {t!r} beside layer {known[0] if known else types[0]!r}"
                             f"{suggest(str(t), [*RESERVED, *type_names()])}")
        return None
    type_name = types[0]
    value = raw[type_name]
    siblings = {k: v for k, v in raw.items() if k != type_name}
    opath = (*path, type_name)
    if value is None:
        options = {}
    elif isinstance(value, dict):
        options = dict(value)
        clash = [k for k in siblings if k in options]
        for k in clash:
            problems.add(loc.at((*path, k), key=True), f"{k!r} is given twice")
    elif type_name in MERGES and (isinstance(value, str) or (isinstance(value, list) and all(
            isinstance(v, str) for v in value))):
        options = {"from": value}  # ``add: [a, b]``
    else:
        options = {"__value__": value}  # the primary option: ``dense: 10``, ``dropout: 0.5``
    options.update(siblings)
    if not isinstance(type_name, str):
        problems.add(loc.at(opath, key=True), f"a layer type is a name, got {type_name!r}")
        return None
    return _typed(loc, type_name, options, path, opath, problems, inline=inline)


def _typed(loc: Located, type_name: str, options: dict[str, Any], path: tuple[Any, ...],
           opath: tuple[Any, ...], problems: Problems, inline: bool = False) -> LayerEntry | None:
    entry = LayerEntry(type_name, path=opath)
    if not known_type(type_name):
        key = isinstance(loc.data, dict) and opath != path
        problems.add(loc.at(opath, key=key),
                     f"unknown layer type {type_name!r}{suggest(type_name, type_names())}")
        entry.ok = False

    def where(key: str) -> tuple[int, int] | None:
        return loc.at((*opath, key)) if (*opath, key) in loc.pos else loc.at((*path, key))

    for key in list(options):
        if key not in RESERVED or key == "type":
            continue
        value = options.pop(key)
        if inline:
            problems.add(where(key), f"`{key}:` is not allowed inside `act:`")
        elif key == "name":
            if not isinstance(value, str) or not NAME_RE.match(value) or value == "input":
                problems.add(where(key), f"name {value!r} must be a word of letters, digits "
                             "and _ (not starting with a digit, not 'input')")
            else:
                entry.name = value
        elif key == "from":
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list) or not names or not all(
                    isinstance(n, str) for n in names):
                problems.add(where(key), f"`from:` takes a layer name or a list of names, "
                             f"got {value!r}")
            else:
                entry.inputs = tuple(names)
        elif key == "repeat":
            if isinstance(value, bool) or not isinstance(value, int) or not (
                    1 <= value <= MAX_REPEAT):
                problems.add(where(key), f"repeat must be an integer from 1 to {MAX_REPEAT}, "
                             f"got {value!r}")
            else:
                entry.repeat = value
        elif key == "act":
            # a broken act is reported; its layer is still checked, what follows is not
            entry.act = _entry(loc, value, (*opath, "act"), problems, inline=True) or \
                LayerEntry("?", path=(*opath, "act"), ok=False)
    entry.options = options
    return entry


def _check_names(loc: Located, entries: list[LayerEntry], problems: Problems) -> None:
    seen: set[str] = {"input"}
    later = {e.name for e in entries if e.name}
    for entry in entries:
        for ref in entry.inputs or ():
            if ref in seen:
                continue
            pos = loc.at((*entry.path, "from")) if (*entry.path, "from") in loc.pos else \
                loc.at((*entry.path[:2], "from"))
            if ref in later:
                problems.add(pos, f"`from: {ref}` names a layer that comes later; a layer "
                             "takes its input from earlier layers only (no cycles)")
            else:
                problems.add(pos, f"`from: {ref}` names no layer{suggest(ref, seen)}; "
                             "give that layer `name: " + ref + "` or use 'input'")
        if entry.name:
            if entry.name in seen:
                problems.add(loc.at(entry.path), f"the name {entry.name!r} is used twice")
            seen.add(entry.name)


def _outputs(loc: Located, entries: list[LayerEntry], problems: Problems
             ) -> tuple[str, ...] | None:
    value = loc.data.get("outputs")
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        problems.add(loc.at(("outputs",)), f"`outputs:` takes a list of layer names, got "
                     f"{value!r}")
        return None
    known = {e.name for e in entries if e.name}
    for i, n in enumerate(names):
        if n not in known:
            problems.add(loc.at(("outputs", i)), f"output {n!r} names no layer"
                         f"{suggest(n, known)}; give that layer `name: {n}`")
    return tuple(names)


__all__ = ["SpecError", "load_spec"]

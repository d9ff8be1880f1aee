"""YAML specs of the zoo models the spec format can express (``NAME.yaml``).

Each file describes the model at its default classes and input and builds, with
``striate.build``, a network with the same parameters, MACs and output shape as
``striate.zoo.create(NAME)`` (the tests check it; it keeps the spec format honest).
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent


def spec_path(name: str) -> Path | None:
    """The YAML spec of zoo model ``name``, or None when the model is Python-only."""
    path = FOLDER / f"{name}.yaml"
    return path if path.is_file() else None


def spec_names() -> list[str]:
    """Zoo names that ship a YAML spec."""
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))

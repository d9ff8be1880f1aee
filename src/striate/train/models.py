"""Finding the model a command names: a zoo name, a YAML spec file or a model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from striate.layers.errors import ConfigError, StriateError

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def parse_options(pairs: list[str] | None, flag: str = "--option",
                  example: str = "width=0.5") -> dict[str, Any]:
    """``["width=0.5", "bn=true"]`` → ``{"width": 0.5, "bn": True}`` (YAML scalars);
    ``flag`` and ``example`` go into the error of a malformed pair."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected KEY=VALUE, got {pair!r}; e.g. {flag} {example}"
                              ).at(flag)
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"cannot read the value of {pair!r}").at(flag) from None
    return out


def zoo_input_shape(name: str, raw_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The zoo model's own input shape when the data fits in it (padding), else the data's.

    LeNet-5 expects 32x32, so 28x28 digits are padded as LeCun did; CIFAR images given to
    an ImageNet model build the model for 32x32 instead of being padded to 224x224.
    """
    from striate.zoo import info

    default = tuple(info(name).input_shape)
    if len(default) == len(raw_shape) and default[0] == raw_shape[0] and all(
            r <= d <= 2 * r for r, d in zip(raw_shape[1:], default[1:], strict=True)):
        return default
    return tuple(raw_shape)


def resolve_model(source: str, *, num_classes: int, raw_shape: tuple[int, ...],
                  input_shape: tuple[int, ...] | None = None,
                  options: dict[str, Any] | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """Build the model ``source`` names, for ``num_classes`` and samples of ``raw_shape``.

    Returns the model and a JSON-able description for the run's ``config.json``.

    Raises:
        ConfigError: unknown zoo name (with suggestions) or options.
        FileNotFoundError: a path that does not exist.
    """
    path = Path(source)
    info: dict[str, Any] = {"source": source}
    if path.is_dir():
        import striate

        model = striate.load(path)
        info["from_model_file"] = str(path)
        return model, info
    if path.suffix.lower() in SPEC_SUFFIXES or "/" in source or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(2, "no such spec file or model folder", source)
        import striate

        model = striate.build(striate.load_spec(path))
        info["spec"] = str(path)
        return model, info
    from striate.zoo import create

    shape = tuple(input_shape) if input_shape else zoo_input_shape(source, raw_shape)
    try:
        model = create(source, num_classes=num_classes, input_shape=shape, **(options or {}))
    except StriateError as err:
        if "unknown zoo model" in str(err):
            raise ConfigError(f"{err} and no file of that name exists").at("MODEL") from None
        raise
    info["zoo"] = getattr(model, "zoo_config", {"name": source})
    return model, info


def rebuild(info: dict[str, Any]) -> nn.Module:
    """Build the model a run's ``config.json`` describes (for ``--resume``)."""
    zoo = info.get("zoo")
    if zoo and "name" in zoo:
        from striate.zoo import create

        return create(zoo["name"], **zoo.get("options", {}))
    if info.get("spec"):
        import striate

        return striate.build(striate.load_spec(info["spec"]))
    if info.get("from_model_file"):
        import striate

        return striate.load(info["from_model_file"])
    raise ConfigError("the run does not record how to rebuild its model (it was trained "
                      "from Python); resume it with striate.train.fit(model, ..., "
                      "resume=True)").at("--resume")

"""``striate interpret METHOD RUN``: look inside a trained network, one PNG per command.

RUN is a training run folder (``striate train --out``) or a model folder (``striate.save``).
The sample comes from ``--index`` into the run's data set (test split) or ``--image``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

METHODS = {
    "filters": "first-layer (or --layer) kernels as an image grid",
    "feature-maps": "activations of chosen layers for one input",
    "deconvnet": "DeconvNet reconstruction of one unit (Zeiler & Fergus)",
    "top-patches": "top-k patches per channel over a data set, beside their DeconvNet",
    "occlusion": "grey-square occlusion maps (class probabilities, strongest feature map)",
    "saliency": "gradient saliency, guided backpropagation or Grad-CAM",
    "embedding": "t-SNE of the last hidden layer: image grid or scatter",
    "mutation-map": "in-silico mutation map of a one-hot DNA sequence (DeepBind)",
    "pwm": "position weight matrices of first-layer filters (DeepBind)",
    "demo": "the demo report's figures: filters, DeconvNet + top-9, occlusion, t-SNE",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``interpret`` sub-command and one sub-command per method."""
    parser = subparsers.add_parser(
        "interpret", help="look inside a trained CNN (filters, DeconvNet, occlusion, …)",
        description="Interpretation figures of a trained network; each writes one PNG "
        "(or a folder for demo) and prints what it shows.")
    methods = parser.add_subparsers(dest="interpret_method", metavar="METHOD", required=True)
    for name, text in METHODS.items():
        sub = methods.add_parser(name, help=text, description=text)
        sub.add_argument("run", metavar="RUN", help="a run folder or a model folder")
        sub.add_argument("--out", help="PNG to write (default: RUN/interpret/<method>.png; "
                         "a folder for demo)")
        sub.add_argument("--force", action="store_true", help="overwrite existing files")
        sub.add_argument("--batch-size", type=int, default=64, help="samples per batch")
        sub.add_argument("--data", help="data set name (default: the run's, test split)")
        sub.add_argument("--split", default="test", help="data split (default: test)")
        _options(name, sub)
        sub.set_defaults(func=run)


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got "
                                         f"{text!r}") from err


def _options(name: str, sub: argparse.ArgumentParser) -> None:
    sample = name in ("feature-maps", "deconvnet", "occlusion", "saliency", "mutation-map")
    if sample:
        sub.add_argument("--index", type=int, default=0, help="sample of the data set")
        if name != "mutation-map":
            sub.add_argument("--image", help="an image file (PNG/JPEG) instead of --index")
    if name in ("filters", "feature-maps", "deconvnet", "top-patches", "occlusion",
                "saliency", "embedding", "pwm"):
        sub.add_argument("--layer", help="layer name as in named_modules()"
                         + (" (comma-separated)" if name == "feature-maps" else ""))
    if name == "filters":
        sub.add_argument("--per-channel", action="store_true",
                         help="one image per kernel and input channel")
    if name in ("deconvnet", "top-patches", "occlusion"):
        sub.add_argument("--smooth", choices=("error", "derivative"), default="error",
                         help="through tanh/sigmoid: refuse (default) or by the derivative")
    if name == "deconvnet":
        sub.add_argument("--channel", type=int, help="feature map (default: the strongest)")
        sub.add_argument("--unit", type=_ints, help="position in the map, e.g. 3,4 "
                         "(default: the strongest)")
        sub.add_argument("--keep", choices=("unit", "map"), default="unit")
    if name == "top-patches":
        sub.add_argument("--k", type=int, default=9, help="patches per channel")
        sub.add_argument("--channels", type=_ints, help="channels to draw, e.g. 0,1,5")
        sub.add_argument("--max-channels", type=int, default=16)
        sub.add_argument("--limit", type=int, help="scan only the first N samples")
        sub.add_argument("--no-deconv", action="store_true", help="patches only")
    if name == "occlusion":
        sub.add_argument("--size", type=int, default=8, help="square side in pixels")
        sub.add_argument("--stride", type=int, default=4, help="square step in pixels")
        sub.add_argument("--label", type=int, help="true class (default: the data set's)")
    if name == "saliency":
        sub.add_argument("--method", choices=("gradient", "guided", "gradcam"),
                         default="gradient")
        sub.add_argument("--target", type=int, help="class (default: the predicted one)")
    if name == "embedding":
        sub.add_argument("--kind", choices=("grid", "scatter"), default="grid")
        sub.add_argument("--limit", type=int, default=2000, help="samples embedded")
        sub.add_argument("--perplexity", type=float, default=30.0)
        sub.add_argument("--side", type=int, default=24, help="grid cells per side")
    if name == "mutation-map":
        sub.add_argument("--sequence", help="a DNA sequence (ACGT) instead of --index")
        sub.add_argument("--output", type=int, default=0, help="model output followed")
    if name == "pwm":
        sub.add_argument("--top", type=int, default=100, help="subsequences per filter")
        sub.add_argument("--limit", type=int, help="scan only the first N sequences")
    if name == "demo":
        sub.add_argument("--limit", type=int, default=1000, help="samples scanned")


class _Loaded:
    """A model with what the run knows about its data."""

    def __init__(self, path: Path, device: str = "cpu") -> None:
        from striate.interpret import Preprocess

        if not path.exists():
            raise FileNotFoundError(2, "no such run or model folder", str(path))
        if (path / "config.json").is_file():
            from striate.train import load_run

            run = load_run(path, device=device)
            self.model = run.model
            self.classes: list[str] | None = list(run.classes)
            self.data_name: str | None = run.data_name
            pre = run.preprocess
            self.preprocess = Preprocess(mean=list(pre.mean) or None, std=list(pre.std) or None,
                                         size=tuple(pre.input_shape[1:]))
            self.input_shape: tuple[int, ...] | None = tuple(pre.input_shape)
        else:
            from striate.spec.modelfile import load

            self.model = load(path, device=device)
            meta = getattr(self.model, "striate_meta", {}) or {}
            self.classes = meta.get("classes")
            self.data_name = meta.get("data") or (meta.get("metadata") or {}).get("data")
            norm = meta.get("normalization") or {}
            shape = meta.get("input_shape")
            self.input_shape = tuple(shape) if shape else None
            self.preprocess = Preprocess(mean=norm.get("mean"), std=norm.get("std"),
                                         size=tuple(shape[1:]) if shape else None)
        self.model.eval()
        self.path = path


def _data(args: argparse.Namespace, loaded: _Loaded) -> Any:
    from striate.layers.errors import ConfigError

    name = args.data or loaded.data_name
    if not name:
        raise ConfigError("the model does not say which data set it was trained on; pass "
                          "--data NAME (e.g. mnist-bundled)").at("--data")
    from striate.data import load_dataset

    return load_dataset(name, split=args.split)


def _read_image(path: str, channels: int | None) -> Any:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(2, "no such image file", path)
    if file.stat().st_size > 64 << 20:
        from striate.layers.errors import ConfigError

        raise ConfigError(f"{path}: image larger than 64 MiB").at("--image")
    try:
        with Image.open(file) as img:
            img.load()
            mode = "L" if channels == 1 else "RGB" if channels == 3 else img.mode
            arr = np.asarray(img.convert(mode) if mode in ("L", "RGB") else img)
    except (UnidentifiedImageError, OSError) as err:
        from striate.layers.errors import ConfigError

        raise ConfigError(f"{path}: not an image PIL can read ({err})").at("--image") from err
    return arr[None].copy() if arr.ndim == 2 else np.transpose(arr, (2, 0, 1)).copy()


def _sample(args: argparse.Namespace, loaded: _Loaded) -> tuple[Any, int | None, Any]:
    """The raw sample, its label (if known) and the data set (or None)."""
    from striate.layers.errors import ConfigError

    if getattr(args, "image", None):
        # the image's own channels: a wrong count is reported, not silently converted
        return _read_image(args.image, None), None, None
    data = _data(args, loaded)
    if not 0 <= args.index < len(data):
        raise ConfigError(f"index {args.index} is outside the data set's {len(data)} "
                          f"samples (0…{len(data) - 1})").at("--index")
    return data.x[args.index], int(data.y[args.index]), data


def _out(args: argparse.Namespace, loaded: _Loaded, stem: str) -> Path:
    if args.out:
        return Path(args.out)
    return loaded.path / "interpret" / f"{stem}.png"


def run(args: argparse.Namespace) -> int:
    """Run one interpretation method and print where its figure went."""
    from striate import interpret as I

    loaded = _Loaded(Path(args.run))
    model, prep, m = loaded.model, loaded.preprocess, args.interpret_method
    layer = getattr(args, "layer", None)
    if m == "filters":
        res = I.filters(model, layer)
        path = I.save_filters(res, _out(args, loaded, "filters"),
                              per_channel=args.per_channel, force=args.force)
        print(f"{res.layer}: {res.weights.shape[0]} filters of shape "
              f"{tuple(res.weights.shape[1:])} -> {path}")
    elif m == "feature-maps":
        x, _, _ = _sample(args, loaded)
        names = [n for n in layer.split(",") if n] if layer else None
        maps = I.feature_maps(model, x, names, preprocess=prep)
        path = I.save_feature_maps(maps, _out(args, loaded, "feature_maps"), force=args.force)
        for n, a in maps.items():
            print(f"{n}: {tuple(a.shape)}, max {float(a.max()):.4g}")
        print(f"-> {path}")
    elif m == "deconvnet":
        _need_layer(layer, model)
        x, _, _ = _sample(args, loaded)
        res = I.deconvnet(model, x, layer, channel=args.channel, unit=args.unit,
                          keep=args.keep, smooth=args.smooth, preprocess=prep)
        path = I.save_deconvnet(res, _out(args, loaded, f"deconvnet_{layer}"),
                                force=args.force)
        print(f"{layer}: channel {res.channels[0]}, unit {tuple(res.units[0].tolist())}, "
              f"activation {res.activations[0]:.4g} -> {path}")
    elif m == "top-patches":
        _need_layer(layer, model)
        data = _data(args, loaded)
        res = I.top_patches(model, data, layer, k=args.k, channels=args.channels,
                            max_channels=args.max_channels, batch_size=args.batch_size,
                            limit=args.limit, deconv=not args.no_deconv, smooth=args.smooth,
                            preprocess=prep)
        path = I.save_top_patches(res, _out(args, loaded, f"top_patches_{layer}"),
                                  force=args.force)
        print(f"{layer}: receptive field {res.field.size}, {len(res.channels)} channels, "
              f"top-{args.k} -> {path}")
    elif m == "occlusion":
        x, label, _ = _sample(args, loaded)
        label = args.label if args.label is not None else label
        res = I.occlusion(model, x, label=label, size=args.size, stride=args.stride,
                          layer=layer, batch_size=args.batch_size, smooth=args.smooth,
                          preprocess=prep)
        path = I.save_occlusion(res, _out(args, loaded, "occlusion"), classes=loaded.classes,
                                force=args.force)
        low = float(res.pred_prob.min())
        print(f"predicted {res.predicted} (p = {res.base['pred_prob']:.3f}; lowest with the "
              f"square: {low:.3f}), {res.pred_prob.size} positions -> {path}")
        if res.note:
            print(f"no DeconvNet projection of the map: {res.note}")
    elif m == "saliency":
        x, _, _ = _sample(args, loaded)
        res = I.saliency(model, x, method=args.method, target=args.target, layer=layer,
                         preprocess=prep)
        path = I.save_saliency(res, _out(args, loaded, f"saliency_{args.method}"),
                               classes=loaded.classes, force=args.force)
        print(f"{args.method} for class {res.target}"
              + (f" at {res.layer}" if res.layer else "") + f" -> {path}")
    elif m == "embedding":
        data = _data(args, loaded)
        res = I.embedding(model, data, layer, limit=args.limit, batch_size=args.batch_size,
                          perplexity=args.perplexity, preprocess=prep)
        path = I.save_embedding(res, data, _out(args, loaded, f"tsne_{args.kind}"),
                                kind=args.kind, side=args.side, preprocess=prep,
                                force=args.force)
        print(f"t-SNE of {len(res.coords)} samples ({res.features.shape[1]} features) "
              f"-> {path}")
    elif m == "mutation-map":
        seq = _sequence(args, loaded)
        res = I.mutation_map(model, seq, output=args.output, batch_size=args.batch_size)
        path = I.save_mutation_map(res, _out(args, loaded, "mutation_map"), force=args.force)
        print(f"reference output {res.reference:.4g}; largest loss "
              f"{float(res.delta.min()):.4g}, largest gain {float(res.delta.max()):.4g} "
              f"-> {path}")
    elif m == "pwm":
        data = _data(args, loaded)
        res = I.filter_pwms(model, data, layer=layer, top=args.top,
                            batch_size=args.batch_size, limit=args.limit)
        path = I.save_pwms(res, _out(args, loaded, "pwm"), force=args.force)
        print(f"{res.layer}: {len(res.pwms)} PWMs of width {res.pwms.shape[2]} -> {path}")
    else:  # demo
        data = _data(args, loaded)
        out = Path(args.out) if args.out else loaded.path / "interpret"
        figs = I.demo_figures(model, data, out, preprocess=prep, limit=args.limit,
                              batch_size=args.batch_size, force=args.force)
        for title, path in figs:
            print(f"{title}: {path}")
    return 0


def _need_layer(layer: str | None, model: Any) -> None:
    from striate.interpret._common import conv_layers
    from striate.layers.errors import ConfigError

    if not layer:
        raise ConfigError(f"name the layer, e.g. --layer {(conv_layers(model) or ['0'])[-1]}; "
                          f"convolutions: {', '.join(conv_layers(model)) or 'none'}"
                          ).at("--layer")


def _sequence(args: argparse.Namespace, loaded: _Loaded) -> Any:
    import numpy as np

    from striate.layers.errors import ConfigError

    if not args.sequence:
        return _sample(args, loaded)[0]
    text = args.sequence.strip().upper().replace("U", "T")
    bad = sorted(set(text) - set("ACGT"))
    if bad:
        raise ConfigError(f"the sequence has letters other than ACGT: {''.join(bad)}"
                          ).at("--sequence")
    seq = np.zeros((4, len(text)), np.float32)
    seq[["ACGT".index(c) for c in text], np.arange(len(text))] = 1
    return seq

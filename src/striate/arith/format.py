"""Text forms of a :class:`~striate.arith.summary.Summary`: terminal table, CSV, Markdown.

The table is our own fixed-width formatter (no third-party table library), so that golden
files stay byte-stable: columns are as wide as their widest cell, numbers right-aligned
with thousands separators, and nothing depends on the terminal.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from striate.arith.summary import LayerRow, Summary

HEADERS = ["Layer", "Type", "Output shape", "Params", "MACs", "Activations", "RF", "Jump",
           "Pad"]
_RIGHT = {"Params", "Frozen", "MACs", "Activations", "RF", "Jump", "Pad"}
CSV_FIELDS = ["name", "type", "depth", "is_group", "output_shape", "params",
              "trainable_params", "macs", "activations", "activation_bytes",
              "receptive_field", "effective_stride", "effective_padding", "dropped_inputs"]


def shape_text(shapes: list[tuple[int, ...]]) -> str:
    """``64x224x224``; several outputs are joined with ``; ``."""
    return "; ".join("x".join(map(str, s)) if s else "scalar" for s in shapes)


def axes_text(values: tuple[int, ...] | None) -> str:
    """``212`` when every axis agrees, else ``3x5``; ``-`` when unknown."""
    if not values:
        return "-"
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


def mib(n: int) -> str:
    """Bytes in binary units, two decimals: KiB below 1 MiB, MiB, GiB past 1024 MiB."""
    if n >= 2**30:
        return f"{n / 2**30:.2f} GiB"
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 2**10:.2f} KiB"


def giga(n: int) -> str:
    """A count in G (10^9), M or k, two decimals."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def _name(row: LayerRow) -> str:
    name = row.name or row.type
    mark = " *" if row.dropped_inputs else ""
    again = f" (call {row.call})" if row.call > 1 else ""
    return "  " * max(row.depth - 1, 0) + name + again + mark


def _headers(s: Summary) -> list[str]:
    # A "Frozen" column only when some parameters are frozen (transfer learning).
    if s.totals.get("frozen_params"):
        return [*HEADERS[:4], "Frozen", *HEADERS[4:]]
    return list(HEADERS)


def _cells(row: LayerRow, frozen: bool = False) -> list[str]:
    cells = [
        _name(row), row.type, shape_text(row.output_shape), f"{row.params:,}",
        "?" if row.macs is None else f"{row.macs:,}", f"{row.activations:,}",
        axes_text(row.receptive_field), axes_text(row.effective_stride),
        axes_text(row.effective_padding),
    ]
    if frozen:
        cells.insert(4, f"{row.params - row.trainable_params:,}")
    return cells


def totals_lines(s: Summary) -> list[str]:
    """The totals under the table, with their conventions."""
    t = s.totals
    partial = " (partial: see notes)" if t["macs_partial"] else ""
    # The rows of a forward that failed part-way: totals of what ran, not of the model.
    stopped = [] if t.get("complete", True) else [
        "The forward stopped at an error: MACs and activations below cover the rows above only"]
    return [*stopped,
        f"Params: {t['params']:,} (trainable {t['trainable_params']:,}, frozen "
        f"{t['frozen_params']:,}) = {mib(t['param_bytes'])} of {t['dtype']}",
        f"MACs: {t['macs']:,} = {giga(t['macs'])} per sample{partial} "
        f"(FLOPs = 2 x MACs = {giga(t['flops'])})",
        f"Forward activations: {t['activations']:,} values per sample, input included "
        f"= {mib(t['activation_bytes'])}; for batch {t['batch_size']}: "
        f"{mib(t['forward_bytes'])}",
        f"Forward + backward: {mib(t['train_bytes'])} = params + gradients + 2 x forward "
        "activations (optimizer state not counted)",
    ]


def _footer(s: Summary) -> list[str]:
    lines = []
    if s.notes:
        lines.append("Notes:")
        lines += [f"  - {n}" for n in s.notes]
    lines.append("MACs count convolution and dense layers only (ResNet paper, torchvision); "
                 "RF / Jump / Pad: receptive field size, effective stride and effective "
                 "padding (Araujo et al., Distill 2019).")
    if s.error:
        lines.append(f"error: {s.error}")
    return lines


def to_table(s: Summary) -> str:
    """The fixed-width terminal table, totals and notes."""
    title = (f"{s.model} - input {shape_text(s.input_shapes)}, batch size {s.batch_size}"
             + (f", depth {s.depth}" if s.depth is not None else ""))
    headers = _headers(s)
    frozen = len(headers) > len(HEADERS)
    first = ["(input)", "", shape_text(s.input_shapes), "", "",
             f"{s.totals['input_activations']:,}", "1", "1", "0"]
    rows = [[*first[:4], "", *first[4:]] if frozen else first]
    rows += [_cells(r, frozen) for r in s.layers]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = [c.rjust(w) if h in _RIGHT else c.ljust(w)
               for c, w, h in zip(cells, widths, headers, strict=True)]
        return "  ".join(out).rstrip()

    rule = "-" * len(line(headers))
    body = [title, line(headers), rule, *(line(r) for r in rows), rule]
    return "\n".join(body + totals_lines(s) + _footer(s)) + "\n"


def _csv_value(value: object) -> str:
    if value is None:
        return "?"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (list, tuple)):
            return "; ".join("x".join(map(str, v)) for v in value)
        return "x".join(map(str, value))
    return str(value)


def to_csv(s: Summary) -> str:
    """One CSV row per shown layer, then a ``(total)`` row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in s.layers:
        data = row.to_dict()
        writer.writerow([_csv_value(data[f]) for f in CSV_FIELDS])
    t = s.totals
    total = {"name": "(total)", "type": "", "depth": "", "is_group": "true", "output_shape": "",
             "params": t["params"], "trainable_params": t["trainable_params"],
             "macs": t["macs"], "activations": t["activations"],
             "activation_bytes": t["activation_bytes"]}
    writer.writerow([_csv_value(total.get(f, "")) for f in CSV_FIELDS])
    return buffer.getvalue()


def to_markdown(s: Summary) -> str:
    """A GitHub-flavoured Markdown table with the totals as a list."""
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("*", "\\*")

    headers = _headers(s)
    lines = [f"**{s.model}**, input {shape_text(s.input_shapes)}, batch size {s.batch_size}",
             "",
             "| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" if h in _RIGHT else "---" for h in headers) + "|"]
    for row in s.layers:
        cells = _cells(row, len(headers) > len(HEADERS))
        cells[0] = cells[0].strip()
        lines.append("| " + " | ".join(esc(c) for c in cells) + " |")
    lines.append("")
    lines += [f"- {esc(t)}" for t in totals_lines(s)]
    lines += [f"- {esc(n)}" for n in s.notes]
    return "\n".join(lines) + "\n"

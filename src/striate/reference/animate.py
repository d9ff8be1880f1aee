"""An animated GIF of a convolution's window sliding over its input and filling the output.

Drawn with Pillow in the spirit of the figures of Dumoulin & Visin (2016), "A guide to
convolution arithmetic for deep learning": blue squares are inputs, white dashed squares
are zero padding (or, for a transposed convolution, the zeros inserted between inputs),
the shaded squares are the inputs the kernel touches, and the cyan map on the right fills
up one output value per frame.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from striate.fileio import atomic_open
from striate.layers.errors import ConfigError
from striate.layers.formulas import transposed_direct_padding, window_fit, zero_inserted
from striate.reference.explain import explain_conv

if TYPE_CHECKING:
    from PIL import Image

#: Refuse animations larger than this (one frame per output value).
MAX_FRAMES = 400
MAX_GRID = 40
#: A PNG sheet past this many frames is too small to read.
MAX_STRIP = 64

INPUT, PADDING, INSERTED = 1, 0, 2

_BLUE = (111, 168, 220)
_BLUE_DARK = (31, 78, 156)
_SHADE = (190, 205, 228)
_CYAN = (102, 217, 232)
_CYAN_DARK = (15, 150, 170)
_GREY = (150, 150, 150)
_LINE = (40, 40, 40)
_WHITE = (255, 255, 255)
_RULE = (225, 225, 225)


@dataclass(frozen=True)
class SlideGeometry:
    """The grid the window slides over and where it lands for each output value.

    Attributes:
        kinds: per grid cell, ``INPUT`` (1), ``PADDING`` (0) or ``INSERTED`` (2, a zero put
            between inputs by a transposed convolution's stride).
        taps: per output value (row-major), the grid cells the kernel's weights touch.
        output_size: ``(H', W')``.
    """

    kinds: np.ndarray
    taps: tuple[tuple[tuple[int, int], ...], ...]
    output_size: tuple[int, int]
    title: str


def slide_geometry(
    input_size: tuple[int, int] | int,
    kernel_size: tuple[int, int] | int,
    stride: tuple[int, int] | int = 1,
    padding: tuple[int, int] | int = 0,
    dilation: tuple[int, int] | int = 1,
    *,
    transposed: bool = False,
    output_padding: tuple[int, int] | int = 0,
    ceil_mode: bool = False,
) -> SlideGeometry:
    """Lay out the padded (dilated, or zero-inserted for ``transposed``) input grid.

    With ``ceil_mode`` (pooling that rounds up, as Caffe does) the last window may stick out
    past the padding; the grid grows by those cells.

    Raises:
        ShapeError, ConfigError: as :func:`striate.reference.explain.explain_conv`.
    """
    e = explain_conv(input_size, kernel_size, stride, padding, dilation,
                     transposed=transposed, output_padding=output_padding)
    (h, w), (kh, kw), (dh, dw) = e.input_size, e.kernel_size, e.dilation
    if transposed:
        # The direct equivalent: zeros between inputs, then heavy padding k_eff − 1 − P
        # (negative = crop), then a stride-1 window.
        kinds = np.full((zero_inserted(h, e.stride[0]), zero_inserted(w, e.stride[1])),
                        INSERTED)
        kinds[::e.stride[0], ::e.stride[1]] = INPUT
        before = [transposed_direct_padding(k, p, d)
                  for k, d, p in zip(e.kernel_size, e.dilation, e.padding, strict=True)]
        after = [b + op for b, op in zip(before, e.output_padding, strict=True)]
        kinds = np.pad(kinds, [(max(before[0], 0), max(after[0], 0)),
                               (max(before[1], 0), max(after[1], 0))],
                       constant_values=PADDING)
        kinds = kinds[max(-before[0], 0):kinds.shape[0] - max(-after[0], 0),
                      max(-before[1], 0):kinds.shape[1] - max(-after[1], 0)]
        step, out = (1, 1), e.output_size
        title = "zero-inserted, padded input"
    else:
        (ph, pw), step = e.padding, e.stride
        fits = [window_fit(n, k, s, p, d, ceil_mode=ceil_mode) for n, k, s, p, d in
                zip(e.input_size, e.kernel_size, e.stride, e.padding, e.dilation, strict=True)]
        out = tuple(f.output for f in fits)
        extra = [f.overhang for f in fits]
        kinds = np.pad(np.full((h, w), INPUT), [(ph, ph + extra[0]), (pw, pw + extra[1])],
                       constant_values=PADDING)
        title = "padded input" if (ph, pw, *extra) != (0, 0, 0, 0) else "input"
    ho, wo = out
    taps = tuple(
        tuple((u * step[0] + i * dh, v * step[1] + j * dw) for i in range(kh) for j in range(kw))
        for u in range(ho) for v in range(wo)
    )
    return SlideGeometry(kinds, taps, (ho, wo), title)


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _dashed_box(draw, box: tuple[int, int, int, int], colour: tuple, dash: int = 3) -> None:
    x0, y0, x1, y1 = box
    for x in range(x0, x1, 2 * dash):
        draw.line([(x, y0), (min(x + dash, x1), y0)], fill=colour)
        draw.line([(x, y1), (min(x + dash, x1), y1)], fill=colour)
    for y in range(y0, y1, 2 * dash):
        draw.line([(x0, y), (x0, min(y + dash, y1))], fill=colour)
        draw.line([(x1, y), (x1, min(y + dash, y1))], fill=colour)


def render_frames(geometry: SlideGeometry, cell: int | None = None) -> list[Image.Image]:
    """One RGB image per output value, the window at that position.

    Raises:
        ConfigError: when the animation would need more than ``MAX_FRAMES`` frames or a grid
            wider than ``MAX_GRID`` cells.
    """
    from PIL import Image, ImageDraw

    rows, cols = geometry.kinds.shape
    ho, wo = geometry.output_size
    if ho * wo > MAX_FRAMES or max(rows, cols) > MAX_GRID:
        raise ConfigError(
            f"the animation would have {ho * wo} frames over a {rows}x{cols} grid; the limit "
            f"is {MAX_FRAMES} frames and {MAX_GRID} cells a side: use a smaller --input"
        )
    cell = cell or int(np.clip(320 // max(rows, cols, ho, wo), 12, 36))
    margin, gap, top, bottom = 16, 3 * cell, 30, 30
    in_w, in_h = cols * cell, rows * cell
    out_w, out_h = wo * cell, ho * cell
    width = margin * 2 + in_w + gap + out_w
    height = top + max(in_h, out_h) + bottom
    out_x, out_y = margin + in_w + gap, top + (max(in_h, out_h) - out_h) // 2
    in_y = top + (max(in_h, out_h) - in_h) // 2
    font = _font(13)

    frames = []
    for n, taps in enumerate(geometry.taps):
        img = Image.new("RGB", (width, height), _WHITE)
        draw = ImageDraw.Draw(img)
        draw.text((margin, 8), geometry.title, fill=_LINE, font=font)
        draw.text((out_x, 8), "output", fill=_LINE, font=font)
        touched = set(taps)
        real_boxes = []
        for r in range(rows):
            for c in range(cols):
                box = (margin + c * cell, in_y + r * cell,
                       margin + (c + 1) * cell, in_y + (r + 1) * cell)
                real = geometry.kinds[r, c] == INPUT
                if (r, c) in touched:
                    draw.rectangle(box, fill=_BLUE_DARK if real else _SHADE)
                elif real:
                    draw.rectangle(box, fill=_BLUE)
                if real:
                    real_boxes.append(box)
                else:
                    _dashed_box(draw, box, _GREY)
        # Solid outlines last, so that a neighbour's dashed edge never overwrites them.
        for box in real_boxes:
            draw.rectangle(box, outline=_LINE)
        r0, c0 = taps[0]
        r1, c1 = taps[-1]
        draw.rectangle((margin + c0 * cell - 1, in_y + r0 * cell - 1,
                        margin + (c1 + 1) * cell + 1, in_y + (r1 + 1) * cell + 1),
                       outline=_LINE, width=2)
        u, v = divmod(n, wo)
        for k in range(ho * wo):
            a, b = divmod(k, wo)
            box = (out_x + b * cell, out_y + a * cell,
                   out_x + (b + 1) * cell, out_y + (a + 1) * cell)
            fill = _CYAN_DARK if k == n else _CYAN if k < n else _WHITE
            draw.rectangle(box, fill=fill, outline=_LINE if k <= n else _GREY)
        draw.text((margin, height - 22),
                  f"output ({u}, {v}) <- rows {r0}-{r1}, cols {c0}-{c1}", fill=_LINE, font=font)
        frames.append(img)
    return frames


def _write_atomic(path: str | os.PathLike, force: bool, write) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then move it into place."""
    path = Path(path)
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force (force=True) to overwrite it")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: the folder {path.parent} does not exist; create it first")
    with atomic_open(path) as fh:
        write(fh)
    return path


def write_gif(frames: list[Image.Image], path: str | os.PathLike, *, duration_ms: int = 600,
              force: bool = False) -> Path:
    """Write ``frames`` as a looping GIF, atomically; an existing file needs ``force``.

    Raises:
        ConfigError: when ``path`` exists and ``force`` is false, or its folder is missing.
    """
    return _write_atomic(path, force, lambda fh: frames[0].save(
        fh, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms,
        loop=0))


def contact_sheet(frames: list[Image.Image]) -> Image.Image:
    """All frames in a grid, row by row (half size past 3 columns), for slides and print.

    Raises:
        ConfigError: past ``MAX_STRIP`` frames, which would make an unreadable sheet.
    """
    from PIL import Image

    if len(frames) > MAX_STRIP:
        raise ConfigError(f"a PNG sheet of {len(frames)} frames is too large to read (limit "
                          f"{MAX_STRIP}); write a .gif instead or use a smaller --input")
    columns = math.ceil(math.sqrt(len(frames)))
    scale = 1.0 if columns <= 3 else 0.5
    w, h = (round(d * scale) for d in frames[0].size)
    rows, gap = math.ceil(len(frames) / columns), 8
    sheet = Image.new("RGB", (columns * (w + gap) + gap, rows * (h + gap) + gap), _RULE)
    for n, frame in enumerate(frames):
        tile = frame if scale == 1.0 else frame.resize((w, h), Image.Resampling.LANCZOS)
        sheet.paste(tile, (gap + (n % columns) * (w + gap), gap + (n // columns) * (h + gap)))
    return sheet


def write_png(frames: list[Image.Image], path: str | os.PathLike, *,
              force: bool = False) -> Path:
    """Write the :func:`contact_sheet` of ``frames`` as a PNG, atomically."""
    sheet = contact_sheet(frames)
    return _write_atomic(path, force, lambda fh: sheet.save(fh, format="PNG", optimize=True))


def animate_conv(
    path: str | os.PathLike,
    input_size: tuple[int, int] | int,
    kernel_size: tuple[int, int] | int,
    stride: tuple[int, int] | int = 1,
    padding: tuple[int, int] | int = 0,
    dilation: tuple[int, int] | int = 1,
    *,
    transposed: bool = False,
    output_padding: tuple[int, int] | int = 0,
    ceil_mode: bool = False,
    duration_ms: int = 600,
    force: bool = False,
) -> Path:
    """Write the sliding-window animation of a convolution to ``path``.

    One frame per output value: the window (shaded) over the padded, dilated or — for
    ``transposed`` — zero-inserted and heavily padded input, and the output filling up.
    A ``.gif`` path gets the animation, a ``.png`` path all frames on one sheet.

    Raises:
        ShapeError, ConfigError: for a kernel that does not fit, bad sizes, too many frames,
            another file type, or an existing file without ``force``.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in {".gif", ".png"}:
        raise ConfigError(f"{path}: write a .gif (animation) or a .png (all frames on one "
                          f"sheet), not {suffix or 'a file without extension'}")
    geometry = slide_geometry(input_size, kernel_size, stride, padding, dilation,
                              transposed=transposed, output_padding=output_padding,
                              ceil_mode=ceil_mode)
    frames = render_frames(geometry)
    if suffix == ".png":
        return write_png(frames, path, force=force)
    return write_gif(frames, path, duration_ms=duration_ms, force=force)

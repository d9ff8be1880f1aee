"""DNA as one-hot tensors: simulated sequences with a planted motif (``dna-motifs``) and a
FASTA + labels reader for real sequences.

One-hot channels are A, C, G, T in that order; an unknown base (N, or any IUPAC
ambiguity code) is 0.25 in every channel, as in DeepBind (Alipanahi et al., 2015).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch

from striate.data.dataset import ArrayDataset
from striate.data.errors import DataError, MissingFileError

BASES = "ACGT"
MOTIF_CLASSES = ["background", "motif"]
# real FASTA files can be large; this bounds what a stray path can make us read
MAX_FASTA_BYTES = 512 * 1024 * 1024

_CODE = np.full(256, 4, dtype=np.int64)
for _i, _b in enumerate(BASES):
    _CODE[ord(_b)] = _i
    _CODE[ord(_b.lower())] = _i


def one_hot(sequences: list[str] | str) -> torch.Tensor:
    """One-hot encode equal-length DNA strings.

    Shape: ``(N, 4, L)`` float32 (``(4, L)`` for a single string).

    Raises:
        DataError: the sequences have different lengths.
    """
    single = isinstance(sequences, str)
    seqs = [sequences] if single else list(sequences)
    if not seqs:
        return torch.zeros(0, 4, 0)
    lengths = {len(s) for s in seqs}
    if len(lengths) > 1:
        raise DataError(f"one_hot: sequences have lengths {sorted(lengths)[:2]}...; pass "
                        "equal lengths (pad or trim them, e.g. length= in fasta loading)")
    codes = np.stack([_CODE[np.frombuffer(s.encode("ascii", "replace"), dtype=np.uint8)]
                      for s in seqs])
    table = np.vstack([np.eye(4, dtype=np.float32), np.full((1, 4), 0.25, np.float32)])
    out = torch.from_numpy(np.ascontiguousarray(table[codes].transpose(0, 2, 1)))
    return out[0] if single else out


def decode(x: torch.Tensor) -> str | list[str]:
    """Turn one-hot DNA back into text: ``(4, L)`` -> a string, ``(N, 4, L)`` -> a list
    (N where no base reaches 0.5)."""
    arr = x.detach().cpu().numpy()
    codes = arr.argmax(axis=-2)
    codes[arr.max(axis=-2) < 0.5] = 4
    text = np.frombuffer((BASES + "N").encode(), dtype=np.uint8)[codes]
    if text.ndim == 1:
        return text.tobytes().decode()
    return [row.tobytes().decode() for row in text]


def simulate_motifs(num_samples: int = 5000, length: int = 101, motif: str = "TGACTCA",
                    positive_fraction: float = 0.5, mutation_rate: float = 0.0,
                    seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random DNA with ``motif`` planted at a random position in the positive sequences.

    Background bases are uniform and independent. Each planted base is replaced by a
    random base with probability ``mutation_rate`` (a harder task). Negatives that contain
    the exact motif by chance get one base of each occurrence changed, so a label is 1 if
    and only if a motif was planted.

    Returns:
        ``(x, y)``: float32 one-hot ``(N, 4, length)`` and int64 labels ``(N,)``.

    Raises:
        DataError: a motif longer than the sequence, non-ACGT motif, bad fractions.
    """
    motif = motif.upper()
    if not motif or set(motif) - set(BASES):
        raise DataError(f"dna-motifs: motif={motif!r} must be a non-empty string of A, C, G, T")
    if len(motif) > length:
        raise DataError(f"dna-motifs: motif of {len(motif)} bases does not fit length={length}; "
                        f"use length >= {len(motif)}")
    if not 0.0 <= positive_fraction <= 1.0 or not 0.0 <= mutation_rate <= 1.0:
        raise DataError("dna-motifs: positive_fraction and mutation_rate must be in [0, 1]")
    if num_samples < 1:
        raise DataError(f"dna-motifs: num_samples={num_samples} must be >= 1")
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(num_samples, length))
    labels = (rng.random(num_samples) < positive_fraction).astype(np.int64)
    k = len(motif)
    motif_codes = _CODE[np.frombuffer(motif.encode(), dtype=np.uint8)]
    starts = rng.integers(0, length - k + 1, size=num_samples)
    mutate = rng.random((num_samples, k)) < mutation_rate
    random_bases = rng.integers(0, 4, size=(num_samples, k))
    for i in np.flatnonzero(labels):
        planted = np.where(mutate[i], random_bases[i], motif_codes)
        codes[i, starts[i]:starts[i] + k] = planted
    # scrub chance occurrences from the negatives so that labels are exact
    negatives = np.flatnonzero(labels == 0)
    while negatives.size:
        windows = np.lib.stride_tricks.sliding_window_view(codes[negatives], k, axis=1)
        hits = (windows == motif_codes).all(axis=-1)
        rows, cols = np.nonzero(hits)
        if rows.size == 0:
            break
        first = cols + k // 2
        codes[negatives[rows], first] = (codes[negatives[rows], first] + 1) % 4
        negatives = np.unique(negatives[rows])
    x = torch.from_numpy(np.eye(4, dtype=np.float32)[codes].transpose(0, 2, 1).copy())
    return x, torch.from_numpy(labels)


def load_dna_motifs(split: str, root: str | os.PathLike[str] | None = None,
                    download: bool = True, num_samples: int = 5000, length: int = 101,
                    motif: str = "TGACTCA", positive_fraction: float = 0.5,
                    mutation_rate: float = 0.0, seed: int = 0) -> ArrayDataset:
    """Simulated motif data: ``num_samples`` sequences from ``seed``, the first 80% "train"
    and the last 20% "test" (so the two never overlap).

    The default motif TGACTCA is the AP-1 (TRE) site.

    Shape: x float32 ``(N, 4, length)``.
    """
    x, y = simulate_motifs(num_samples, length, motif, positive_fraction, mutation_rate, seed)
    cut = round(num_samples * 0.8)
    part = slice(0, cut) if split == "train" else slice(cut, None)
    return ArrayDataset(x[part], y[part], MOTIF_CLASSES, "dna-motifs",
                        {"motif": motif, "length": length, "seed": seed, "split": split,
                         "mutation_rate": mutation_rate})


def read_fasta(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read a FASTA file into ``(header, sequence)`` pairs (header without the ``>``).

    Raises:
        MissingFileError: no such file.
        DataError: no records, sequence text before the first header, a too large file.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such FASTA file; check the path")
    if path.stat().st_size > MAX_FASTA_BYTES:
        raise DataError(f"{path}: {path.stat().st_size} bytes is over the "
                        f"{MAX_FASTA_BYTES} byte limit for FASTA; split the file")
    records: list[tuple[str, list[str]]] = []
    with path.open("r", encoding="ascii", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith(";"):
                continue
            if line.startswith(">"):
                records.append((line[1:].strip(), []))
            elif not records:
                raise DataError(f"{path}:{number}: sequence before the first '>' header; "
                                "a FASTA record starts with a line '>name'")
            else:
                records[-1][1].append(re.sub(r"\s+", "", line))
    if not records:
        raise DataError(f"{path}: no FASTA records (lines starting with '>') found")
    return [(head, "".join(parts)) for head, parts in records]


def _read_labels(path: Path, count: int) -> list[str]:
    if not path.is_file():
        raise MissingFileError(f"{path}: no such labels file; give one label per line, in the "
                              "order of the FASTA records")
    lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()]
    labels = [ln.split()[-1] for ln in lines if ln]
    if len(labels) != count:
        raise DataError(f"{path}: {len(labels)} labels for {count} FASTA records; give one "
                        "label per record")
    return labels


def load_fasta_dataset(path: str | os.PathLike[str], split: str = "train",
                       labels: str | os.PathLike[str] | None = None,
                       length: int | None = None, classes: list[str] | None = None,
                       ) -> ArrayDataset:
    """Real DNA: one-hot sequences from FASTA with labels (``fasta:PATH``).

    Labels come from ``labels`` (a text file, one label per line, the last word of the
    line is used so ``name<TAB>label`` works) or, without it, from the last word of each
    header (``>seq17 1``). Labels that are all integers are used as class indices;
    otherwise the sorted distinct strings become the classes. ``length`` trims (keeping the
    centre) or pads with N (0.25) to a common length. A FASTA file is one split, "train"
    (use ``.split(fraction, seed)``, or a second file for the test sequences).

    Shape: x float32 ``(N, 4, L)``.

    Raises:
        DataError: sequences of different lengths without ``length``, label count
            mismatch, headers without labels, a split other than "train".
    """
    path = Path(path)
    if split != "train":
        # the same sequences as "test" would report training accuracy as test accuracy
        raise DataError(f"{path}: a FASTA file is one split, 'train'; there is no {split!r} "
                        "split: use .split(fraction, seed), or give the test sequences their "
                        "own file (fasta:test.fa)")
    records = read_fasta(path)
    if labels is not None:
        names = _read_labels(Path(labels), len(records))
    else:
        names = []
        for head, _ in records:
            words = head.split()
            if len(words) < 2:
                raise DataError(f"{path}: header '>{head}' has no label; end each header with "
                                "a label ('>seq1 1') or pass labels=FILE")
            names.append(words[-1])
    seqs = [seq for _, seq in records]
    if length is None:
        lengths = sorted({len(s) for s in seqs})
        if len(lengths) > 1:
            a = next(i for i, s in enumerate(seqs) if len(s) == lengths[0])
            b = next(i for i, s in enumerate(seqs) if len(s) == lengths[-1])
            ids = [(records[i][0].split() or ["?"])[0] for i in (a, b)]
            raise DataError(f"{path}: sequences differ in length ('{ids[0]}' has "
                            f"{lengths[0]} bases, '{ids[1]}' {lengths[-1]}); pass "
                            "length=N to trim or pad them")
    else:
        seqs = [_fit_length(s, length) for s in seqs]
    if classes is None:
        if all(re.fullmatch(r"\d+", n) for n in names):
            classes = [str(i) for i in range(max(int(n) for n in names) + 1)]
            y = [int(n) for n in names]
        else:
            classes = sorted(set(names))
            y = [classes.index(n) for n in names]
    else:
        missing = sorted(set(names) - set(classes))
        if missing:
            raise DataError(f"{path}: label {missing[0]!r} is not among classes {classes}")
        y = [classes.index(n) for n in names]
    return ArrayDataset(one_hot(seqs), torch.tensor(y), classes, f"fasta:{path}",
                        {"source": str(path), "split": split})


def _fit_length(seq: str, length: int) -> str:
    if len(seq) >= length:
        start = (len(seq) - length) // 2
        return seq[start:start + length]
    left = (length - len(seq)) // 2
    return "N" * left + seq + "N" * (length - len(seq) - left)


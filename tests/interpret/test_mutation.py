"""Mutation maps and PWMs (DeepBind, Alipanahi et al. 2015) on a model that scores a
planted motif."""

import numpy as np
import pytest
import torch
from torch import nn

from striate.interpret import filter_pwms, mutation_map, save_mutation_map, save_pwms
from striate.interpret.mutation import information_content
from striate.layers.errors import ConfigError, ShapeError

MOTIF = "GATTACA"


def one_hot(seq):
    x = np.zeros((4, len(seq)), np.float32)
    for i, b in enumerate(seq):
        x["ACGT".index(b), i] = 1
    return x


def motif_model():
    """Score = max over positions of ReLU(matches with GATTACA − 6): 1 on the motif only."""
    conv = nn.Conv1d(4, 1, len(MOTIF))
    with torch.no_grad():
        conv.weight[0] = torch.from_numpy(one_hot(MOTIF))
        conv.bias.fill_(-(len(MOTIF) - 1))
    return nn.Sequential(conv, nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten()).eval()


def random_seq(rng, n):
    return "".join(rng.choice(list("ACGT"), size=n))


def test_mutation_map_is_large_exactly_on_the_motif():
    rng = np.random.default_rng(0)
    seq = random_seq(rng, 12) + MOTIF + random_seq(rng, 11)
    res = mutation_map(motif_model(), one_hot(seq), batch_size=17)
    assert res.letters == seq
    assert res.reference == 1.0
    on = np.zeros(len(seq), bool)
    on[12:12 + len(MOTIF)] = True
    # any substitution inside the motif destroys the match: −1 for the 3 other bases
    ref_base = one_hot(seq).astype(bool)
    np.testing.assert_array_equal(res.delta[:, on][~ref_base[:, on]], -1.0)
    np.testing.assert_array_equal(res.delta[:, ~on], 0.0)
    np.testing.assert_array_equal(res.delta[ref_base], 0.0)


def test_mutation_map_errors_and_png(tmp_path):
    with pytest.raises(ShapeError, match=r"one-hot sequence \(4, L\), got shape \(3, 20\)"):
        mutation_map(motif_model(), np.zeros((3, 20), np.float32))
    bad = one_hot("ACGTACGTAC")
    bad[0, 2] = 1
    with pytest.raises(ShapeError, match="not one-hot"):
        mutation_map(motif_model(), bad)
    with pytest.raises(ConfigError, match="output 2 is outside the model's 1 outputs"):
        mutation_map(motif_model(), one_hot("ACGTACGTACGT"), output=2)
    # an image model (1-channel Conv2d) given a sequence: the shape and what a map needs
    image_model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.LazyLinear(1))
    with pytest.raises(ShapeError, match=r"takes 1 input channel.*needs a model over one-hot"):
        mutation_map(image_model, one_hot("ACGTACGTACGT"))
    res = mutation_map(motif_model(), one_hot("AAAA" + MOTIF + "CCCC"))
    assert save_mutation_map(res, tmp_path / "m.png").stat().st_size > 1000


def test_pwm_of_the_motif_filter_is_the_motif(tmp_path):
    rng = np.random.default_rng(1)
    seqs = []
    for i in range(40):
        s = random_seq(rng, 30)
        if i % 2 == 0:
            at = int(rng.integers(0, 30 - len(MOTIF)))
            s = s[:at] + MOTIF + s[at + len(MOTIF):]
        seqs.append(one_hot(s))
    x = np.stack(seqs)
    res = filter_pwms(motif_model(), x, top=30, batch_size=8)
    # only the 20 planted sequences activate the filter above 0
    assert res.counts.tolist() == [20]
    np.testing.assert_array_equal(res.pwms[0], one_hot(MOTIF))
    np.testing.assert_allclose(information_content(res.pwms[0]), 2.0)
    assert save_pwms(res, tmp_path / "p.png").stat().st_size > 1000
    same = nn.Sequential(nn.Conv1d(4, 1, len(MOTIF), padding="same"), nn.ReLU())
    with torch.no_grad():
        same[0].weight.copy_(motif_model()[0].weight)
        same[0].bias.fill_(-(len(MOTIF) - 1))
    np.testing.assert_array_equal(filter_pwms(same, x, top=30).pwms[0], one_hot(MOTIF))
    with pytest.raises(ConfigError, match="PWMs need a Conv1d"):
        filter_pwms(motif_model(), x, layer="1")

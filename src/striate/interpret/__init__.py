"""Looking inside a trained CNN: filters, feature maps, DeconvNet reconstructions, top-k
patches, occlusion, saliency / Grad-CAM, t-SNE embeddings and mutation maps.

Every method takes a plain ``nn.Module`` and returns arrays (dataclasses holding what is
needed to draw them); a ``save_<method>`` function draws each into a PNG (matplotlib, Agg,
imported on first use). Memory is bounded by ``batch_size`` options: no method holds a
whole data set's activations.

    >>> from striate import interpret
    >>> rec = interpret.deconvnet(model, image, "features.3")        # doctest: +SKIP
    >>> interpret.save_deconvnet(rec, "deconv.png")                  # doctest: +SKIP
"""

from __future__ import annotations

from striate.interpret._common import Preprocess, make_preprocess
from striate.interpret.deconvnet import Reconstruction, deconvnet, save_deconvnet
from striate.interpret.demo import demo_figures
from striate.interpret.embedding import Embedding, embedding, save_embedding
from striate.interpret.feature_maps import feature_maps, save_feature_maps
from striate.interpret.filters import Filters, filters, save_filters
from striate.interpret.mutation import (
    FilterPWMs,
    MutationMap,
    filter_pwms,
    mutation_map,
    save_mutation_map,
    save_pwms,
)
from striate.interpret.occlusion import OcclusionMaps, occlusion, save_occlusion
from striate.interpret.patches import RunningTopK, TopPatches, save_top_patches, top_patches
from striate.interpret.receptive import Field, receptive_field
from striate.interpret.saliency import Saliency, saliency, save_saliency

# The function names shadow their modules' names on purpose: `interpret.filters(...)`
# is the function; the modules stay reachable as `striate.interpret.filters` imports.
__all__ = [
    "Embedding", "Field", "FilterPWMs", "Filters", "MutationMap", "OcclusionMaps",
    "Preprocess", "Reconstruction", "RunningTopK", "Saliency", "TopPatches", "deconvnet",
    "demo_figures", "embedding", "feature_maps", "filter_pwms", "filters", "make_preprocess",
    "mutation_map", "occlusion", "receptive_field", "saliency", "save_deconvnet",
    "save_embedding", "save_feature_maps", "save_filters", "save_mutation_map",
    "save_occlusion", "save_pwms", "save_saliency", "save_top_patches", "top_patches",
]

"""The building blocks shared by the encoders and decoders, re-exported from the modules that own them.

- :mod:`~artifex_plugins.vae.initializers`: ``kernel_init``, ``icnr_kernel_init``, ``dense``, ``conv``.
- :mod:`~artifex_plugins.vae.checks`: argument validation (``check_shape``, ``hidden_dims_list``, ...).
- :mod:`~artifex_plugins.vae.shapes`: ``as_image``, ``plan_spatial_sizes``, ``depth_to_space``, ``crop_to``.
- :mod:`~artifex_plugins.vae.embedding`: ``LabelEmbedding`` and ``check_labels``.
- :mod:`~artifex_plugins.vae.lazy`: the opt-in late shape inference of the spec's ``input_dim=None``.

Convolutional blocks (stride-2 convs, sub-pixel upsampling, residual blocks) live in
:mod:`artifex_plugins.vae.blocks`.

Example:
    >>> plan_spatial_sizes((28, 28), 4)
    [(28, 28), (14, 14), (7, 7), (4, 4), (2, 2)]
"""

from __future__ import annotations

from artifex_plugins.vae.checks import (
    check_latent_dim,
    check_positive_int,
    check_shape,
    hidden_dims_list,
    require_hook,
    require_rngs,
)
from artifex_plugins.vae.embedding import LabelEmbedding, check_labels
from artifex_plugins.vae.initializers import conv, dense, icnr_kernel_init, kernel_init
from artifex_plugins.vae.lazy import LazyInitKey
from artifex_plugins.vae.shapes import as_image, crop_to, depth_to_space, plan_spatial_sizes

__all__ = [
    "LabelEmbedding",
    "LazyInitKey",
    "as_image",
    "check_labels",
    "check_latent_dim",
    "check_positive_int",
    "check_shape",
    "conv",
    "crop_to",
    "dense",
    "depth_to_space",
    "hidden_dims_list",
    "icnr_kernel_init",
    "kernel_init",
    "plan_spatial_sizes",
    "require_hook",
    "require_rngs",
]

"""Encoders: map inputs to the parameters ``(mean, log_var)`` of a diagonal Gaussian posterior.

``MLPEncoder`` (dense), ``CNNEncoder`` (stride-2 convolutions), ``ResNetEncoder`` (residual blocks) and the
``ConditionalEncoder`` wrapper. No encoder uses batch statistics: each example is encoded on its own.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> enc = MLPEncoder(hidden_dims=[16], latent_dim=4, input_dim=(8,), rngs=nnx.Rngs(0))
    >>> mean, log_var = enc(jnp.ones((2, 8)))
    >>> mean.shape, log_var.shape
    ((2, 4), (2, 4))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, cast

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae.activations import Activation, get_activation
from artifex_plugins.vae.blocks import ConvBlock, ResidualBlock, ResidualDownBlock
from artifex_plugins.vae.layers import (
    LabelEmbedding,
    LazyModule,
    as_image,
    check_latent_dim,
    check_positive_int,
    check_shape,
    conv,
    dense,
    hidden_dims_list,
    plan_spatial_sizes,
    require_hook,
)

__all__ = [
    "CNNEncoder",
    "ConditionalEncoder",
    "MLPEncoder",
    "ResNetEncoder",
    "create_encoder_unified",
]


class MLPEncoder(LazyModule):
    """MLP encoder for VAE: flattens each example, dense hidden layers, then ``mean`` / ``log_var`` heads.

    Any input shape ``(B, ...)`` is flattened to ``(B, prod(...))``. With ``input_dim=None`` the input size
    is inferred at the first call (deterministically given ``rngs``); with a fixed ``input_dim`` all layers
    are built here.

    Args:
        hidden_dims: Hidden layer widths, in order (may be empty for a linear encoder).
        latent_dim: Latent space dimension.
        activation: Activation name (see :func:`~artifex_plugins.vae.activations.get_activation`).
        input_dim: Shape of one input example, e.g. ``(784,)`` or ``(28, 28, 1)``; None infers it.
        rngs: Random number generators.
        precision: Precision of the matrix products (keyword-only extra).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> enc = MLPEncoder(hidden_dims=[32, 16], latent_dim=4, rngs=nnx.Rngs(0))
        >>> mean, log_var = enc(jnp.ones((3, 28, 28, 1)))
        >>> enc.input_dim, mean.shape
        ((28, 28, 1), (3, 4))
    """

    flattens_input: ClassVar[bool] = True

    def __init__(
        self,
        hidden_dims: list,
        latent_dim: int,
        activation: str = "relu",
        input_dim: tuple | None = None,
        *,
        rngs: nnx.Rngs,
        precision: jax.lax.Precision | None = None,
    ) -> None:
        """Initialize MLP encoder."""
        name = type(self).__name__
        self.hidden_dims = hidden_dims_list(hidden_dims, name)
        self.latent_dim = check_latent_dim(latent_dim, name)
        get_activation(activation)
        self.activation = activation
        self.precision = precision
        self._setup_lazy(None if input_dim is None else check_shape(input_dim, "input_dim", name), rngs)

    def _build(self, input_dim: tuple[int, ...], rngs: nnx.Rngs) -> None:
        width = math.prod(input_dim)
        layers = []
        for dim in self.hidden_dims:
            layers.append(dense(width, dim, precision=self.precision, rngs=rngs))
            width = dim
        self.layers = nnx.List(layers)
        self.mean_head = dense(width, self.latent_dim, precision=self.precision, rngs=rngs)
        self.log_var_head = dense(width, self.latent_dim, precision=self.precision, rngs=rngs)

    def __call__(self, x: jax.Array, *, rngs: nnx.Rngs | None = None) -> tuple[jax.Array, jax.Array]:
        """Encode ``x`` of shape ``(B, ...)`` to ``(mean, log_var)``, each ``(B, latent_dim)``."""
        x = jnp.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"{type(self).__name__}: expected a batch (B, ...), got shape {x.shape}")
        self._ensure_built(x.shape[1:])
        input_dim = cast(tuple[int, ...], self.input_dim)  # set by _ensure_built
        if math.prod(x.shape[1:]) != math.prod(input_dim):
            raise ValueError(
                f"{type(self).__name__}: input of shape {x.shape[1:]} per example does not match "
                f"input_dim {self.input_dim}"
            )
        act: Activation = get_activation(self.activation)
        h = x.reshape(x.shape[0], -1)
        for layer in self.layers:
            h = act(layer(h))
        return self.mean_head(h), self.log_var_head(h)


class _ConvEncoder(LazyModule):
    """Shared logic of the CNN and ResNet encoders: a stride-2 trunk, then pooling and latent heads."""

    input_ndim: ClassVar[int] = 3
    """Inputs are images ``(H, W, C)``; config validation reads this without importing the class."""

    def __init__(
        self,
        hidden_dims: list,
        latent_dim: int,
        activation: str = "relu",
        input_dim: tuple | None = None,
        *,
        rngs: nnx.Rngs,
        spatial: bool = False,
        flatten: bool = False,
        kernel_size: int = 3,
        precision: jax.lax.Precision | None = None,
    ) -> None:
        name = type(self).__name__
        self.hidden_dims = hidden_dims_list(hidden_dims, name, allow_empty=False)
        self.latent_dim = check_latent_dim(latent_dim, name)
        get_activation(activation)
        self.activation = activation
        if spatial and flatten:
            raise ValueError(f"{name}: spatial=True and flatten=True exclude each other")
        self.spatial = bool(spatial)
        self.flatten = bool(flatten)
        self.kernel_size = check_positive_int(kernel_size, "kernel_size", name)
        self.precision = precision
        self.feature_grid: tuple[int, int] | None = None
        shape = None if input_dim is None else check_shape(input_dim, "input_dim", name, ndim=3)
        self._setup_lazy(shape, rngs)

    _make_blocks: Callable[[int, nnx.Rngs], list[nnx.Module]]
    """The stride-2 stages: every subclass defines it (checked at class creation)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        require_hook(cls, "_make_blocks")

    def _build(self, input_dim: tuple[int, ...], rngs: nnx.Rngs) -> None:
        height, width, channels = input_dim
        self.blocks = nnx.List(self._make_blocks(channels, rngs))
        self.feature_grid = plan_spatial_sizes((height, width), len(self.hidden_dims))[-1]
        feat = self.hidden_dims[-1]
        heads: list[nnx.Conv | nnx.Linear]
        if self.spatial:
            heads = [conv(feat, self.latent_dim, 1, precision=self.precision, rngs=rngs) for _ in "ml"]
        else:
            size = feat * math.prod(self.feature_grid) if self.flatten else feat
            heads = [dense(size, self.latent_dim, precision=self.precision, rngs=rngs) for _ in "ml"]
        self.mean_head, self.log_var_head = heads

    def __call__(self, x: jax.Array, *, rngs: nnx.Rngs | None = None) -> tuple[jax.Array, jax.Array]:
        """Encode images to ``(mean, log_var)``: ``(B, latent_dim)`` each, or ``(B, h, w, latent_dim)``
        with ``spatial=True``. Accepts ``(B, H, W, C)``, ``(B, H, W)`` and flattened ``(B, H*W*C)``."""
        name = type(self).__name__
        x = as_image(jnp.asarray(x), self.input_dim, name)
        self._ensure_built(x.shape[1:])
        h = x
        for block in self.blocks:
            h = block(h)
        if not self.spatial:
            h = h.reshape(h.shape[0], -1) if self.flatten else h.mean(axis=(1, 2))
        return self.mean_head(h), self.log_var_head(h)


class CNNEncoder(_ConvEncoder):
    """CNN encoder for VAE: stride-2 convolutions, global average pooling, then ``mean`` / ``log_var`` heads.

    Each entry of ``hidden_dims`` is one 'SAME' convolution with stride 2 and that many output channels,
    followed by the activation, so H and W are ceil-halved per entry (28 -> 14 -> 7 -> 4 -> 2). The final
    feature map is average-pooled over space before two linear heads. No batch statistics are used.

    Switches (keyword-only extras):

    - ``flatten=True``: flatten the final feature map instead of pooling it (the heads see position).
    - ``spatial=True`` (for VQ-VAE): no pooling and no dense heads; the heads are 1x1 convolutions and
      ``mean`` / ``log_var`` have shape ``(B, h, w, latent_dim)`` with ``(h, w) = feature_grid``, the input
      size ceil-halved ``len(hidden_dims)`` times. A ``CNNDecoder(..., spatial=True)`` with the same
      number of stages and ``output_dim`` takes exactly that grid.

    With ``input_dim=None`` the input shape is inferred at the first call (deterministically given
    ``rngs``).

    Args:
        hidden_dims: Channels of the stride-2 convolutions, in order (at least one).
        latent_dim: Latent space dimension.
        activation: Activation name.
        input_dim: Input shape (H, W, C), or None to infer it.
        rngs: Random number generators.
        spatial: Return spatial latents through 1x1-conv heads (see above).
        flatten: Flatten instead of global pooling before the dense heads.
        kernel_size: Convolution kernel size.
        precision: Precision of the convolutions and matrix products.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> enc = CNNEncoder(hidden_dims=[4, 8], latent_dim=3, input_dim=(28, 28, 1), rngs=nnx.Rngs(0))
        >>> [a.shape for a in enc(jnp.ones((2, 28, 28, 1)))]
        [(2, 3), (2, 3)]
        >>> enc = CNNEncoder([4, 8], 3, input_dim=(28, 28, 1), spatial=True, rngs=nnx.Rngs(0))
        >>> enc(jnp.ones((2, 28, 28, 1)))[0].shape, enc.feature_grid
        ((2, 7, 7, 3), (7, 7))
    """

    def _make_blocks(self, in_ch: int, rngs: nnx.Rngs) -> list[nnx.Module]:
        blocks: list[nnx.Module] = []
        for ch in self.hidden_dims:
            blocks.append(
                ConvBlock(
                    in_ch,
                    ch,
                    kernel_size=self.kernel_size,
                    stride=2,
                    activation=self.activation,
                    precision=self.precision,
                    rngs=rngs,
                )
            )
            in_ch = ch
        return blocks


class ResNetEncoder(_ConvEncoder):
    """ResNet encoder for VAE: residual stages with stride-2 downsampling, pooling, latent heads.

    Each entry of ``hidden_dims`` is one stage: a :class:`~artifex_plugins.vae.blocks.ResidualDownBlock`
    (``act(skip(x) + conv(act(conv_s2(x))))`` with a learned 1x1 stride-2 projection on the skip) followed by
    ``blocks_per_stage - 1`` identity :class:`~artifex_plugins.vae.blocks.ResidualBlock` s
    (``act(x + f(x))``). Spatial sizes, pooling, ``flatten``, ``spatial`` and lazy ``input_dim`` behave as in
    :class:`CNNEncoder`. No batch statistics are used.

    Args:
        hidden_dims: Channels of the stages, in order (at least one).
        latent_dim: Latent space dimension.
        activation: Activation name.
        input_dim: Input shape (H, W, C), or None to infer it.
        rngs: Random number generators.
        spatial: Return spatial latents ``(B, h, w, latent_dim)`` through 1x1-conv heads (VQ-VAE).
        flatten: Flatten instead of global pooling before the dense heads.
        kernel_size: Convolution kernel size.
        precision: Precision of the convolutions and matrix products.
        blocks_per_stage: Residual blocks per stage, the downsampling one included (at least 1).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> enc = ResNetEncoder(hidden_dims=[4, 8], latent_dim=3, input_dim=(16, 16, 3), rngs=nnx.Rngs(0))
        >>> enc(jnp.ones((2, 16, 16, 3)))[0].shape
        (2, 3)
    """

    def __init__(
        self,
        hidden_dims: list,
        latent_dim: int,
        activation: str = "relu",
        input_dim: tuple | None = None,
        *,
        rngs: nnx.Rngs,
        spatial: bool = False,
        flatten: bool = False,
        kernel_size: int = 3,
        precision: jax.lax.Precision | None = None,
        blocks_per_stage: int = 2,
    ) -> None:
        """Initialize ResNet encoder."""
        self.blocks_per_stage = check_positive_int(blocks_per_stage, "blocks_per_stage", "ResNetEncoder")
        super().__init__(
            hidden_dims,
            latent_dim,
            activation,
            input_dim,
            rngs=rngs,
            spatial=spatial,
            flatten=flatten,
            kernel_size=kernel_size,
            precision=precision,
        )

    def _make_blocks(self, in_ch: int, rngs: nnx.Rngs) -> list[nnx.Module]:
        common: dict[str, Any] = {
            "kernel_size": self.kernel_size,
            "activation": self.activation,
            "precision": self.precision,
            "rngs": rngs,
        }
        blocks: list[nnx.Module] = []
        for ch in self.hidden_dims:
            blocks.append(ResidualDownBlock(in_ch, ch, **common))
            blocks.extend(ResidualBlock(ch, **common) for _ in range(self.blocks_per_stage - 1))
            in_ch = ch
        return blocks


class ConditionalEncoder(nnx.Module):
    """Conditional encoder wrapper: injects a learned class embedding into the input of any encoder.

    Labels are integer ids ``(B,)`` or one-hot rows ``(B, num_classes)``; both give identical results. How
    the embedding ``e = embed(label)`` enters depends on the wrapped encoder, fixed when wrapping:

    - base built with ``input_dim=None`` (as on the spec page): concatenation. A flat input, or any input
      of an encoder that flattens (``MLPEncoder``), becomes ``concat(flatten(x), e)``; an image
      ``(B, H, W, C)`` gets ``e`` as ``embed_dim`` extra constant channels. The base then infers its input
      size, label included, at the first call.
    - base with a fixed ``input_dim``: the base's input shape is kept; ``e`` is projected by a linear layer
      to one value per input element and added, ``x + reshape(W e + b, x.shape)`` (for the first linear or
      convolutional layer this is a class-dependent input pattern, as expressive as concatenation).

    An integer label outside ``[0, num_classes)`` raises ``ValueError`` (value and index) eagerly; under
    ``jit`` its example's outputs are NaN (see :class:`~artifex_plugins.vae.layers.LabelEmbedding`).

    Args:
        encoder: Base encoder returning ``(mean, log_var)``.
        num_classes: Number of conditioning classes.
        embed_dim: Embedding dimension for labels.
        rngs: Random number generators.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> rngs = nnx.Rngs(0)
        >>> enc = ConditionalEncoder(MLPEncoder([16], 4, rngs=rngs), num_classes=10, embed_dim=8, rngs=rngs)
        >>> mean, log_var = enc(jnp.ones((2, 784)), condition=jnp.array([3, 7]))
        >>> mean.shape, enc.encoder.input_dim
        ((2, 4), (792,))
    """

    def __init__(self, encoder: nnx.Module, num_classes: int, embed_dim: int, *, rngs: nnx.Rngs) -> None:
        """Initialize conditional encoder."""
        self.encoder = encoder
        self.embedding = LabelEmbedding(num_classes, embed_dim, rngs=rngs)
        self.num_classes = self.embedding.num_classes
        self.embed_dim = self.embedding.embed_dim
        self.latent_dim = getattr(encoder, "latent_dim", None)
        self.hidden_dims = getattr(encoder, "hidden_dims", None)
        base_input = getattr(encoder, "input_dim", None)
        self.mode = "concat" if base_input is None else "add"
        self.input_dim = None if base_input is None else tuple(base_input)
        self.input_projection = (
            None
            if base_input is None
            else dense(self.embed_dim, math.prod(base_input), rngs=rngs)
        )

    def __call__(
        self, x: jax.Array, condition: jax.Array | None = None, *, rngs: nnx.Rngs | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """Encode ``x`` given class labels ``condition`` to ``(mean, log_var)``."""
        if condition is None:
            raise ValueError(
                "ConditionalEncoder: condition is required (class ids (B,) or one-hot (B, num_classes))"
            )
        x = jnp.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"ConditionalEncoder: expected a batch (B, ...), got shape {x.shape}")
        batch = x.shape[0]
        if self.input_dim is None:
            self.input_dim = tuple(x.shape[1:])
        emb = self.embedding(condition, batch).astype(x.dtype)
        if self.input_projection is not None:
            if math.prod(x.shape[1:]) != math.prod(self.input_dim):
                raise ValueError(
                    f"ConditionalEncoder: input of shape {x.shape[1:]} does not match input_dim {self.input_dim}"
                )
            x = x + self.input_projection(emb).reshape(x.shape)
        elif x.ndim == 2 or getattr(self.encoder, "flattens_input", False):
            x = jnp.concatenate([x.reshape(batch, -1), emb], axis=-1)
        else:
            channels = jnp.broadcast_to(emb.reshape(batch, *(1,) * (x.ndim - 2), -1), (*x.shape[:-1], emb.shape[-1]))
            x = jnp.concatenate([x, channels], axis=-1)
        return self.encoder(x, rngs=rngs)

from artifex_core.factory import create_encoder_unified  # noqa: E402  (re-export, as on the spec page)

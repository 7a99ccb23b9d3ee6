"""Decoders: map latent codes to unconstrained reconstructions of shape ``(B, *output_dim)``.

``MLPDecoder`` (dense), ``CNNDecoder`` (sub-pixel convolutional upsampling), ``ResNetDecoder`` (residual
blocks) and the ``ConditionalDecoder`` wrapper. ``hidden_dims`` are used as given, in decoding order (they
are never reversed). Outputs carry no final activation: a likelihood maps them to data space. Every decoder
exposes ``latent_shape``, the per-example shape of the ``z`` it takes.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> dec = MLPDecoder(hidden_dims=[16], output_dim=(8,), latent_dim=4, rngs=nnx.Rngs(0))
    >>> dec(jnp.zeros((2, 4))).shape, dec.latent_shape
    ((2, 8), (4,))
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae.activations import get_activation
from artifex_plugins.vae.blocks import CONV_UP, RESIDUAL_UP, Stage
from artifex_plugins.vae.checks import check_positive_int, check_shape, require_hook, require_rngs
from artifex_plugins.vae.embedding import LabelEmbedding
from artifex_plugins.vae.initializers import conv, dense
from artifex_plugins.vae.network import Network
from artifex_plugins.vae.shapes import plan_spatial_sizes

__all__ = [
    "CNNDecoder",
    "ConditionalDecoder",
    "MLPDecoder",
    "ResNetDecoder",
    "create_decoder_unified",
]


def _check_z(z: jax.Array, latent_dim: int, owner: str) -> jax.Array:
    z = jnp.asarray(z)
    if z.ndim != 2 or z.shape[-1] != latent_dim:
        raise ValueError(f"{owner}: expected z of shape (B, {latent_dim}), got {z.shape}")
    return z


class _Decoder(Network):
    """What the built-in decoders share: checked arguments, ``output_dim`` and ``latent_shape``."""

    output_ndim: ClassVar[int | None] = None
    """Axes of one output example (3 for images); config validation reads this without importing the class."""

    def __init__(
        self,
        hidden_dims: list[int],
        output_dim: tuple[int, ...],
        latent_dim: int,
        activation: str,
        *,
        precision: jax.lax.Precision | None,
        min_hidden: int = 0,
    ) -> None:
        super().__init__(hidden_dims, latent_dim, activation, precision=precision, min_hidden=min_hidden)
        self.output_dim = check_shape(output_dim, "output_dim", type(self).__name__, ndim=self.output_ndim)


class MLPDecoder(_Decoder):
    """MLP decoder for VAE: dense hidden layers in the order given, then a linear layer to ``output_dim``.

    Args:
        hidden_dims: Hidden layer widths in decoding order (e.g. the encoder's reversed); used as given.
        output_dim: Shape of one reconstruction, e.g. ``(784,)`` or ``(28, 28, 1)``.
        latent_dim: Latent space dimension.
        activation: Activation name of the hidden layers (the output has none: logits / unconstrained).
        rngs: Random number generators (required).
        precision: Precision of the matrix products (keyword-only extra).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> dec = MLPDecoder(hidden_dims=[8, 16], output_dim=(28, 28, 1), latent_dim=4, rngs=nnx.Rngs(0))
        >>> dec(jnp.zeros((3, 4))).shape
        (3, 28, 28, 1)
    """
    def __init__(
        self,
        hidden_dims: list[int],
        output_dim: tuple[int, ...],
        latent_dim: int,
        activation: str = "relu",
        *,
        rngs: nnx.Rngs | None = None,
        precision: jax.lax.Precision | None = None,
    ) -> None:
        """Initialize MLP decoder."""
        rngs = require_rngs(rngs, type(self).__name__)
        super().__init__(hidden_dims, output_dim, latent_dim, activation, precision=precision)
        width = self.latent_dim
        layers = []
        for dim in self.hidden_dims:
            layers.append(dense(width, dim, precision=precision, rngs=rngs))
            width = dim
        self.layers = nnx.List(layers)
        self.output_layer = dense(width, math.prod(self.output_dim), precision=precision, rngs=rngs)

    def __call__(self, z: jax.Array, *, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Decode ``z`` of shape ``(B, latent_dim)`` to ``(B, *output_dim)``."""
        z = _check_z(z, self.latent_dim, type(self).__name__)
        act = get_activation(self.activation)
        h = z
        for layer in self.layers:
            h = act(layer(h))
        return self.output_layer(h).reshape(z.shape[0], *self.output_dim)


class _ConvDecoder(_Decoder):
    """Shared logic of the CNN and ResNet decoders: project z to a small grid, one ``stage`` per hidden dim
    (upsampling 2x), output conv. A subclass names its stage factory
    (:class:`~artifex_plugins.vae.blocks.Stage`) in ``stage``; the signature and the rest are all here."""

    output_ndim: ClassVar[int | None] = 3
    stage: ClassVar[Stage]
    """The stage factory: one 2x upsampling stage per entry of ``hidden_dims`` (checked at class creation)."""

    def __init__(
        self,
        hidden_dims: list[int],
        output_dim: tuple[int, ...],
        latent_dim: int,
        activation: str = "relu",
        *,
        rngs: nnx.Rngs | None = None,
        spatial: bool = False,
        kernel_size: int = 3,
        precision: jax.lax.Precision | None = None,
        blocks_per_stage: int | None = None,
    ) -> None:
        name = type(self).__name__
        rngs = require_rngs(rngs, name)
        super().__init__(hidden_dims, output_dim, latent_dim, activation, precision=precision, min_hidden=1)
        self.spatial = bool(spatial)
        self.kernel_size = check_positive_int(kernel_size, "kernel_size", name)
        blocks = self.stage.default_blocks if blocks_per_stage is None else blocks_per_stage
        self.blocks_per_stage = check_positive_int(blocks, "blocks_per_stage", name)
        height, width, channels = self.output_dim
        sizes = plan_spatial_sizes((height, width), len(self.hidden_dims))
        self.feature_grid = sizes[-1]
        first = self.hidden_dims[0]
        self.input_layer: nnx.Conv | nnx.Linear
        if self.spatial:
            self.latent_shape = (*self.feature_grid, self.latent_dim)
            self.input_layer = conv(self.latent_dim, first, self.kernel_size, precision=precision, rngs=rngs)
        else:
            self.input_layer = dense(
                self.latent_dim, math.prod(self.feature_grid) * first, precision=precision, rngs=rngs
            )
        common: dict[str, Any] = {
            "kernel_size": self.kernel_size,
            "activation": self.activation,
            "precision": precision,
            "rngs": rngs,
        }
        blocks_list: list[nnx.Module] = []
        targets = reversed(sizes[:-1])
        for in_ch, out_ch, target in zip([first, *self.hidden_dims], self.hidden_dims, targets, strict=False):
            blocks_list += self.stage(in_ch, out_ch, target, blocks=self.blocks_per_stage, **common)
        self.blocks = nnx.List(blocks_list)
        self.output_conv = conv(self.hidden_dims[-1], channels, self.kernel_size, precision=precision, rngs=rngs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        require_hook(cls, "stage")

    def __call__(self, z: jax.Array, *, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Decode ``z`` (``(B, latent_dim)``, or ``(B, h, w, latent_dim)`` with ``spatial=True``) to
        ``(B, H, W, C)`` unconstrained outputs."""
        name = type(self).__name__
        z = jnp.asarray(z)
        act = get_activation(self.activation)
        if self.spatial:
            expected = (*self.feature_grid, self.latent_dim)
            if z.ndim != 4 or z.shape[1:] != expected:
                dims = ", ".join(map(str, expected))
                raise ValueError(f"{name}: expected spatial z of shape (B, {dims}), got {z.shape}")
            h = act(self.input_layer(z))
        else:
            z = _check_z(z, self.latent_dim, name)
            h = act(self.input_layer(z)).reshape(z.shape[0], *self.feature_grid, self.hidden_dims[0])
        for block in self.blocks:
            h = block(h)
        return self.output_conv(h)


class CNNDecoder(_ConvDecoder):
    """CNN decoder for VAE: dense projection to a small grid, one 2x sub-pixel upsampling per hidden dim.

    ``hidden_dims`` are used as given, in decoding order (e.g. ``[256, 128, 64, 32]``); they are never
    reversed. The output sizes are planned as the encoder's stride-2 convolutions produce them: H and W are
    ceil-halved ``len(hidden_dims)`` times (28 -> 14 -> 7 -> 4 -> 2), ``z`` is projected by a linear layer to
    that grid with ``hidden_dims[0]`` channels, and each entry ``d`` upsamples 2x to ``d`` channels, cropping
    the extra row/column where a size was odd. A final 3x3 convolution maps to C channels with no activation,
    so the output is exactly ``(B, *output_dim)`` for any H x W x C, unconstrained (logits for "bce").

    Upsampling is sub-pixel, not ``nnx.ConvTranspose``: a 'SAME' convolution to ``4*d`` channels followed by
    depth-to-space (pixel shuffle). With a ``ceil(kernel_size/2)`` kernel it computes the same family of
    functions as a stride-2 transposed convolution with ``kernel_size`` (see
    :class:`~artifex_plugins.vae.blocks.SubPixelUpsample`) and measured about 3x faster on XLA:CPU (see
    ARCHITECTURE.md). Kernels start with ICNR init.

    ``spatial=True`` (keyword-only, for VQ-VAE): ``z`` has shape ``(B, h, w, latent_dim)`` with
    ``(h, w) = feature_grid`` (the grid of a ``CNNEncoder(..., spatial=True)`` with as many stages for the
    same image size); the dense projection is replaced by a 3x3 convolution.

    Args:
        hidden_dims: Channels per upsampling stage, in decoding order (at least one).
        output_dim: Output shape (H, W, C).
        latent_dim: Latent dimension.
        activation: Activation name of the hidden layers.
        rngs: Random number generators (required).
        spatial: Take spatial latents (see above).
        kernel_size: Convolution kernel size.
        precision: Precision of the convolutions and matrix products.
        blocks_per_stage: Blocks per stage, the upsampling one included (default 1; the others are
            stride-1 convolutions).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> dec = CNNDecoder(hidden_dims=[8, 4], output_dim=(28, 28, 1), latent_dim=3, rngs=nnx.Rngs(0))
        >>> dec(jnp.zeros((2, 3))).shape, dec.feature_grid
        ((2, 28, 28, 1), (7, 7))
    """

    stage = CONV_UP


class ResNetDecoder(_ConvDecoder):
    """ResNet decoder for VAE: residual stages with sub-pixel upsampling, as :class:`CNNDecoder` plans them.

    Each entry ``d`` of ``hidden_dims`` (decoding order, used as given) is a stage: a
    :class:`~artifex_plugins.vae.blocks.ResidualUpBlock` (``act(skip(x) + conv(act(up(x))))``, the skip a
    learned 1x1 sub-pixel projection) upsampling 2x to ``d`` channels, then ``blocks_per_stage - 1`` identity
    :class:`~artifex_plugins.vae.blocks.ResidualBlock` s. Projection, size planning, cropping, the output
    convolution (no activation) and ``spatial`` behave as in :class:`CNNDecoder`.

    Args:
        hidden_dims: Channels per stage, in decoding order (at least one).
        output_dim: Output shape (H, W, C).
        latent_dim: Latent dimension.
        activation: Activation name of the hidden layers.
        rngs: Random number generators (required).
        spatial: Take spatial latents ``(B, h, w, latent_dim)`` (VQ-VAE).
        kernel_size: Convolution kernel size.
        precision: Precision of the convolutions and matrix products.
        blocks_per_stage: Residual blocks per stage, the upsampling one included (default 2).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> dec = ResNetDecoder(hidden_dims=[8, 4], output_dim=(32, 32, 3), latent_dim=3, rngs=nnx.Rngs(0))
        >>> dec(jnp.zeros((2, 3))).shape
        (2, 32, 32, 3)
    """

    stage = RESIDUAL_UP


class ConditionalDecoder(nnx.Module):
    """Conditional decoder wrapper: shifts the latent code by a projection of a learned class embedding.

    The base decoder keeps its own ``latent_dim`` (the model's). Labels are integer ids ``(B,)`` or one-hot
    rows ``(B, num_classes)`` (identical results); the wrapper decodes ``z + W embed(label) + b``, i.e.
    the label enters the base's first layer additively, as concatenating ``[z, embed(label)]`` would. The
    identity path keeps ``z``'s scale, so prior samples ``z ~ N(0, I)`` stay meaningful. Spatial latents
    ``(B, h, w, latent_dim)`` get the same shift at every position.
    An integer label outside ``[0, num_classes)`` raises ``ValueError`` (value and index) eagerly; under
    ``jit`` its example's outputs are NaN (see :class:`~artifex_plugins.vae.embedding.LabelEmbedding`).

    Args:
        decoder: Base decoder taking ``(B, latent_dim)`` (or spatial) latents.
        num_classes: Number of conditioning classes.
        embed_dim: Embedding dimension.
        rngs: Random number generators.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> rngs = nnx.Rngs(0)
        >>> base = MLPDecoder([16], output_dim=(8,), latent_dim=4, rngs=rngs)
        >>> dec = ConditionalDecoder(base, num_classes=10, embed_dim=8, rngs=rngs)
        >>> out = dec(jnp.zeros((2, 4)), condition=jnp.array([0, 1]))
        >>> out.shape, bool(jnp.any(out[0] != out[1]))
        ((2, 8), True)
    """

    def __init__(self, decoder: nnx.Module, num_classes: int, embed_dim: int, *, rngs: nnx.Rngs) -> None:
        """Initialize conditional decoder."""
        latent_dim = getattr(decoder, "latent_dim", None)
        if latent_dim is None:
            raise ValueError("ConditionalDecoder: the wrapped decoder must expose latent_dim")
        self.decoder = decoder
        self.embedding = LabelEmbedding(num_classes, embed_dim, rngs=rngs)
        self.num_classes = self.embedding.num_classes
        self.embed_dim = self.embedding.embed_dim
        self.latent_dim = int(latent_dim)
        self.output_dim = getattr(decoder, "output_dim", None)
        self.hidden_dims = getattr(decoder, "hidden_dims", None)
        self.latent_projection = dense(self.embed_dim, self.latent_dim, rngs=rngs)

    @property
    def latent_shape(self) -> tuple[int, ...] | None:
        """The base's per-example shape of ``z`` (``(latent_dim,)``, or ``(h, w, latent_dim)`` when spatial)."""
        return getattr(self.decoder, "latent_shape", None)

    def __call__(
        self, z: jax.Array, condition: jax.Array | None = None, *, rngs: nnx.Rngs | None = None
    ) -> jax.Array:
        """Decode ``z`` given class labels ``condition`` to ``(B, *output_dim)``."""
        if condition is None:
            raise ValueError(
                "ConditionalDecoder: condition is required (class ids (B,) or one-hot (B, num_classes))"
            )
        z = jnp.asarray(z)
        if z.ndim < 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"ConditionalDecoder: expected z of shape (B, ..., {self.latent_dim}), got {z.shape}")
        shift = self.latent_projection(self.embedding(condition, z.shape[0])).astype(z.dtype)
        shift = shift.reshape(z.shape[0], *(1,) * (z.ndim - 2), self.latent_dim)
        return self.decoder(z + shift, rngs=rngs)

from artifex_core.factory import create_decoder_unified  # noqa: E402  (re-export, as on the spec page)

"""Encoders: map inputs to the parameters ``(mean, log_var)`` of a diagonal Gaussian posterior.

``MLPEncoder`` (dense), ``CNNEncoder`` (stride-2 convolutions), ``ResNetEncoder`` (residual blocks) and the
``ConditionalEncoder`` wrapper. No encoder uses batch statistics: each example is encoded on its own.

Every encoder takes its input shape ``input_dim`` at construction and builds all its layers there (the
factories always pass it); it exposes ``latent_shape``, the per-example shape of ``mean`` and ``log_var``.
Only the spec's ``input_dim=None`` defers the layers to the first call (:mod:`artifex_plugins.vae._lazy`).

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> enc = MLPEncoder(hidden_dims=[16], latent_dim=4, input_dim=(8,), rngs=nnx.Rngs(0))
    >>> mean, log_var = enc(jnp.ones((2, 8)))
    >>> mean.shape, log_var.shape, enc.latent_shape
    ((2, 4), (2, 4), (4,))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae._activations import Activation, get_activation
from artifex_plugins.vae._blocks import CONV_DOWN, RESIDUAL_DOWN, Stage
from artifex_plugins.vae._checks import check_positive_int, check_shape, require_hook
from artifex_plugins.vae._embedding import LabelEmbedding
from artifex_plugins.vae._initializers import conv, dense
from artifex_plugins.vae._lazy import LazyInitKey, build_at_first_call, defer_build
from artifex_plugins.vae._network import Network
from artifex_plugins.vae._shapes import as_image, plan_spatial_sizes

__all__ = [
    "CNNEncoder",
    "ConditionalEncoder",
    "MLPEncoder",
    "ResNetEncoder",
    "create_encoder_unified",
]


def _batch_of_input_dim(module: Any, x: Any) -> jax.Array:
    """``x`` as a batch ``(B, ...)`` whose examples hold ``prod(module.input_dim)`` values.

    A module built lazily (``input_dim=None``) is built here, for the first batch's example shape.

    Raises:
        ValueError: For an input without a batch axis, or examples of another size than ``input_dim``.
    """
    x = jnp.asarray(x)
    owner = type(module).__name__
    if x.ndim < 2:
        raise ValueError(f"{owner}: expected a batch (B, ...), got shape {x.shape}")
    if module.input_dim is None:
        build_at_first_call(module, x.shape[1:])
    if math.prod(x.shape[1:]) != math.prod(module.input_dim or ()):
        raise ValueError(f"{owner}: input of shape {x.shape[1:]} does not match input_dim {module.input_dim}")
    return x


class _Encoder(Network):
    """What the built-in encoders share: checked arguments, layers built for ``input_dim`` at construction
    (or, only when it is None, at the first call), and ``latent_shape``."""

    input_ndim: ClassVar[int | None] = None
    """Axes of one input example (3 for images); config validation reads this without importing the class."""

    input_dim: tuple[int, ...] | None
    """Per-example input shape; None only while an encoder built without one awaits its first call."""
    _lazy_key: LazyInitKey | None

    def _build_or_defer(self, input_dim: tuple | None, rngs: nnx.Rngs) -> None:
        """Build the layers for ``input_dim`` now; with None (the spec's default) at the first call."""
        self.input_dim = None
        if input_dim is None:
            self._lazy_key = defer_build(rngs)
        else:
            self._lazy_key = None
            self._build(check_shape(input_dim, "input_dim", type(self).__name__, ndim=self.input_ndim), rngs)

    _build: Callable[[tuple[int, ...], nnx.Rngs], None]
    """Create the layers for ``input_dim`` and set it: every encoder defines it (checked at class creation)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        require_hook(cls, "_build")


class MLPEncoder(_Encoder):
    """MLP encoder for VAE: flattens each example, dense hidden layers, then ``mean`` / ``log_var`` heads.

    Any input shape ``(B, ...)`` is flattened to ``(B, prod(...))``. All layers are built here for
    ``input_dim``; with ``input_dim=None`` the input size is inferred at the first call (deterministically
    given ``rngs``, see :mod:`artifex_plugins.vae._lazy`).

    Args:
        hidden_dims: Hidden layer widths, in order (may be empty for a linear encoder).
        latent_dim: Latent space dimension.
        activation: Activation name (see :func:`~artifex_plugins.vae.get_activation`).
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
        super().__init__(hidden_dims, latent_dim, activation, precision=precision)
        self._build_or_defer(input_dim, rngs)

    def _build(self, input_dim: tuple[int, ...], rngs: nnx.Rngs) -> None:
        self.input_dim = input_dim
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
        x = _batch_of_input_dim(self, x)
        act: Activation = get_activation(self.activation)
        h = x.reshape(x.shape[0], -1)
        for layer in self.layers:
            h = act(layer(h))
        return self.mean_head(h), self.log_var_head(h)


class _ConvEncoder(_Encoder):
    """Shared logic of the CNN and ResNet encoders: one ``stage`` per hidden dim, then pooling and latent heads.

    A subclass names its stage factory (:class:`~artifex_plugins.vae.Stage`) in ``stage``; the
    signature, checks, size planning and heads are all here.
    """

    input_ndim: ClassVar[int | None] = 3
    stage: ClassVar[Stage]
    """The stage factory: one stride-2 stage per entry of ``hidden_dims`` (checked at class creation)."""

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
        blocks_per_stage: int | None = None,
    ) -> None:
        name = type(self).__name__
        super().__init__(hidden_dims, latent_dim, activation, precision=precision, min_hidden=1)
        if spatial and flatten:
            raise ValueError(f"{name}: spatial=True and flatten=True exclude each other")
        self.spatial = bool(spatial)
        self.flatten = bool(flatten)
        self.kernel_size = check_positive_int(kernel_size, "kernel_size", name)
        blocks = self.stage.default_blocks if blocks_per_stage is None else blocks_per_stage
        self.blocks_per_stage = check_positive_int(blocks, "blocks_per_stage", name)
        self.feature_grid: tuple[int, int] | None = None
        if self.spatial:
            self.latent_shape = None  # (h, w, latent_dim), known once the input size is
        self._build_or_defer(input_dim, rngs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        require_hook(cls, "stage")

    def _build(self, input_dim: tuple[int, ...], rngs: nnx.Rngs) -> None:
        height, width, channels = input_dim
        self.input_dim = input_dim
        common: dict[str, Any] = {
            "kernel_size": self.kernel_size,
            "activation": self.activation,
            "precision": self.precision,
            "rngs": rngs,
        }
        blocks: list[nnx.Module] = []
        for in_ch, out_ch in zip([channels, *self.hidden_dims], self.hidden_dims, strict=False):
            blocks += self.stage(in_ch, out_ch, blocks=self.blocks_per_stage, **common)
        self.blocks = nnx.List(blocks)
        self.feature_grid = plan_spatial_sizes((height, width), len(self.hidden_dims))[-1]
        feat = self.hidden_dims[-1]
        heads: list[nnx.Conv | nnx.Linear]
        if self.spatial:
            heads = [conv(feat, self.latent_dim, 1, precision=self.precision, rngs=rngs) for _ in "ml"]
            self.latent_shape = (*self.feature_grid, self.latent_dim)
        else:
            size = feat * math.prod(self.feature_grid) if self.flatten else feat
            heads = [dense(size, self.latent_dim, precision=self.precision, rngs=rngs) for _ in "ml"]
        self.mean_head, self.log_var_head = heads

    def __call__(self, x: jax.Array, *, rngs: nnx.Rngs | None = None) -> tuple[jax.Array, jax.Array]:
        """Encode images to ``(mean, log_var)``: ``(B, latent_dim)`` each, or ``(B, h, w, latent_dim)``
        with ``spatial=True``. Accepts ``(B, H, W, C)``, ``(B, H, W)`` and flattened ``(B, H*W*C)``."""
        x = as_image(jnp.asarray(x), self.input_dim, type(self).__name__)
        if self.input_dim is None:
            build_at_first_call(self, x.shape[1:])
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

    All layers are built here for ``input_dim``; with ``input_dim=None`` the input shape is inferred at the
    first call (deterministically given ``rngs``). ``latent_shape`` is ``(latent_dim,)``, or
    ``(*feature_grid, latent_dim)`` with ``spatial=True``.

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
        blocks_per_stage: Convolutions per stage, the stride-2 one included (default 1; the others have
            stride 1).

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

    stage = CONV_DOWN


class ResNetEncoder(_ConvEncoder):
    """ResNet encoder for VAE: residual stages with stride-2 downsampling, pooling, latent heads.

    Each entry of ``hidden_dims`` is one stage: a :class:`~artifex_plugins.vae.ResidualDownBlock`
    (``act(skip(x) + conv(act(conv_s2(x))))`` with a learned 1x1 stride-2 projection on the skip) followed by
    ``blocks_per_stage - 1`` identity :class:`~artifex_plugins.vae.ResidualBlock` s
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
        blocks_per_stage: Residual blocks per stage, the downsampling one included (default 2).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> enc = ResNetEncoder(hidden_dims=[4, 8], latent_dim=3, input_dim=(16, 16, 3), rngs=nnx.Rngs(0))
        >>> enc(jnp.ones((2, 16, 16, 3)))[0].shape
        (2, 3)
    """

    stage = RESIDUAL_DOWN


class ConditionalEncoder(nnx.Module):
    """Conditional encoder wrapper: adds a projection of a learned class embedding to the input of any encoder.

    Labels are integer ids ``(B,)`` or one-hot rows ``(B, num_classes)``; both give identical results. The
    embedding ``e = embed(label)`` is projected by a linear layer to one value per input element and added:
    the base encodes ``x + reshape(W e + b, x.shape)`` with its own input shape (for the first linear or
    convolutional layer this is a class-dependent input pattern, as expressive as concatenating ``e``).

    The projection is sized from the base's ``input_dim``, here; a base built without one (the spec's
    ``input_dim=None``) is sized at the first call, from the data, as the base itself is
    (:mod:`artifex_plugins.vae._lazy`). ``input_dim``, ``latent_dim``, ``latent_shape`` and ``hidden_dims``
    are the base's.

    An integer label outside ``[0, num_classes)`` raises ``ValueError`` (value and index) eagerly; under
    ``jit`` its example's outputs are NaN (see :class:`~artifex_plugins.vae.LabelEmbedding`).

    Args:
        encoder: Base encoder returning ``(mean, log_var)``.
        num_classes: Number of conditioning classes.
        embed_dim: Embedding dimension for labels.
        rngs: Random number generators.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> rngs = nnx.Rngs(0)
        >>> base = MLPEncoder([16], 4, input_dim=(784,), rngs=rngs)
        >>> enc = ConditionalEncoder(base, num_classes=10, embed_dim=8, rngs=rngs)
        >>> mean, log_var = enc(jnp.ones((2, 784)), condition=jnp.array([3, 7]))
        >>> mean.shape, enc.input_dim, enc.latent_shape
        ((2, 4), (784,), (4,))
    """

    input_dim: tuple[int, ...] | None
    _lazy_key: LazyInitKey | None

    def __init__(self, encoder: nnx.Module, num_classes: int, embed_dim: int, *, rngs: nnx.Rngs) -> None:
        """Initialize conditional encoder."""
        self.encoder = encoder
        self.embedding = LabelEmbedding(num_classes, embed_dim, rngs=rngs)
        self.num_classes = self.embedding.num_classes
        self.embed_dim = self.embedding.embed_dim
        self.latent_dim = getattr(encoder, "latent_dim", None)
        self.hidden_dims = getattr(encoder, "hidden_dims", None)
        self.input_dim = None
        base_input = getattr(encoder, "input_dim", None)
        if base_input is None:
            self._lazy_key = defer_build(rngs)
        else:
            self._lazy_key = None
            self._build(tuple(base_input), rngs)

    def _build(self, input_dim: tuple[int, ...], rngs: nnx.Rngs) -> None:
        self.input_dim = input_dim
        self.input_projection = dense(self.embed_dim, math.prod(input_dim), rngs=rngs)

    @property
    def latent_shape(self) -> tuple[int, ...] | None:
        """The base's per-example shape of ``mean`` / ``log_var`` (None while a lazy spatial base is unbuilt)."""
        return getattr(self.encoder, "latent_shape", None)

    def __call__(
        self, x: jax.Array, condition: jax.Array | None = None, *, rngs: nnx.Rngs | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """Encode ``x`` given class labels ``condition`` to ``(mean, log_var)``."""
        if condition is None:
            raise ValueError(
                "ConditionalEncoder: condition is required (class ids (B,) or one-hot (B, num_classes))"
            )
        x = _batch_of_input_dim(self, x)
        emb = self.embedding(condition, x.shape[0]).astype(x.dtype)
        return self.encoder(x + self.input_projection(emb).reshape(x.shape), rngs=rngs)


from artifex_core._factory import create_encoder_unified  # noqa: E402  (re-export, as on the spec page)

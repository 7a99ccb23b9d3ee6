"""Unified factories: build encoders, decoders and models by registered name from a :class:`ModelConfig`.

Construction convention for any registered class: if it defines ``from_config(config, *, rngs)`` that is
called; otherwise the spec's keywords are used (encoders: hidden_dims, latent_dim, activation, input_dim,
rngs; decoders: hidden_dims, output_dim, latent_dim, activation, rngs; models: encoder, decoder,
latent_dim, rngs and the variant's ``parameters``).

Example:
    >>> from flax import nnx
    >>> cfg = ModelConfig(input_dim=(784,), latent_dim=4, hidden_dims=(16,))
    >>> model = create_model(cfg, rngs=nnx.Rngs(0))
    >>> type(model).__name__
    'VAE'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artifex_core._config import ModelConfig
from artifex_core._name_registry import Registry
from artifex_core._registry import CONDITIONAL_WRAPPER, decoders, encoders, losses, models

if TYPE_CHECKING:  # pragma: no cover
    from flax import nnx

__all__ = [
    "create_decoder_unified",
    "create_encoder_unified",
    "create_model",
    "list_decoders",
    "list_encoders",
    "list_losses",
    "list_models",
]



def _lookup_base(registry: Registry, name: str) -> Any:
    entry = registry.entry(name)
    if entry.meta.get("wrapper"):
        raise ValueError(
            f"{registry.kind} {name!r} is a wrapper; pick a base {registry.kind} "
            f"({', '.join(n for n in registry.names() if not registry.entry(n).meta.get('wrapper'))}) "
            "and set conditional=True"
        )
    return entry.load()


def _build(
    registry: Registry,
    name: str,
    config: ModelConfig,
    spec_kwargs: dict[str, Any],
    extra_kwargs: dict[str, Any],
    conditional: bool,
    num_classes: int | None,
    embed_dim: int | None,
    rngs: Any,
) -> Any:
    """Build base ``name`` of ``registry`` (``from_config``, else the spec's keywords and the extras), then
    wrap it in the registered :data:`CONDITIONAL_WRAPPER` when asked."""
    cls = _lookup_base(registry, name)
    if hasattr(cls, "from_config"):
        module = cls.from_config(config, rngs=rngs)
    else:
        module = cls(**spec_kwargs, rngs=rngs, **extra_kwargs)
    if not conditional:
        return module
    if num_classes is None:
        raise ValueError(f"num_classes: required when conditional=True (building the {registry.kind})")
    wrapper = registry.get(CONDITIONAL_WRAPPER)
    field = registry.kind  # "encoder" / "decoder": the name of the wrapper's first argument
    return wrapper(**{field: module}, num_classes=num_classes, embed_dim=embed_dim or 32, rngs=rngs)


def create_encoder_unified(
    *,
    config: ModelConfig,
    encoder_type: str,
    conditional: bool = False,
    num_classes: int | None = None,
    embed_dim: int | None = None,
    rngs: nnx.Rngs,
) -> nnx.Module:
    """Create an encoder from a unified configuration.

    Args:
        config: Model configuration (hidden_dims, latent_dim, activation, input_dim, encoder_kwargs).
        encoder_type: "dense" (= "mlp"), "cnn", "resnet" or any registered encoder name or qualified id.
        conditional: Wrap it in the conditional encoder.
        num_classes: Number of classes for conditioning.
        embed_dim: Label embedding dimension (default 32).
        rngs: Random number generators.

    Returns:
        The configured encoder.

    Raises:
        artifex_core.UnknownNameError: If ``encoder_type`` is not registered.

    Example:
        >>> from flax import nnx
        >>> enc = create_encoder_unified(config=ModelConfig(input_dim=(8,), latent_dim=2, hidden_dims=(4,)),
        ...                              encoder_type="dense", rngs=nnx.Rngs(0))
        >>> type(enc).__name__
        'MLPEncoder'
    """
    spec_kwargs = {
        "hidden_dims": list(config.hidden_dims),
        "latent_dim": config.latent_dim,
        "activation": config.activation,
        "input_dim": tuple(config.input_dim),
    }
    return _build(
        encoders, encoder_type, config, spec_kwargs, config.encoder_kwargs, conditional, num_classes, embed_dim, rngs
    )


def create_decoder_unified(
    *,
    config: ModelConfig,
    decoder_type: str,
    conditional: bool = False,
    num_classes: int | None = None,
    embed_dim: int | None = None,
    rngs: nnx.Rngs,
) -> nnx.Module:
    """Create a decoder from a unified configuration.

    The decoder's widths are ``config.decoder_hidden_dims`` (by default ``hidden_dims`` reversed), used in
    the order given: decoders never reverse them themselves.

    Args:
        config: Model configuration.
        decoder_type: "dense" (= "mlp"), "cnn", "resnet" or any registered decoder name or qualified id.
        conditional: Wrap it in the conditional decoder.
        num_classes: Number of classes for conditioning.
        embed_dim: Label embedding dimension (default 32).
        rngs: Random number generators.

    Returns:
        The configured decoder.

    Example:
        >>> from flax import nnx
        >>> dec = create_decoder_unified(config=ModelConfig(input_dim=(8,), latent_dim=2, hidden_dims=(4,)),
        ...                              decoder_type="mlp", rngs=nnx.Rngs(0))
        >>> dec.output_dim
        (8,)
    """
    spec_kwargs = {
        "hidden_dims": list(config.decoder_hidden_dims or ()),
        "output_dim": tuple(config.output_dim or config.input_dim),
        "latent_dim": config.latent_dim,
        "activation": config.activation,
    }
    return _build(
        decoders, decoder_type, config, spec_kwargs, config.decoder_kwargs, conditional, num_classes, embed_dim, rngs
    )


def create_model(config: ModelConfig, *, rngs: nnx.Rngs) -> nnx.Module:
    """Build the registered variant ``config.model`` with its encoder and decoder.

    Args:
        config: The model configuration.
        rngs: Random number generators (also the model's own sampling stream).

    Returns:
        The model, e.g. a ``BetaVAEWithCapacity`` for ``model="beta_vae_capacity"``.
    """
    cls = models.get(config.model)
    if hasattr(cls, "from_config"):
        return cls.from_config(config, rngs=rngs)
    cond, classes, embed = config.conditional, config.num_classes, config.embed_dim
    encoder = create_encoder_unified(
        config=config, encoder_type=config.encoder, conditional=cond, num_classes=classes, embed_dim=embed, rngs=rngs
    )
    decoder = create_decoder_unified(
        config=config, decoder_type=config.decoder, conditional=cond, num_classes=classes, embed_dim=embed, rngs=rngs
    )
    params = config.resolved_parameters()
    return cls(encoder=encoder, decoder=decoder, latent_dim=config.latent_dim, rngs=rngs, **params)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a glob pattern, e.g. ``list_models("beta*")``."""
    return models.names(pattern)


def list_encoders(pattern: str = "*") -> list[str]:
    """Registered encoder names matching a glob pattern."""
    return encoders.names(pattern)


def list_decoders(pattern: str = "*") -> list[str]:
    """Registered decoder names matching a glob pattern."""
    return decoders.names(pattern)


def list_losses(pattern: str = "*") -> list[str]:
    """Registered loss names matching a glob pattern."""
    return losses.names(pattern)

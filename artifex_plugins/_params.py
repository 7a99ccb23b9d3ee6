"""Pydantic models of each built-in variant's own arguments (``ModelConfig.parameters``).

Pure pydantic, no JAX: :class:`artifex_core.ModelConfig` validates ``parameters`` against these without
importing a model. Field names and defaults mirror the constructors in the spec. Each subclasses
:class:`artifex_core.VariantParams` and declares its likelihood: the loss its ``reconstruction_loss_type`` names.

Example:
    >>> BetaVAEParams(beta_default=4.0).beta_warmup_steps
    0
    >>> VAEParams(reconstruction_loss_type="bce").likelihood(), ConditionalVAEParams.requires_condition
    ('bce', True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from artifex_core._params import VariantParams

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core._config import ModelConfig

__all__ = [
    "BetaVAECapacityParams",
    "BetaVAEParams",
    "ConditionalVAEParams",
    "VAEParams",
    "VQVAEParams",
]


class _ReconstructionParams(VariantParams):
    """A variant whose likelihood is the loss its ``reconstruction_loss_type`` field names.

    Each subclass declares that field itself, so its fields keep the order of its constructor.
    """

    if TYPE_CHECKING:  # pragma: no cover - declared by each subclass, in its own field order
        reconstruction_loss_type: str

    def likelihood(self) -> str | None:
        """The registered loss of the reconstruction term: ``reconstruction_loss_type``."""
        return self.reconstruction_loss_type


class VAEParams(_ReconstructionParams):
    """Arguments of :class:`artifex_plugins.vae.VAE` beyond encoder, decoder and latent_dim."""

    kl_weight: float = Field(1.0, ge=0, description="Weight of the KL term (beta).")
    reconstruction_loss_type: str = Field(
        "mse", description="Registered reconstruction loss (likelihood): mse, bce, l1 or a plugin's."
    )
    reconstruction_loss_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="The reconstruction loss's own parameters (e.g. Huber's delta)."
    )


class BetaVAEParams(_ReconstructionParams):
    """Arguments of :class:`artifex_plugins.vae.BetaVAE`."""

    beta_default: float = Field(1.0, ge=0, description="Default beta weighting the KL term.")
    beta_warmup_steps: NonNegativeInt = Field(0, description="Steps of linear beta warmup (0: none).")
    reconstruction_loss_type: str = Field("mse", description="Registered reconstruction loss.")
    reconstruction_loss_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="The reconstruction loss's own parameters (e.g. Huber's delta)."
    )


class BetaVAECapacityParams(BetaVAEParams):
    """Arguments of :class:`artifex_plugins.vae.BetaVAEWithCapacity` (Burgess et al. capacity control)."""

    use_capacity_control: bool = Field(False, description="Replace beta*KL by gamma*|KL - C(t)|.")
    capacity_max: float = Field(25.0, ge=0, description="Maximum capacity C_max in nats.")
    capacity_num_iter: PositiveInt = Field(25000, description="Steps for C(t) to reach C_max.")
    gamma: float = Field(1000.0, ge=0, description="Weight of the capacity loss.")


class ConditionalVAEParams(_ReconstructionParams):
    """Arguments of :class:`artifex_plugins.vae.ConditionalVAE`."""

    requires_condition: ClassVar[bool] = True

    condition_dim: PositiveInt = Field(10, description="Number of classes of the condition.")
    condition_type: str = Field("concat", description="Conditioning strategy.")
    kl_weight: float = Field(1.0, ge=0, description="Weight of the KL term.")
    reconstruction_loss_type: str = Field("mse", description="Registered reconstruction loss.")
    reconstruction_loss_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="The reconstruction loss's own parameters (e.g. Huber's delta)."
    )

    @classmethod
    def config_defaults(cls, config: ModelConfig) -> dict[str, Any]:
        """``condition_dim`` defaults to the config's ``num_classes`` (the conditional wrappers' width)."""
        return {"condition_dim": config.num_classes} if config.num_classes else {}

    @classmethod
    def check_config(cls, config: ModelConfig) -> None:
        """A ``condition_dim`` given beside ``num_classes`` must equal it (both size the condition)."""
        given = config.parameters.get("condition_dim")
        if given is not None and config.num_classes is not None and given != config.num_classes:
            raise ValueError(
                f"parameters.condition_dim: {given} differs from num_classes={config.num_classes}; "
                "drop parameters.condition_dim (it defaults to num_classes)"
            )


class VQVAEParams(_ReconstructionParams):
    """Arguments of :class:`artifex_plugins.vae.VQVAE`."""

    num_embeddings: PositiveInt = Field(512, description="Codebook size.")
    embedding_dim: PositiveInt = Field(64, description="Dimension of each code vector.")
    commitment_cost: PositiveFloat = Field(0.25, description="Weight of the commitment loss.")
    use_ema: bool = Field(False, description="Update the codebook by exponential moving averages.")
    ema_decay: float = Field(0.99, gt=0, lt=1, description="Decay of the EMA codebook updates.")
    reconstruction_loss_type: str = Field("mse", description="Registered reconstruction loss.")
    reconstruction_loss_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="The reconstruction loss's own parameters (e.g. Huber's delta)."
    )

    @classmethod
    def check_config(cls, config: ModelConfig) -> None:
        """Cross-field check: each latent vector splits into whole codes of ``embedding_dim``."""
        embedding_dim = cls.model_validate(config.parameters).embedding_dim
        if config.latent_dim % embedding_dim:
            raise ValueError(
                f"parameters.embedding_dim: latent_dim ({config.latent_dim}) must be a multiple of embedding_dim "
                f"({embedding_dim}); e.g. set parameters.embedding_dim={config.latent_dim}"
            )

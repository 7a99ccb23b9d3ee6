"""The parameters of the zoo's models (``ModelConfig.parameters``), each an :class:`artifex_core.VariantParams`.

Pure pydantic, no JAX: ``ModelConfig`` validates ``parameters`` against these without importing a model.

Example:
    >>> IWAEParams(k=10).k, PIWAEParams().num_outer, DIPVAEParams(dip_type="ii").lambda_d
    (10, 8, 100.0)
    >>> IWAEParams(reconstruction_loss_type="bce").likelihood()
    'bce'
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from artifex_core import VariantParams

__all__ = [
    "DIPVAEParams",
    "HierarchicalVAEParams",
    "IWAEParams",
    "InfoVAEParams",
    "MIWAEParams",
    "PIWAEParams",
    "VampPriorParams",
]

_LOSS = "Registered reconstruction loss (likelihood): mse, bce, l1 or a plugin's."


class _ZooParams(VariantParams):
    """A zoo model whose likelihood is the loss its ``reconstruction_loss_type`` names."""

    reconstruction_loss_type: str = Field("mse", description=_LOSS)

    def likelihood(self) -> str | None:
        """The registered loss of the reconstruction term: ``reconstruction_loss_type``."""
        return self.reconstruction_loss_type


class IWAEParams(_ZooParams):
    """Arguments of :class:`artifex_zoo.IWAE`.

    Attributes:
        k: Importance samples per example in the training bound (1: the ELBO).
    """

    k: PositiveInt = Field(5, description="Importance samples per example (1: the ELBO).")


class MIWAEParams(_ZooParams):
    """Arguments of :class:`artifex_zoo.MIWAE`.

    Attributes:
        num_outer: M, the number of IWAE bounds averaged.
        num_inner: K, the importance samples of each bound.
    """

    num_outer: PositiveInt = Field(8, description="M: independent IWAE bounds averaged.")
    num_inner: PositiveInt = Field(8, description="K: importance samples per bound.")


class PIWAEParams(MIWAEParams):
    """Arguments of :class:`artifex_zoo.PIWAE`: the decoder's bound uses all M*K samples, the encoder's M of K."""


class VampPriorParams(_ZooParams):
    """Arguments of :class:`artifex_zoo.VampPrior`.

    Attributes:
        num_pseudo_inputs: K, the learned pseudo-inputs of the prior ``p(z) = 1/K sum_k q(z | u_k)``.
        pseudo_input_mean: Initial value of the pseudo-inputs (data space, clipped to [0, 1]).
        pseudo_input_std: Standard deviation of their random initialisation.
        kl_weight: Weight of the (Monte Carlo) KL term.
    """

    num_pseudo_inputs: PositiveInt = Field(500, description="K: learned pseudo-inputs of the prior.")
    pseudo_input_mean: float = Field(0.05, ge=0, le=1, description="Initial pseudo-input value (data space).")
    pseudo_input_std: float = Field(0.01, ge=0, description="Standard deviation of the pseudo-inputs' init.")
    kl_weight: float = Field(1.0, ge=0, description="Weight of the Monte Carlo KL term.")


class HierarchicalVAEParams(_ZooParams):
    """Arguments of :class:`artifex_zoo.HierarchicalVAE` (two stochastic layers).

    Attributes:
        top_latent_dim: Size of the top latent z2 (``latent_dim`` is z1's).
        top_hidden_dims: Hidden widths of the networks of ``q(z2 | z1)`` and ``p(z1 | z2)``.
        k: Importance samples of the training bound (1: the ELBO).
    """

    top_latent_dim: PositiveInt = Field(16, description="Size of the top latent z2.")
    top_hidden_dims: tuple[PositiveInt, ...] = Field((128,), description="Hidden widths of q(z2|z1), p(z1|z2).")
    k: PositiveInt = Field(1, description="Importance samples of the training bound (1: the ELBO).")


class DIPVAEParams(_ZooParams):
    """Arguments of :class:`artifex_zoo.DIPVAE`.

    Attributes:
        dip_type: ``"i"``: the covariance of the posterior means; ``"ii"``: of the whole ``q(z)``.
        lambda_od: Weight of the off-diagonal penalty ``sum_{i != j} Cov_ij^2``.
        lambda_d: Weight of the diagonal penalty ``sum_i (Cov_ii - 1)^2``.
        kl_weight: Weight of the KL term.
    """

    dip_type: Literal["i", "ii"] = Field("i", description="i: Cov of the means; ii: Cov of q(z).")
    lambda_od: float = Field(10.0, ge=0, description="Weight of the off-diagonal covariance penalty.")
    lambda_d: float = Field(100.0, ge=0, description="Weight of the diagonal covariance penalty.")
    kl_weight: float = Field(1.0, ge=0, description="Weight of the KL term.")


class InfoVAEParams(_ZooParams):
    """Arguments of :class:`artifex_zoo.InfoVAE` (MMD-VAE: ``alpha = 1``).

    Attributes:
        alpha: The KL weighs ``1 - alpha``.
        lambda_: The MMD weighs ``alpha + lambda_ - 1``.
        kernel: ``"rbf"`` or ``"imq"``.
        kernel_bandwidth: sigma; the kernel scale is ``C = 2 * latent_dim * sigma**2``.
    """

    alpha: float = Field(0.0, le=1, description="Information weight: the KL weighs 1 - alpha.")
    lambda_: float = Field(10.0, ge=0, description="The MMD weighs alpha + lambda_ - 1.")
    kernel: Literal["rbf", "imq"] = Field("imq", description="MMD kernel: rbf or imq.")
    kernel_bandwidth: float = Field(1.0, gt=0, description="sigma: kernel scale C = 2 * latent_dim * sigma^2.")

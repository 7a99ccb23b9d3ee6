"""The parameters of FactorVAE (``ModelConfig.parameters``), an :class:`artifex_core.VariantParams`; no JAX.

Example:
    >>> p = FactorVAEParams(gamma=6.4, discriminator_hidden=[256, 256])
    >>> p.gamma, p.discriminator_hidden, p.likelihood()
    (6.4, (256, 256), 'mse')
"""

from __future__ import annotations

from pydantic import Field, PositiveInt

from artifex_core import VariantParams

__all__ = ["FactorVAEParams"]


class FactorVAEParams(VariantParams):
    """Arguments of :class:`artifex_zoo.FactorVAE` beyond encoder, decoder and latent_dim.

    The discriminator's optimizer is the trainer's ``discriminator`` parameter group (Adam, lr 1e-4,
    β = (0.5, 0.9) by default), set with ``train.group_optimizers``.

    Attributes:
        gamma: Weight γ of the total-correlation estimate in the VAE's loss.
        discriminator_hidden: Hidden widths of the discriminator MLP (the paper: five of 1000).
        reconstruction_loss_type: Registered reconstruction loss (likelihood): mse, bce, l1 or a plugin's.
    """

    gamma: float = Field(10.0, ge=0, description="Weight of the total correlation (the paper's gamma).")
    discriminator_hidden: tuple[PositiveInt, ...] = Field(
        (1000, 1000, 1000, 1000, 1000), description="Hidden widths of the discriminator MLP."
    )
    reconstruction_loss_type: str = Field("mse", description="Registered reconstruction loss.")

    def likelihood(self) -> str | None:
        """The registered loss of the reconstruction term: ``reconstruction_loss_type``."""
        return self.reconstruction_loss_type

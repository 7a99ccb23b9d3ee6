"""The VAE family, mirroring the spec's ``artifex.generative_models.models.vae``.

Example:
    >>> from artifex_plugins.vae import VAE, BetaVAE, BetaVAEWithCapacity, ConditionalVAE, VQVAE
    >>> issubclass(BetaVAEWithCapacity, BetaVAE) and issubclass(VQVAE, VAE)
    True
"""

from artifex_plugins.vae.base import VAE
from artifex_plugins.vae.beta_vae import BetaVAE, BetaVAEWithCapacity
from artifex_plugins.vae.conditional import ConditionalVAE
from artifex_plugins.vae._latents import GaussianLatent, LatentStrategy, VectorQuantizedLatent
from artifex_plugins.vae.vq_vae import VQVAE

__all__ = [
    "VAE",
    "BetaVAE",
    "BetaVAEWithCapacity",
    "ConditionalVAE",
    "GaussianLatent",
    "LatentStrategy",
    "VQVAE",
    "VectorQuantizedLatent",
]

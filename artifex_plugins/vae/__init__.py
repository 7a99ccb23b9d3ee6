"""The VAE family, mirroring the spec's ``artifex.generative_models.models.vae``.

This ``__init__`` is the family's public API. The spec's modules stay public too (``base``, ``beta_vae``,
``conditional``, ``vq_vae``, ``encoders``, ``decoders``); the building blocks behind them (layers,
latent strategies, losses, activations) are private modules, their public names re-exported here.

Example:
    >>> from artifex_plugins.vae import VAE, BetaVAE, BetaVAEWithCapacity, ConditionalVAE, VQVAE
    >>> issubclass(BetaVAEWithCapacity, BetaVAE) and issubclass(VQVAE, VAE)
    True
"""

from artifex_plugins.vae._activations import ACTIVATION_NAMES, ACTIVATIONS, Activation, get_activation
from artifex_plugins.vae._blocks import (
    ConvBlock,
    ResidualBlock,
    ResidualDownBlock,
    ResidualUpBlock,
    Stage,
    SubPixelUpsample,
)
from artifex_plugins.vae._embedding import LabelEmbedding
from artifex_plugins.vae._latents import (
    CodeUsage,
    GaussianLatent,
    LatentStrategy,
    VectorQuantizedLatent,
    reparameterize,
)
from artifex_plugins.vae._losses import (
    CallableLoss,
    ReconstructionLoss,
    as_likelihood,
    bce,
    kl_divergence,
    l1,
    mse,
    resolve_loss,
    sum_per_example,
)
from artifex_plugins.vae._quantizer import vector_quantize
from artifex_plugins.vae.base import VAE
from artifex_plugins.vae.beta_vae import BetaVAE, BetaVAEWithCapacity
from artifex_plugins.vae.conditional import ConditionalVAE
from artifex_plugins.vae.decoders import CNNDecoder, ConditionalDecoder, MLPDecoder, ResNetDecoder
from artifex_plugins.vae.encoders import CNNEncoder, ConditionalEncoder, MLPEncoder, ResNetEncoder
from artifex_plugins.vae.vq_vae import VQVAE

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_NAMES",
    "VAE",
    "VQVAE",
    "Activation",
    "BetaVAE",
    "BetaVAEWithCapacity",
    "CNNDecoder",
    "CNNEncoder",
    "CallableLoss",
    "CodeUsage",
    "ConditionalDecoder",
    "ConditionalEncoder",
    "ConditionalVAE",
    "ConvBlock",
    "GaussianLatent",
    "LabelEmbedding",
    "LatentStrategy",
    "MLPDecoder",
    "MLPEncoder",
    "ReconstructionLoss",
    "ResNetDecoder",
    "ResNetEncoder",
    "ResidualBlock",
    "ResidualDownBlock",
    "ResidualUpBlock",
    "Stage",
    "SubPixelUpsample",
    "VectorQuantizedLatent",
    "as_likelihood",
    "bce",
    "get_activation",
    "kl_divergence",
    "l1",
    "mse",
    "reparameterize",
    "resolve_loss",
    "sum_per_example",
    "vector_quantize",
]

"""The built-in plugin: registers artifex's own encoders, decoders, losses, models, datasets, recipes, metrics,
loggers and samplers.

It goes through the same ``artifex.plugins`` entry point as any third-party package and registers lazy
``"module:attr"`` strings only, so listing names imports neither JAX nor Flax.
"""

from __future__ import annotations

from artifex_core._config import ACTIVATIONS_META
from artifex_core._plugins import hookimpl
from artifex_core._registry import Registries
from artifex_core._xla_tuning import XLA_FLAGS_META

_VAE = "artifex_plugins.vae"
_PARAMS = "artifex_plugins._params"
_DATA = "artifex_plugins.data"
_RECIPES = "artifex_plugins._recipes"

RECIPE_SUMMARIES: dict[str, str] = {
    "default": "Bernoulli MLP VAE on MNIST, 100 epochs (plain `artifex train`; the base of other models' fallback)",
    "vae": "Bernoulli MLP VAE on MNIST, 100 epochs",
    "beta_vae": "Bernoulli MLP beta-VAE on MNIST, 100 epochs",
    "beta_vae_capacity": "Bernoulli MLP beta-VAE with capacity control on MNIST, 100 epochs",
    "conditional_vae": "Bernoulli MLP conditional VAE (KL weight 1.5) on MNIST and its labels, 100 epochs",
    "vqvae": "Gaussian MLP VQ-VAE (128 codes of 16) on MNIST, 30 epochs",
}
"""The built-in recipes (``artifex_plugins._recipes:NAME_RECIPE``) and their summaries."""

_NETWORKS: dict[str, dict[str, tuple[str, str]]] = {
    "encoder": {
        "mlp": ("MLPEncoder", "Fully-connected encoder"),
        "cnn": ("CNNEncoder", "Stride-2 convolutional encoder"),
        "resnet": ("ResNetEncoder", "Residual convolutional encoder"),
        "conditional": ("ConditionalEncoder", "Wrapper adding class conditioning to any encoder"),
    },
    "decoder": {
        "mlp": ("MLPDecoder", "Fully-connected decoder"),
        "cnn": ("CNNDecoder", "Convolutional decoder (sub-pixel upsampling)"),
        "resnet": ("ResNetDecoder", "Residual convolutional decoder"),
        "conditional": ("ConditionalDecoder", "Wrapper adding class conditioning to any decoder"),
    },
}
"""The built-in encoders and decoders: name -> (class in ``artifex_plugins.vae.encoders`` / ``.decoders``,
summary). ``mlp`` is also ``dense``; ``conditional`` is the wrapper of the others."""

_YNN_ALL = "--xla_cpu_experimental_ynn_fusion_type=dot,eltwise,reduce"
_YNN_REDUCE = "--xla_cpu_experimental_ynn_fusion_type=reduce"
_XLA_FLAGS: dict[str, dict[str, object]] = {
    "cnn": {"flags": [_YNN_ALL], "jaxlib": ">=0.10.2,<0.11"},
    "resnet": {"flags": [_YNN_REDUCE], "jaxlib": ">=0.10.2,<0.11"},
}
"""The XLA:CPU flags measured fastest and correct per network family (``benchmarks/xla_flags.py``,
docs/benchmarks.md "XLA:CPU flag study"): YNNPACK's fused dot/eltwise/reduce kernels for the CNN encoder and
decoder; its reduce fusions only for the ResNet (the sets with eltwise moved one gradient leaf by 1.5e-4, over
the study's 1e-4 tolerance); none for the MLPs (slower with them). Applied by ``artifex train``
(:func:`artifex_core.tune_xla`)."""

_ACTIVATION_NAMES = f"{_VAE}._activations:ACTIVATION_NAMES"
"""Where the activation names the built-in encoders and decoders take are listed (read without importing)."""


@hookimpl
def artifex_register(registry: Registries) -> None:
    """Register the built-in components on ``registry``."""
    for kind, parts in _NETWORKS.items():
        target = getattr(registry, f"{kind}s")
        for name, (cls, summary) in parts.items():
            target.register(
                name,
                f"{_VAE}.{kind}s:{cls}",
                aliases=("dense",) if name == "mlp" else (),
                summary=summary,
                meta=(
                    {"wrapper": True}
                    if name == "conditional"
                    else {ACTIVATIONS_META: _ACTIVATION_NAMES, **({XLA_FLAGS_META: _XLA_FLAGS[name]} if name in _XLA_FLAGS else {})}
                ),
            )

    loss = registry.losses
    loss.register("mse", f"{_VAE}._losses:mse", summary="Gaussian likelihood: sum of squared errors")
    loss.register(
        "bce",
        f"{_VAE}._losses:bce",
        summary="Bernoulli likelihood: binary cross-entropy from logits",
        meta={"binary_data": True},  # binarize="auto" binarizes for it
    )
    loss.register("l1", f"{_VAE}._losses:l1", summary="Laplace likelihood: sum of absolute errors")

    data = registry.datasets
    data.register("mnist", f"{_DATA}._mnist:load_mnist", summary="MNIST digits, 60k/10k, shipped in the package")
    data.register(
        "fashion_mnist",
        f"{_DATA}._fashion_mnist:load_fashion_mnist",
        summary="Fashion-MNIST from Debian's dataset-fashion-mnist",
    )
    data.register("npz", "artifex_core.data._files:load_npz", summary="Your .npz file (x_train/x_test or x, labels)")
    data.register(
        "image_folder",
        "artifex_core.data._files:load_image_folder",
        summary="Your folder of images (one sub-folder per class)",
    )

    m = registry.models
    m.register("vae", f"{_VAE}.base:VAE", summary="Variational autoencoder", params=f"{_PARAMS}:VAEParams")
    m.register(
        "beta_vae",
        f"{_VAE}.beta_vae:BetaVAE",
        summary="beta-VAE with optional beta warmup",
        params=f"{_PARAMS}:BetaVAEParams",
    )
    m.register(
        "beta_vae_capacity",
        f"{_VAE}.beta_vae:BetaVAEWithCapacity",
        summary="beta-VAE with Burgess et al. capacity control",
        params=f"{_PARAMS}:BetaVAECapacityParams",
    )
    m.register(
        "conditional_vae",
        f"{_VAE}.conditional:ConditionalVAE",
        summary="Class-conditional VAE",
        params=f"{_PARAMS}:ConditionalVAEParams",
    )
    m.register(
        "vqvae",
        f"{_VAE}.vq_vae:VQVAE",
        summary="Vector-quantized VAE (straight-through, optional EMA codebook)",
        params=f"{_PARAMS}:VQVAEParams",
    )

    # -- loggers ------------------------------------------------------------------------------------------
    # The run folder's own metrics.jsonl: the class is the core's (its format is the run folder's), the name
    # is registered here like any plugin's logger. The trainer always attaches it.
    registry.loggers.register(
        "jsonl",
        "artifex_core.training._loggers:JsonlLogger",
        summary="metrics.jsonl in the run folder: one JSON row per epoch (always on)",
    )
    registry.loggers.register(
        "tensorboard",
        "artifex_plugins.loggers._tensorboard:TensorBoardLogger",
        aliases=("tb",),
        summary="TensorBoard event files in RUN/tensorboard/: scalars, pictures, hyperparameters",
    )

    # -- samplers: how a trained model generates (``artifex sample --sampler NAME``) --------------------------
    registry.samplers.register(
        "prior", "artifex_plugins._samplers:PriorSampler", summary="Decode draws from the prior (the default)"
    )
    registry.samplers.register(
        "gmm",
        "artifex_plugins._samplers:GaussianMixtureSampler",
        summary="Gaussian mixture fitted on the training posterior means (ex-post density estimation)",
    )

    # -- recipes ------------------------------------------------------------------------------------------
    for name, summary in RECIPE_SUMMARIES.items():
        registry.recipes.register(name, f"{_RECIPES}:{name.upper()}_RECIPE", summary=summary)

    # -- metrics and the dSprites dataset (artifex_plugins.metrics, artifex_plugins.data._dsprites) ------------
    registry.datasets.register(
        "dsprites",
        "artifex_plugins.data._dsprites:load_dsprites_dataset",
        summary="Procedural dSprites: 3 shapes x 6 scales x 40 rotations x 32x32 positions, 64x64 binary",
    )
    met, metrics = registry.metrics, "artifex_plugins.metrics"
    met.register("test_loss", "artifex_core.evaluation._loss:LossMetric", summary="Test loss and its terms (loss_fn)")
    met.register("elbo", f"{metrics}._elbo:ELBO", summary="Test ELBO, -ELBO and bits/dim (Gaussian latent)")
    met.register("iwae", f"{metrics}._likelihood:IWAEBound", summary="Importance-weighted bound (NLL if normalised)")
    met.register("active_units", f"{metrics}._latents:ActiveUnits", summary="Latent dimensions in use")
    met.register("vq_usage", f"{metrics}._vq:CodebookUsage", summary="Codebook: NMSE, perplexity, codes used")
    met.register(
        "conditional_accuracy",
        f"{metrics}._classifier:ConditionalSampleAccuracy",
        summary="Classifier accuracy of class-conditional samples",
    )
    met.register(
        "disentanglement",
        f"{metrics}._dsprites_eval:DSpritesDisentanglement",
        summary="MIG and FactorVAE score on procedural dSprites",
    )

"""VampPrior (Tomczak and Welling 2018): a VAE whose prior is the mixture of its posteriors at K pseudo-inputs.

    p_lambda(z) = (1/K) sum_k q(z | u_k),        u_k: learned pseudo-inputs in data space,

    loss = reconstruction + kl_weight * E_q[log q(z | x) - log p_lambda(z)]

with the KL estimated by Monte Carlo on the forward pass's sample ``z`` (no closed form for a mixture). The
pseudo-inputs are parameters, kept in [0, 1] by a hard tanh (a clip), as in the paper's MNIST setting.
``sample`` draws from the mixture prior. The model declares ``latent_type = "vampprior"``: the built-in
metrics that assume ``p(z) = N(0, I)`` do not apply, and the zoo's ``zoo_iwae`` metric estimates its NLL
from :meth:`~artifex_zoo.VampPrior.log_importance_weights`, which uses this prior.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from artifex_core import ModelConfig, create_model
    >>> cfg = ModelConfig(model="vampprior", input_dim=(6,), latent_dim=2, hidden_dims=(8,),
    ...                   parameters={"num_pseudo_inputs": 3})
    >>> model = create_model(cfg, rngs=nnx.Rngs(0))
    >>> model.pseudo_inputs().shape, model.sample(4).shape
    ((3, 6), (4, 6))
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae.base import check_n_samples, draw_key
from artifex_zoo._bounds import gaussian_log_density
from artifex_zoo._objective import penalised_terms
from artifex_zoo._weighted import ImportanceWeightedVAE

__all__ = ["VampPrior", "mixture_log_density"]


def mixture_log_density(z: jax.Array, means: jax.Array, log_vars: jax.Array) -> jax.Array:
    """``log (1/K) sum_k N(z; means_k, exp(log_vars_k))`` for ``z`` ``(..., D)`` and components ``(K, D)``.

    Example:
        >>> z = jnp.zeros((1, 1))
        >>> same = mixture_log_density(z, jnp.zeros((3, 1)), jnp.zeros((3, 1)))  # K equal components
        >>> bool(jnp.allclose(same, gaussian_log_density(z, jnp.zeros(1), jnp.zeros(1))))
        True
    """
    per_component = gaussian_log_density(z[..., None, :], means, log_vars)  # (..., K)
    return jax.nn.logsumexp(per_component, axis=-1) - math.log(means.shape[0])


class VampPrior(ImportanceWeightedVAE):
    """A VAE with the variational mixture of posteriors prior.

    Args:
        encoder: Maps inputs to ``(mean, log_var)``; it also encodes the pseudo-inputs.
        decoder: Maps latents to raw outputs.
        latent_dim: Latent size.
        rngs: Random number generators (initialise the pseudo-inputs; the model's stream).
        num_pseudo_inputs: K.
        pseudo_input_mean: Initial pseudo-input value (data space).
        pseudo_input_std: Standard deviation of the pseudo-inputs' random initialisation.
        kl_weight: Weight of the KL term.
        reconstruction_loss_type: Registered likelihood.
        precision: Matmul precision of the layers.

    Raises:
        ValueError: If the example shape cannot be read from the decoder's ``output_dim`` or the encoder's
            ``input_dim``, or ``num_pseudo_inputs < 1``.
    """

    latent_type: ClassVar[str] = "vampprior"
    """Not ``"gaussian"``: the prior is a learned mixture, not ``N(0, I)``."""

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        num_pseudo_inputs: int = 500,
        pseudo_input_mean: float = 0.05,
        pseudo_input_std: float = 0.01,
        kl_weight: float = 1.0,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
    ) -> None:
        super().__init__(
            encoder, decoder, latent_dim, rngs=rngs, kl_weight=kl_weight, precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
        )
        if isinstance(num_pseudo_inputs, bool) or not isinstance(num_pseudo_inputs, int) or num_pseudo_inputs < 1:
            raise ValueError(f"num_pseudo_inputs must be an integer >= 1, got {num_pseudo_inputs!r}")
        shape = getattr(decoder, "output_dim", None) or getattr(encoder, "input_dim", None)
        if not shape:
            raise ValueError("VampPrior needs the example shape: the decoder's output_dim or the encoder's input_dim")
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)
        init = pseudo_input_mean + pseudo_input_std * jax.random.normal(rngs.params(), (num_pseudo_inputs, *shape))
        self.pseudo_input_params = nnx.Param(init)
        self.num_pseudo_inputs = num_pseudo_inputs

    def pseudo_inputs(self) -> jax.Array:
        """The K pseudo-inputs ``u_k`` in data space: the parameters through a hard tanh onto [0, 1]."""
        return jnp.clip(self.pseudo_input_params[...], 0.0, 1.0)

    def prior_components(self) -> tuple[jax.Array, jax.Array]:
        """``(means, log_vars)`` ``(K, D)`` of the prior's components ``q(z | u_k)``."""
        return self.encode(self.pseudo_inputs())

    def log_prior(self, z: jax.Array) -> jax.Array:
        """``log p(z) = log (1/K) sum_k q(z | u_k)``, shape ``z.shape[:-1]``."""
        means, log_vars = self.prior_components()
        return mixture_log_density(z, means, log_vars)

    def loss_terms(
        self, x: jax.Array, outputs: dict[str, Any], reconstruction_loss: jax.Array, *, beta: Any = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """``loss = reconstruction_loss + weight * kl_loss``, ``kl_loss = mean(log q(z|x) - log p(z))`` (MC)."""
        z = outputs["z"]
        kl = jnp.mean(gaussian_log_density(z, outputs["mean"], outputs["log_var"]) - self.log_prior(z))
        weight = self.kl_weight if beta is None else beta
        return penalised_terms({"reconstruction_loss": reconstruction_loss}, {"kl_loss": (weight, kl)})

    def sample_prior(self, n_samples: int, *, temperature: float = 1.0, key: jax.Array | None = None) -> jax.Array:
        """``n`` latents from the mixture: a uniform component ``k``, then ``z ~ N(mu_k, T^2 sigma_k^2)``."""
        key = draw_key(self.rngs) if key is None else key
        pick, noise = jax.random.split(key)
        means, log_vars = self.prior_components()
        k = jax.random.randint(pick, (n_samples,), 0, self.num_pseudo_inputs)
        eps = jax.random.normal(noise, (n_samples, means.shape[-1]), means.dtype)
        return means[k] + temperature * jnp.exp(0.5 * jnp.clip(log_vars[k], -20.0, 20.0)) * eps

    def sample(self, n_samples: int = 1, *, temperature: float = 1.0, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Sample from the VampPrior, decoded to data space."""
        n_samples = check_n_samples(n_samples, type(self).__name__)
        key = draw_key(rngs) if rngs is not None else None
        return self.decode(self.sample_prior(n_samples, temperature=temperature, key=key), rngs=rngs)

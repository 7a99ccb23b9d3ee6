"""The zoo's standard objective: a VAE's loss terms plus weighted penalties, in the spec's output keys.

Most zoo models minimise ``reconstruction + weight * KL + sum_i lambda_i * penalty_i`` (per example, batch
mean) and report every term under its own key next to ``reconstruction_loss``, ``kl_loss`` and ``loss``
(:meth:`artifex_plugins.vae.VAE.loss_terms`' keys; ``loss_fn`` adds the aliases ``recon_loss`` and
``total_loss``). :func:`penalised_terms` assembles that dict once. The k-sample bounds (IWAE, MIWAE, PIWAE,
the two-layer VAE) replace ``loss`` by a bound instead and do not use it.

Example:
    >>> import jax.numpy as jnp
    >>> terms = {"reconstruction_loss": jnp.array(2.0), "kl_loss": jnp.array(1.0), "loss": jnp.array(3.0)}
    >>> out = penalised_terms(terms, {"mmd_loss": (4.0, jnp.array(0.5))})
    >>> {k: float(v) for k, v in out.items()}   # 3 + 4 * 0.5
    {'reconstruction_loss': 2.0, 'kl_loss': 1.0, 'loss': 5.0, 'mmd_loss': 0.5}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

__all__ = ["penalised_terms"]


def penalised_terms(
    terms: Mapping[str, jax.Array],
    penalties: Mapping[str, tuple[Any, jax.Array]],
    extra: Mapping[str, jax.Array] | None = None,
) -> dict[str, jax.Array]:
    """``terms`` with each penalty under its name and ``loss = terms["loss"] + sum_i weight_i * penalty_i``.

    Args:
        terms: The objective so far: at least ``reconstruction_loss``, usually the VAE's
            ``loss_terms`` (``kl_loss``, ``loss``). Without ``loss`` the sum starts at ``reconstruction_loss``.
        penalties: ``name -> (weight, value)``, added to ``loss`` in this order (``value`` a scalar).
        extra: Terms reported but not added to ``loss`` (e.g. another parameter group's own loss).

    Returns:
        ``terms``, then the penalties' values, then ``extra``; ``loss`` keeps its place in ``terms`` (last
        when ``terms`` has none).

    Example:
        >>> import jax.numpy as jnp
        >>> out = penalised_terms({"reconstruction_loss": jnp.array(1.0)}, {"kl_loss": (0.5, jnp.array(4.0))},
        ...                       extra={"accuracy": jnp.array(0.75)})
        >>> list(out), float(out["loss"])   # 1 + 0.5 * 4
        (['reconstruction_loss', 'kl_loss', 'accuracy', 'loss'], 3.0)
    """
    loss = terms["loss"] if "loss" in terms else terms["reconstruction_loss"]
    for weight, value in penalties.values():
        loss = loss + weight * value
    named = {name: value for name, (_, value) in penalties.items()}
    return {**terms, **named, **(extra or {}), "loss": loss}

"""Importance-weighted (IWAE) bounds on the log-likelihood of a Gaussian-latent VAE.

For each example the bound is (Burda et al. 2016)

    log p(x) >= log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x),    z_j ~ q(z | x) = N(mean, exp(log_var)),

with the prior ``p(z) = N(0, I)``. It equals the ELBO at ``k = 1``, never decreases in expectation as ``k``
grows, and tends to ``log p(x)``. The computation is batched over examples and chunked over the ``k``
samples (a running log-sum-exp), so memory stays bounded by ``batch_size * chunk`` decoder evaluations, and
it is jitted once per call.

The model enters through three plain functions: ``encode_fn(x) -> (mean, log_var)``, ``decode_fn(z) -> raw``
(raw decoder outputs, e.g. logits) and ``log_likelihood_fn(raw, x) -> (B,)``, the log-likelihood
``log p(x | z)`` of each example summed over its data dimensions. Conditional models take the condition as
a second argument of ``encode_fn`` and ``decode_fn``. :func:`model_iwae_nll` wires an artifex model up.

Example:
    >>> import jax, jax.numpy as jnp
    >>> sigma2 = 0.25  # p(z) = N(0, 1), p(x|z) = N(z, sigma2), so p(x) = N(0, 1 + sigma2)
    >>> encode = lambda x: (x / (1 + sigma2), jnp.full_like(x, jnp.log(sigma2 / (1 + sigma2))))
    >>> x = jnp.array([[0.5], [-1.0]])
    >>> bound = iwae_bound(encode, lambda z: z, gaussian_log_likelihood(sigma2 ** 0.5), x,
    ...                    k=8, key=jax.random.key(0))
    >>> exact = -0.5 * (jnp.log(2 * jnp.pi * (1 + sigma2)) + x[:, 0] ** 2 / (1 + sigma2))
    >>> bool(jnp.allclose(bound, exact, atol=1e-5))  # the exact posterior makes the bound exact
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "bernoulli_log_likelihood",
    "from_reconstruction_loss",
    "gaussian_log_likelihood",
    "iwae_bound",
    "iwae_nll",
    "model_iwae_nll",
]

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_VAR_MIN, _LOG_VAR_MAX = -20.0, 20.0

LogLikelihoodFn = Callable[[jax.Array, jax.Array], jax.Array]

# Normalising constants per data dimension that turn the registered losses into proper log-densities:
# "mse" sum (raw - x)^2 is a Gaussian with variance 1/2 (constant 0.5 * log(pi)); "l1" sum |raw - x| is a
# Laplace with scale 1 (constant log 2); "bce" is already a normalised Bernoulli log-probability.
_LOSS_CONSTANTS = {"mse": 0.5 * math.log(math.pi), "l1": math.log(2.0), "bce": 0.0}


def _sum_per_example(values: jax.Array) -> jax.Array:
    return values.reshape(values.shape[0], -1).sum(axis=-1)


def gaussian_log_likelihood(scale: float = 1.0) -> LogLikelihoodFn:
    """``(raw, x) -> (B,)``: sum over data dims of ``log N(x; raw, scale**2)``.

    Example:
        >>> ll = gaussian_log_likelihood(1.0)
        >>> round(float(ll(jnp.zeros((1, 1)), jnp.zeros((1, 1)))[0]), 4)  # -0.5 * log(2 pi)
        -0.9189
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    log_scale = math.log(scale)

    def log_likelihood(raw: jax.Array, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x, raw.dtype).reshape(raw.shape)
        terms = -0.5 * jnp.square((x - raw) / scale) - log_scale - 0.5 * _LOG_2PI
        return _sum_per_example(terms)

    return log_likelihood


def bernoulli_log_likelihood(logits: jax.Array, x: jax.Array) -> jax.Array:
    """Sum over data dims of ``log Bernoulli(x; sigmoid(logits))`` (``x`` in [0, 1]): shape ``(B,)``.

    Example:
        >>> round(float(bernoulli_log_likelihood(jnp.zeros((1, 2)), jnp.ones((1, 2)))[0]), 4)  # 2 log(1/2)
        -1.3863
    """
    x = jnp.asarray(x, logits.dtype).reshape(logits.shape)
    terms = x * jax.nn.log_sigmoid(logits) + (1.0 - x) * jax.nn.log_sigmoid(-logits)
    return _sum_per_example(terms)


def from_reconstruction_loss(loss: Any, *, normalize: bool = True) -> LogLikelihoodFn:
    """Turn a reconstruction loss (per-example NLL from raw outputs) into ``log_likelihood_fn``.

    Accepts the plugin's ``ReconstructionLoss`` objects (``per_example(raw, x) -> (B,)``) or any callable
    returning ``(B,)``. With ``normalize`` the known losses become proper log-densities in nats: ``mse``
    (a Gaussian of variance 1/2) gains ``0.5 log(pi)`` per data dimension, ``l1`` (a Laplace of scale 1)
    ``log 2``; ``bce`` and unknown losses are taken as they are.

    Example:
        >>> from artifex_plugins.vae.losses import mse
        >>> ll = from_reconstruction_loss(mse)
        >>> round(float(ll(jnp.zeros((1, 1)), jnp.zeros((1, 1)))[0]), 4)  # log N(0; 0, 1/2)
        -0.5724
    """
    per_example = getattr(loss, "per_example", loss)
    if not callable(per_example):
        raise TypeError(f"reconstruction loss {loss!r} is not callable")
    constant = _LOSS_CONSTANTS.get(getattr(loss, "name", ""), 0.0) if normalize else 0.0

    def log_likelihood(raw: jax.Array, x: jax.Array) -> jax.Array:
        nll = jnp.asarray(per_example(raw, x))
        return -nll - constant * (raw.size // raw.shape[0])

    return log_likelihood


def _log_weights_fn(
    encode_fn: Callable[..., Any],
    decode_fn: Callable[..., jax.Array],
    log_likelihood_fn: LogLikelihoodFn,
    k: int,
    chunk: int,
    conditional: bool,
) -> Callable[..., jax.Array]:
    """A function ``(x, y, key) -> (B,)`` computing the bound for one batch; chunked over samples."""
    n_chunks = -(-k // chunk)

    def bound(x: jax.Array, y: Any, key: jax.Array) -> jax.Array:
        extra = (y,) if conditional else ()
        mean, log_var = encode_fn(x, *extra)
        latent_shape = mean.shape[1:]
        b = mean.shape[0]
        mean = mean.reshape(b, -1)
        log_var = jnp.clip(log_var.reshape(b, -1), _LOG_VAR_MIN, _LOG_VAR_MAX)
        std = jnp.exp(0.5 * log_var)
        x_rep = jnp.broadcast_to(x[None], (chunk, *x.shape)).reshape(chunk * b, *x.shape[1:])
        y_rep = ()
        if conditional:
            y_arr = jnp.asarray(y)
            y_rep = (jnp.broadcast_to(y_arr[None], (chunk, *y_arr.shape)).reshape(chunk * b, *y_arr.shape[1:]),)

        def step(acc: jax.Array, i: jax.Array) -> tuple[jax.Array, None]:
            eps = jax.random.normal(jax.random.fold_in(key, i), (chunk, *mean.shape), mean.dtype)
            z = mean[None] + std[None] * eps
            raw = decode_fn(z.reshape(chunk * b, *latent_shape), *y_rep)
            log_px_z = jnp.asarray(log_likelihood_fn(raw, x_rep)).reshape(chunk, b)
            log_pz = -0.5 * jnp.sum(jnp.square(z) + _LOG_2PI, axis=-1)
            log_qz = -0.5 * jnp.sum(jnp.square(eps) + _LOG_2PI + log_var[None], axis=-1)
            log_w = log_px_z + log_pz - log_qz
            valid = (i * chunk + jnp.arange(chunk)) < k  # the last chunk may overshoot k
            log_w = jnp.where(valid[:, None], log_w, -jnp.inf)
            return jax.nn.logsumexp(jnp.concatenate([acc[None], log_w], axis=0), axis=0), None

        init = jnp.full((b,), -jnp.inf, mean.dtype)
        total, _ = jax.lax.scan(step, init, jnp.arange(n_chunks))
        return total - math.log(k)

    return bound


def iwae_bound(
    encode_fn: Callable[..., Any],
    decode_fn: Callable[..., jax.Array],
    log_likelihood_fn: LogLikelihoodFn,
    x: Any,
    *,
    key: jax.Array,
    k: int = 1000,
    batch_size: int = 64,
    chunk: int = 100,
    condition: Any = None,
    jit: bool = True,
) -> np.ndarray:
    """Per-example importance-weighted lower bound on ``log p(x)``, in nats.

    Args:
        encode_fn: ``x -> (mean, log_var)`` (``(x, y) -> ...`` when ``condition`` is given); latents may be
            ``(B, D)`` or ``(B, ..., D)``.
        decode_fn: ``z -> raw`` decoder outputs (``(z, y) -> raw`` with a condition), e.g. logits.
        log_likelihood_fn: ``(raw, x) -> (B,)`` log p(x|z) summed over data dims; see
            :func:`gaussian_log_likelihood`, :func:`bernoulli_log_likelihood`, :func:`from_reconstruction_loss`.
        x: Examples ``(N, ...)``.
        key: PRNG key; the same key gives the same result.
        k: Importance samples per example (``k = 1`` gives the ELBO).
        batch_size: Examples per jitted call (the last batch is padded, so it compiles once).
        chunk: Samples drawn at once; ``batch_size * chunk`` decoder evaluations are live at a time.
        condition: Optional per-example conditions ``(N, ...)`` (class labels) for conditional models.
        jit: Compile the per-batch computation with ``jax.jit`` (turn off to debug).

    Returns:
        ``float64`` array ``(N,)`` of lower bounds on ``log p(x_i)``.

    Raises:
        ValueError: On no examples, non-positive ``k``, ``batch_size`` or ``chunk``, or a condition of the
            wrong length.

    Example:
        >>> enc = lambda x: (jnp.zeros((x.shape[0], 1)), jnp.zeros((x.shape[0], 1)))  # q = prior
        >>> b = iwae_bound(enc, lambda z: z, gaussian_log_likelihood(1.0), jnp.zeros((3, 1)),
        ...                k=10, key=jax.random.key(0))
        >>> b.shape
        (3,)
    """
    for name, value in (("k", k), ("batch_size", batch_size), ("chunk", chunk)):
        if int(value) <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
    x = jnp.asarray(x)
    n = int(x.shape[0]) if x.ndim else 0
    if n == 0:
        raise ValueError("x has no examples")
    if condition is not None:
        condition = jnp.asarray(condition)
        if condition.shape[0] != n:
            raise ValueError(f"condition has {condition.shape[0]} rows for {n} examples")
    k, chunk = int(k), min(int(chunk), int(k))
    batch_size = min(int(batch_size), n)
    fn = _log_weights_fn(encode_fn, decode_fn, log_likelihood_fn, k, chunk, condition is not None)
    if jit:
        fn = jax.jit(fn)
    out = np.empty((n,), np.float64)
    for index, start in enumerate(range(0, n, batch_size)):
        stop = min(start + batch_size, n)
        xb, yb = _padded(x, start, stop, batch_size), None
        if condition is not None:
            yb = _padded(condition, start, stop, batch_size)
        values = fn(xb, yb, jax.random.fold_in(key, index))
        out[start:stop] = np.asarray(values, np.float64)[: stop - start]
    return out


def _padded(a: jax.Array, start: int, stop: int, size: int) -> jax.Array:
    """Rows ``start:stop`` of ``a``, padded by repeating the last row to ``size`` rows."""
    part = a[start:stop]
    if stop - start == size:
        return part
    fill = jnp.broadcast_to(part[-1:], (size - (stop - start), *part.shape[1:]))
    return jnp.concatenate([part, fill], axis=0)


def iwae_nll(
    encode_fn: Callable[..., Any],
    decode_fn: Callable[..., jax.Array],
    log_likelihood_fn: LogLikelihoodFn,
    x: Any,
    *,
    key: jax.Array,
    k: int = 1000,
    batch_size: int = 64,
    chunk: int = 100,
    condition: Any = None,
) -> float:
    """The mean importance-weighted NLL bound ``-mean_i iwae_bound_i`` in nats per example (an upper bound).

    Arguments as :func:`iwae_bound`.

    Example:
        >>> enc = lambda x: (jnp.zeros((x.shape[0], 1)), jnp.zeros((x.shape[0], 1)))
        >>> nll = iwae_nll(enc, lambda z: z, gaussian_log_likelihood(1.0), jnp.zeros((4, 1)),
        ...                k=50, key=jax.random.key(0))
        >>> abs(nll - 0.5 * math.log(2 * math.pi * 2)) < 0.1  # near the true NLL of N(0, 2) at 0
        True
    """
    bound = iwae_bound(
        encode_fn,
        decode_fn,
        log_likelihood_fn,
        x,
        key=key,
        k=k,
        batch_size=batch_size,
        chunk=chunk,
        condition=condition,
    )
    return float(-bound.mean())


def model_iwae_nll(
    model: Any,
    x: Any,
    *,
    key: jax.Array,
    k: int = 1000,
    y: Any = None,
    log_likelihood_fn: LogLikelihoodFn | None = None,
    batch_size: int = 64,
    chunk: int = 100,
) -> float:
    """:func:`iwae_nll` for an artifex Gaussian-latent model (VAE, BetaVAE, ConditionalVAE, ...).

    Uses ``model.encode(x)`` (``model.encode(x, y)`` with labels), the raw decoder ``model.decoder(z)``
    (``model.decoder(z, condition=y)``) and, unless ``log_likelihood_fn`` is given, the model's own
    likelihood (``model.likelihood`` or ``model.reconstruction_loss``) normalised by
    :func:`from_reconstruction_loss`. Not for VQ-VAE, whose latents are not Gaussian.

    Raises:
        ValueError: When the model has no likelihood and none is given.

    Example:
        >>> # nll = model_iwae_nll(vae, x_test[:1000], key=jax.random.key(0), k=1000)
    """
    if log_likelihood_fn is None:
        loss = getattr(model, "likelihood", None) or getattr(model, "reconstruction_loss", None)
        if loss is None:
            raise ValueError(f"{type(model).__name__} has no likelihood; pass log_likelihood_fn=")
        log_likelihood_fn = from_reconstruction_loss(loss)
    if y is None:
        encode_fn: Callable[..., Any] = lambda xb: tuple(model.encode(xb))[:2]  # noqa: E731
        decode_fn: Callable[..., jax.Array] = lambda z: model.decoder(z)  # noqa: E731
    else:
        encode_fn = lambda xb, yb: tuple(model.encode(xb, yb))[:2]  # noqa: E731
        decode_fn = lambda z, yb: model.decoder(z, condition=yb)  # noqa: E731
    return iwae_nll(
        encode_fn,
        decode_fn,
        log_likelihood_fn,
        x,
        key=key,
        k=k,
        batch_size=batch_size,
        chunk=chunk,
        condition=y,
    )

"""Importance-weighted (IWAE) bounds on the log-likelihood of a Gaussian-latent VAE.

For each example the bound is (Burda et al. 2016)

    log p(x) >= log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x),    z_j ~ q(z | x) = N(mean, exp(log_var)),

with the prior ``p(z) = N(0, I)``. It equals the ELBO at ``k = 1``, never decreases in expectation as ``k``
grows, and tends to ``log p(x)``. The computation is batched over examples and chunked over the ``k``
samples (a running log-sum-exp), so memory stays bounded by ``batch_size * chunk`` decoder evaluations, and
it is jitted once per call. One batch is dispatched while the previous one's result is fetched (the device
never waits for Python), and the examples done are reported (:func:`artifex_core.evaluation.report_progress`:
``artifex evaluate`` shows a bar). The work is the decoder's matrix products: see docs/benchmarks.md
("artifex evaluate") for its GFLOP/s against XLA:CPU's matmul limit.

The model enters through three plain functions: ``encode_fn(x) -> (mean, log_var)``, ``decode_fn(z) -> raw``
(decoder outputs: logits, or any pytree such as a dict) and ``log_likelihood_fn(raw, x) -> (B,)``, the
log-likelihood ``log p(x | z)`` of each example summed over its data dimensions. Conditional models take the
condition as a second argument of ``encode_fn`` and ``decode_fn``. :func:`model_iwae_bound` wires up a model
that declares a Gaussian latent, through its public ``encode``, ``decode_outputs`` and ``log_likelihood``;
:class:`IWAEBound` is the registered metric.

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

from artifex_core.evaluation import EvalData, Metric, report_progress
from artifex_plugins.metrics._contract import GAUSSIAN, latent_type

__all__ = [
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "iwae_bound",
    "IWAEBound",
    "iwae_nll",
    "model_iwae_bound",
]

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_VAR_MIN, _LOG_VAR_MAX = -20.0, 20.0

LogLikelihoodFn = Callable[[jax.Array, jax.Array], jax.Array]

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
        y_rep: tuple[jax.Array, ...] = ()
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
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Per-example importance-weighted lower bound on ``log p(x)``, in nats.

    Args:
        encode_fn: ``x -> (mean, log_var)`` (``(x, y) -> ...`` when ``condition`` is given); latents may be
            ``(B, D)`` or ``(B, ..., D)``.
        decode_fn: ``z -> raw`` decoder outputs (``(z, y) -> raw`` with a condition), e.g. logits.
        log_likelihood_fn: ``(raw, x) -> (B,)`` log p(x|z) summed over data dims; see
            :func:`gaussian_log_likelihood`, :func:`bernoulli_log_likelihood`.
        x: Examples ``(N, ...)``.
        key: PRNG key; the same key gives the same result.
        k: Importance samples per example (``k = 1`` gives the ELBO).
        batch_size: Examples per jitted call (the last batch is padded, so it compiles once).
        chunk: Samples drawn at once; ``batch_size * chunk`` decoder evaluations are live at a time.
        condition: Optional per-example conditions ``(N, ...)`` (class labels) for conditional models.
        jit: Compile the per-batch computation with ``jax.jit`` (turn off to debug).
        progress: Called with ``(examples done, N)`` after each batch (default:
            :func:`artifex_core.evaluation.report_progress`, shown by ``artifex evaluate``).

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
    tell = report_progress if progress is None else progress
    pending: tuple[int, int, jax.Array] | None = None

    def collect(start: int, stop: int, values: jax.Array) -> None:
        out[start:stop] = np.asarray(values, np.float64)[: stop - start]
        tell(stop, n)

    for index, start in enumerate(range(0, n, batch_size)):
        stop = min(start + batch_size, n)
        xb, yb = _padded(x, start, stop, batch_size), None
        if condition is not None:
            yb = _padded(condition, start, stop, batch_size)
        values = fn(xb, yb, jax.random.fold_in(key, index))  # dispatched; runs while the previous is fetched
        if pending is not None:
            collect(*pending)
        pending = (start, stop, values)
    if pending is not None:
        collect(*pending)
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


def model_iwae_bound(
    model: Any,
    x: Any,
    *,
    key: jax.Array,
    k: int = 1000,
    y: Any = None,
    batch_size: int = 64,
    chunk: int = 100,
) -> np.ndarray:
    """:func:`iwae_bound` of a model that declares a Gaussian latent (``latent_type = "gaussian"``).

    The proposal is ``model.encode(x)`` (``model.encode(x, y)`` with labels), each sample is decoded by
    ``model.decode_outputs(z)`` and weighted by ``model.log_likelihood(x, outputs)``: the same reconstruction
    term as the model's ``loss_fn``, so with ``k = 1`` the mean bound is the ELBO (in expectation) and the
    bound is never looser than the test −ELBO of a β = 1 model, whatever the variant changes.

    Returns:
        ``float64`` ``(N,)``: per-example lower bounds on ``log p(x_i)`` (an NLL bound when negated and the
        model declares ``normalized_likelihood``; otherwise in the loss's own unnormalised units).

    Raises:
        ValueError: When ``log_likelihood`` does not give one value per example.

    Example:
        >>> # nll = -model_iwae_bound(vae, x_test, key=jax.random.key(0), k=1000).mean()
    """

    def log_likelihood_fn(outputs: Any, xb: jax.Array) -> jax.Array:
        values = jnp.asarray(model.log_likelihood(xb, outputs))
        if values.shape != (xb.shape[0],):
            raise ValueError(
                f"{type(model).__name__}.log_likelihood must give one value per example, shape ({xb.shape[0]},); "
                f"got shape {values.shape} (a loss that returns a batch mean has no per-example likelihood)"
            )
        return values

    if y is None:
        encode_fn: Callable[..., Any] = lambda xb: tuple(model.encode(xb))[:2]  # noqa: E731
        decode_fn: Callable[..., Any] = lambda z: model.decode_outputs(z)  # noqa: E731
    else:
        encode_fn = lambda xb, yb: tuple(model.encode(xb, yb))[:2]  # noqa: E731
        decode_fn = lambda z, yb: model.decode_outputs(z, y=yb)  # noqa: E731
    return iwae_bound(
        encode_fn, decode_fn, log_likelihood_fn, x, key=key, k=k, batch_size=batch_size, chunk=chunk, condition=y
    )


class IWAEBound(Metric):
    """The importance-weighted bound (Burda et al. 2016) with ``k`` samples, in nats per example.

    Applies to models that declare a Gaussian latent, when ``k > 0``. Reported as ``{"iwae_nll": v, "k": k}``
    when the model declares a normalised likelihood (``normalized_likelihood``, e.g. bce): an upper bound on
    the test NLL. Otherwise (mse, l1, plugin losses) as ``{"iwae_bound": v, "k": k}``: the same bound on the
    loss's unnormalised scale, not an NLL. Either way it is at most the test −ELBO of a β = 1 model (up to
    the Monte Carlo error of both), as both use the model's ``log_likelihood``.

    Args:
        k: Importance samples per example (``0``: the metric does not apply; ``artifex evaluate --k``).
        batch_size: Examples per jitted call.
        chunk: Samples drawn at once.

    Example:
        >>> IWAEBound(k=0).applies(None)
        False
    """

    def __init__(self, *, k: int = 1000, batch_size: int = 64, chunk: int = 100) -> None:
        if int(k) < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        self.k, self.batch_size, self.chunk = int(k), int(batch_size), int(chunk)

    def applies(self, run: Any) -> bool:
        """``k > 0`` and the model declares a Gaussian latent."""
        return self.k > 0 and latent_type(run.model) == GAUSSIAN

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        """``{"iwae_nll" or "iwae_bound": mean negative bound, "k": k}`` on the test split."""
        y = data.y_test if run.model_config.conditional else None
        bound = model_iwae_bound(
            run.model, data.x_test, key=jax.random.key(seed), k=self.k, y=y, batch_size=self.batch_size,
            chunk=self.chunk,
        )
        name = "iwae_nll" if bool(getattr(run.model, "normalized_likelihood", False)) else "iwae_bound"
        return {name: float(-bound.mean()), "k": self.k}

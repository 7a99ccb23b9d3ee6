"""The built-in samplers: ``prior`` (the model's own ``sample``) and ``gmm`` (ex-post density estimation).

``gmm`` follows Ghosh et al. 2020 ("From variational to deterministic autoencoders", ex-post density
estimation) and pythae's ``GaussianMixtureSampler``: a Gaussian mixture
``q(z) = sum_k pi_k N(z; mu_k, Sigma_k)`` is fitted by EM (scikit-learn's ``GaussianMixture``) on the
posterior means ``E[z | x]`` of the training images, then ``z ~ q`` is decoded. Samples then come from where
the aggregate posterior has mass, not from the holes of the prior.

Example:
    >>> sampler = GaussianMixtureSampler(n_components=4)
    >>> sampler.options()["n_components"], sampler.needs_fit
    (4, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np

from artifex_core._sampler import Sampler, SamplerError, SamplerState

__all__ = ["GaussianMixtureSampler", "PriorSampler", "gmm_sample"]

CovarianceType = Literal["full", "diag", "tied", "spherical"]
_COVARIANCES = ("full", "diag", "tied", "spherical")


class PriorSampler(Sampler):
    """Decode draws from the prior: ``model.sample(n, temperature=...)`` (the default)."""

    def sample(
        self,
        model: Any,
        n: int,
        *,
        state: Mapping[str, np.ndarray],
        seed: int = 0,
        temperature: float = 1.0,
        labels: np.ndarray | None = None,
    ) -> np.ndarray:
        """``n`` prior samples decoded to data space (conditional models: of class ``labels``)."""
        from artifex_core.training._pictures import sample_images

        return sample_images(model, n, temperature=temperature, labels=labels, seed=seed)


def _full_covariances(gm: Any, covariance_type: str, dim: int) -> np.ndarray:
    """scikit-learn's ``covariances_`` of any type as ``(K, D, D)`` matrices."""
    cov = np.asarray(gm.covariances_, np.float64)
    k = len(gm.weights_)
    if covariance_type == "full":
        return cov
    if covariance_type == "tied":
        return np.broadcast_to(cov, (k, dim, dim)).copy()
    if covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return np.stack([np.eye(dim) * c for c in cov])  # spherical


def gmm_sample(state: Mapping[str, np.ndarray], n: int, *, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """Draw ``n`` points from a mixture state ``{weights (K,), means (K, D), covariances (K, D, D)}``.

    Each point picks component ``k`` with probability ``weights[k]`` and is ``means[k] + temperature * L_k eps``
    with ``L_k`` the Cholesky factor of ``covariances[k]`` and ``eps ~ N(0, I)``.

    Example:
        >>> state = {"weights": np.array([1.0]), "means": np.array([[5.0, -5.0]]), "covariances": np.eye(2)[None] * 1e-8}
        >>> np.round(gmm_sample(state, 2), 3).tolist()
        [[5.0, -5.0], [5.0, -5.0]]
    """
    rng = np.random.default_rng(seed)
    weights = np.asarray(state["weights"], np.float64)
    means = np.asarray(state["means"], np.float64)
    chol = np.linalg.cholesky(np.asarray(state["covariances"], np.float64))
    comps = rng.choice(len(weights), size=n, p=weights / weights.sum())
    eps = rng.standard_normal((n, means.shape[1]))
    return (means[comps] + temperature * np.einsum("nij,nj->ni", chol[comps], eps)).astype(np.float32)


class GaussianMixtureSampler(Sampler):
    """Gaussian mixture fitted on the training posterior means (ex-post density estimation, Ghosh et al. 2020).

    Args:
        n_components: Mixture components ``K`` (pythae's default: 10).
        covariance_type: ``full``, ``diag``, ``tied`` or ``spherical`` (scikit-learn's).
        max_iter: EM iterations at most.
        batch_size: Training images encoded per call.
    """

    needs_fit: ClassVar[bool] = True

    def __init__(
        self, n_components: int = 10, covariance_type: CovarianceType = "full", max_iter: int = 100,
        batch_size: int = 1000,
    ) -> None:
        if isinstance(n_components, bool) or not isinstance(n_components, int) or n_components < 1:
            raise SamplerError(f"n_components must be an integer >= 1, got {n_components!r}")
        if covariance_type not in _COVARIANCES:
            raise SamplerError(f"covariance_type must be one of {', '.join(_COVARIANCES)}, got {covariance_type!r}")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
            raise SamplerError(f"max_iter must be an integer >= 1, got {max_iter!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise SamplerError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.n_components, self.covariance_type = n_components, covariance_type
        self.max_iter, self.batch_size = max_iter, batch_size

    def latents(self, model: Any, x: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, tuple[int, ...]]:
        """Posterior means ``E[z | x]`` of ``x`` (``model.encode``'s first output) as ``(N, D)``, and their shape.

        Raises:
            SamplerError: A model without ``encode`` and ``decode``.
        """
        import jax.numpy as jnp

        if not callable(getattr(model, "encode", None)) or not callable(getattr(model, "decode", None)):
            raise SamplerError(f"the gmm sampler needs a model with encode() and decode(); {type(model).__name__} lacks them")
        chunks: list[np.ndarray] = []
        shape: tuple[int, ...] = ()
        for start in range(0, len(x), self.batch_size):
            xb = jnp.asarray(x[start : start + self.batch_size])
            out = model.encode(xb) if y is None else model.encode(xb, jnp.asarray(y[start : start + self.batch_size], jnp.int32))
            mean = np.asarray(out[0] if isinstance(out, (tuple, list)) else out, np.float64)
            shape = tuple(int(d) for d in mean.shape[1:])
            chunks.append(mean.reshape(len(xb), -1))
        return np.concatenate(chunks), shape

    def fit_latents(self, z: np.ndarray, *, seed: int = 0) -> SamplerState:
        """Fit the mixture on latents ``z`` ``(N, D)``; returns ``weights``, ``means`` and full ``covariances``.

        Raises:
            SamplerError: Fewer latents than components.
        """
        if len(z) < self.n_components:
            raise SamplerError(f"the gmm sampler needs at least n_components={self.n_components} examples, got {len(z)}")
        from sklearn.mixture import GaussianMixture

        gm = GaussianMixture(
            n_components=self.n_components, covariance_type=self.covariance_type, max_iter=self.max_iter,
            random_state=seed,
        ).fit(z)
        return {
            "weights": np.asarray(gm.weights_, np.float64),
            "means": np.asarray(gm.means_, np.float64),
            "covariances": _full_covariances(gm, self.covariance_type, z.shape[1]),
        }

    def fit(self, model: Any, x_train: np.ndarray, *, y_train: np.ndarray | None = None, seed: int = 0) -> SamplerState:
        """Encode the training images and fit the mixture on their posterior means."""
        conditional = y_train is not None and _takes_labels(model)  # a conditional encoder reads the labels
        z, shape = self.latents(model, x_train, y_train if conditional else None)
        return {**self.fit_latents(z, seed=seed), "latent_shape": np.asarray(shape, np.int64)}

    def sample(
        self,
        model: Any,
        n: int,
        *,
        state: Mapping[str, np.ndarray],
        seed: int = 0,
        temperature: float = 1.0,
        labels: np.ndarray | None = None,
    ) -> np.ndarray:
        """Draw ``z`` from the fitted mixture and decode it (conditional models: with ``labels``)."""
        import jax.numpy as jnp

        z = gmm_sample(state, n, seed=seed, temperature=temperature)
        if "latent_shape" in state:
            z = z.reshape((n, *(int(d) for d in np.asarray(state["latent_shape"]).reshape(-1))))
        latents = jnp.asarray(z)
        if labels is None:
            return np.asarray(model.decode(latents))
        return np.asarray(model.decode(latents, jnp.asarray(labels, jnp.int32)))


def _takes_labels(model: Any) -> bool:
    import inspect

    try:
        return "y" in inspect.signature(model.encode).parameters
    except (TypeError, ValueError):
        return False

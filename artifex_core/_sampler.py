"""The :class:`Sampler` contract: how a trained model generates.

A sampler is registered by name in the ``samplers`` registry (``artifex list samplers``) and chosen with
``artifex sample RUN --sampler NAME``. It is model-agnostic here: the core knows only that a sampler may
*fit* a state on the training images once (``needs_fit``), and then *samples* ``n`` images from the model
and that state. What a state holds (a mixture's weights, means, covariances) is the sampler's business: a
dict of NumPy arrays, which :func:`artifex_core.training.draw_samples` caches in the run folder so a second
``artifex sample`` does not refit.

A model may name its own default sampler, by a ``default_sampler`` class attribute or its registration's
``meta={"default_sampler": NAME}``; without either it is ``"prior"``.

Importing this module imports neither JAX nor Flax.

Example:
    >>> import numpy as np
    >>> class Constant(Sampler):
    ...     '''Every sample is the same grey image.'''
    ...     def __init__(self, level: float = 0.5) -> None:
    ...         self.level = level
    ...     def sample(self, model, n, *, state, seed=0, temperature=1.0, labels=None):
    ...         return np.full((n, 2, 2, 1), self.level, np.float32)
    >>> Constant(level=0.25).options()
    {'level': 0.25}
    >>> Constant().sample(None, 3, state={}).shape
    (3, 2, 2, 1)
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

if TYPE_CHECKING:  # pragma: no cover - listing samplers imports no NumPy
    import numpy as np

__all__ = ["DEFAULT_SAMPLER", "Sampler", "SamplerError", "SamplerState", "default_sampler_of"]

DEFAULT_SAMPLER = "prior"
"""The sampler of a model that declares none: decode draws from the prior (``model.sample``).

A core contract name: :func:`default_sampler_of` falls back to it and ``artifex sample`` looks it up in the
``samplers`` registry, so a plugin must register a sampler under it (the built-in plugin does)."""

SamplerState: TypeAlias = "dict[str, np.ndarray]"
"""What :meth:`Sampler.fit` returns and :meth:`Sampler.sample` reads: named NumPy arrays (cached as ``.npz``)."""


class SamplerError(ValueError):
    """A sampler that cannot serve this model or these options; the message names what and why."""


class Sampler(abc.ABC):
    """How a trained model generates: optionally fitted once on the training images, then sampled.

    Subclasses take their options as keyword arguments of ``__init__`` (stored under the same names:
    :meth:`options` reads them back for the cache key and ``artifex info``) and must implement the abstract
    :meth:`sample` (a class without it cannot be instantiated: ``TypeError``); those with ``needs_fit = True``
    override :meth:`fit` too.

    Attributes:
        needs_fit: Whether :meth:`fit` must run (on the training images) before :meth:`sample`.
    """

    needs_fit: ClassVar[bool] = False

    def options(self) -> dict[str, Any]:
        """The sampler's options: each ``__init__`` keyword with the value stored on ``self``.

        Example:
            >>> class Tempered(Sampler):
            ...     def __init__(self, scale: float = 1.0) -> None:
            ...         self.scale = scale
            ...     def sample(self, model, n, *, state, seed=0, temperature=1.0, labels=None):
            ...         return model.sample(n, temperature=self.scale * temperature)
            >>> Tempered(scale=0.5).options()
            {'scale': 0.5}
        """
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        return {name: getattr(self, name) for name in names if hasattr(self, name)}

    def fit(self, model: Any, x_train: np.ndarray, *, y_train: np.ndarray | None = None, seed: int = 0) -> SamplerState:
        """Fit the sampler's state on the training images ``x_train`` (``float32`` in the model's input range).

        Args:
            model: The trained model (in eval mode).
            x_train: Training images, as the model saw them.
            y_train: Their labels, for conditional models (else None).
            seed: Seed of anything random in the fit.

        Returns:
            The state :meth:`sample` reads (the default: nothing to fit, ``{}``).
        """
        return {}

    @abc.abstractmethod
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
        """Return ``n`` generated images (NumPy, data space), with class ``labels`` for conditional models.

        Args:
            model: The trained model (in eval mode).
            n: How many images.
            state: What :meth:`fit` returned (``{}`` when the sampler fits nothing).
            seed: Seed of the draw.
            temperature: Scale of the latent noise (1: the fitted or prior distribution itself).
            labels: One class label per image, for conditional models (else None).
        """


def default_sampler_of(model_cls: Any, meta: Mapping[str, Any] | None = None) -> str:
    """The sampler a model generates with by default: its registration meta's, its class's, else ``prior``.

    Args:
        model_cls: The model class (or instance).
        meta: Its registry entry's ``meta``.

    Example:
        >>> class Mixture:
        ...     default_sampler = "gmm"
        >>> default_sampler_of(Mixture), default_sampler_of(object, {"default_sampler": "vamp"})
        ('gmm', 'vamp')
        >>> default_sampler_of(object)
        'prior'
    """
    if meta and meta.get("default_sampler"):
        return str(meta["default_sampler"])
    declared = getattr(model_cls, "default_sampler", None)
    return str(declared) if isinstance(declared, str) and declared else DEFAULT_SAMPLER

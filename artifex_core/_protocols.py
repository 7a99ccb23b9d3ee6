"""The ``GenerativeModel`` protocol every artifex model satisfies.

Example:
    >>> class Toy:
    ...     def __call__(self, x, *, rngs=None): return {}
    ...     def loss_fn(self, **kwargs): return {"loss": 0.0}
    ...     def sample(self, n_samples=1, *, temperature=1.0, rngs=None): return []
    ...     def generate(self, n_samples=1, *, temperature=1.0, rngs=None, **kwargs): return []
    >>> isinstance(Toy(), GenerativeModel)
    True
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["GenerativeModel"]


@runtime_checkable
class GenerativeModel(Protocol):
    """A model that maps inputs to outputs, scores them with a loss and generates new samples."""

    def __call__(self, x: Any, *, rngs: Any = None) -> dict[str, Any]:
        """Forward pass returning a dict of named outputs."""
        ...

    def loss_fn(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Loss terms as a dict with at least ``"loss"``."""
        ...

    def sample(self, n_samples: int = 1, *, temperature: float = 1.0, rngs: Any = None) -> Any:
        """Draw ``n_samples`` samples."""
        ...

    def generate(self, n_samples: int = 1, *, temperature: float = 1.0, rngs: Any = None, **kwargs: Any) -> Any:
        """Alias of :meth:`sample`."""
        ...

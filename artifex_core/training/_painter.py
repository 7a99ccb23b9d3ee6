"""The run folder's pictures in one compiled call: :func:`~artifex_core.training._pictures.picture_arrays` jitted.

Drawn eagerly, every operation of ``model.sample``, ``model.reconstruct`` and the latent traversals (one call
per latent dimension) is its own dispatch. :class:`PicturePainter` traces them once into one ``jax.jit`` over
the model's split state, closed over the graph definition (kept while the next epoch's is equal to it; a
graph definition need not be hashable): the shapes never change between epochs, so it compiles once and each
epoch is one call. The arrays it returns are those the eager path gives, and so the
pictures (:func:`~artifex_core.training._pictures.save_pictures` writes them); a model whose pictures cannot be
traced is drawn eagerly instead, from then on.

Example:
    >>> # painter = PicturePainter(x_test[:32], None, num_classes=None, seed=0)
    >>> # save_pictures(painter.arrays(model), "runs/demo")  # compiled on the first call, reused after
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from artifex_core.training._pictures import picture_arrays

__all__ = ["PicturePainter"]


class PicturePainter:
    """Computes :func:`~artifex_core.training._pictures.picture_arrays` of a model with one jitted call.

    Args:
        x: The test images reconstructed (the first ``4 * per_row`` are used).
        y: Their labels (conditional models), or None.
        num_classes: Set for conditional models.
        seed: Seed of the samples.
        per_row: Images per row.

    Attributes:
        jitted: Whether the pictures are computed by the compiled call (False once a model could not be traced).
    """

    def __init__(
        self, x: Any, y: Any | None, *, num_classes: int | None, seed: int, per_row: int = 8
    ) -> None:
        n = 4 * per_row
        self.x = jnp.asarray(np.asarray(x)[:n], jnp.float32)
        self.y = None if y is None else jnp.asarray(np.asarray(y)[:n], jnp.int32)
        self.num_classes, self.seed, self.per_row = num_classes, seed, per_row
        self.jitted = True
        self._graphdef: Any = None
        self._compiled: Any = None

    def _function(self, graphdef: Any) -> Any:
        """The jitted pictures of models of ``graphdef`` (the one made for an equal graph definition, if any)."""
        if self._compiled is None or not (graphdef is self._graphdef or graphdef == self._graphdef):

            def traced(state: Any, x: jax.Array, y: jax.Array | None) -> dict[str, jax.Array]:
                model = nnx.merge(graphdef, state)
                return picture_arrays(model, x, y, num_classes=self.num_classes, seed=self.seed,
                                      per_row=self.per_row)

            self._graphdef, self._compiled = graphdef, jax.jit(traced)
        return self._compiled

    def arrays(self, model: nnx.Module) -> dict[str, np.ndarray]:
        """The pictures' arrays of ``model`` on the host (``model`` itself is left as it is).

        Raises:
            Exception: Whatever the model raises when drawn eagerly (a model that cannot be traced is).
        """
        graphdef, state = nnx.split(model)
        if self.jitted:
            try:
                out = self._function(graphdef)(state, self.x, self.y)
            except Exception:  # noqa: BLE001 - an untraceable model (or a real error, raised again below)
                self.jitted = False
            else:
                return {k: np.asarray(v) for k, v in jax.device_get(out).items()}
        eager = nnx.merge(graphdef, state, copy=True)  # eval mode and RNG draws stay on the copy
        out = picture_arrays(eager, self.x, self.y, num_classes=self.num_classes, seed=self.seed,
                             per_row=self.per_row)
        return {k: np.asarray(v) for k, v in out.items()}

"""Class labels: checking them and embedding them (:class:`LabelEmbedding`, used by the conditional wrappers).

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> LabelEmbedding(10, 4, rngs=nnx.Rngs(0))(jnp.array([1, 3])).shape
    (2, 4)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from artifex_plugins.vae.checks import check_positive_int
from artifex_plugins.vae.initializers import embedding_init

__all__ = ["LabelEmbedding", "check_labels"]


def check_labels(labels: Any, num_classes: int, owner: str) -> None:
    """Raise ``ValueError`` for a concrete integer label outside ``[0, num_classes)``, naming it and its index.

    Labels are integer scalars or ``(B,)`` arrays. A no-op on tracers (under ``jit`` values are unknown;
    :class:`LabelEmbedding` then turns bad labels into NaN instead) and on anything else (one-hot rows).

    Example:
        >>> check_labels(jnp.array([0, 2, -1]), 3, "LabelEmbedding")
        Traceback (most recent call last):
        ...
        ValueError: LabelEmbedding: class label -1 at index 2 is outside [0, 3)
    """
    if isinstance(labels, jax.core.Tracer):
        return
    ids = np.asarray(labels)
    if not np.issubdtype(ids.dtype, np.integer) or ids.ndim > 1 or ids.size == 0:
        return
    flat = ids.reshape(-1)
    bad = np.flatnonzero((flat < 0) | (flat >= num_classes))
    if bad.size:
        first = int(bad[0])
        more = f" ({bad.size} labels in all)" if bad.size > 1 else ""
        where = f" at index {first}" if ids.ndim else ""
        raise ValueError(
            f"{owner}: class label {int(flat[first])}{where} is outside [0, {num_classes}){more}"
        )


class LabelEmbedding(nnx.Module):
    """Class labels to embeddings; integer ids and one-hot rows give identical results.

    Integer arrays of shape ``(B,)`` (or a scalar) are class ids. Floating or boolean arrays, and integer
    arrays of shape ``(B, num_classes)``, are one-hot (or soft) rows, multiplied with the embedding table at
    full precision, so an exact one-hot row returns exactly the row of the table. A single label (scalar,
    ``(1,)`` or ``(1, num_classes)``) is broadcast to the batch. The table starts as N(0, 1) entries.

    Integer labels outside ``[0, num_classes)`` never select another class: eagerly they raise
    ``ValueError`` naming the value and its index; under ``jit`` (where nothing can raise) their
    embedding rows are NaN, so everything computed from them, and a loss, is NaN.

    Example:
        >>> emb = LabelEmbedding(10, 4, rngs=nnx.Rngs(0))
        >>> a = emb(jnp.array([1, 3]))
        >>> b = emb(jax.nn.one_hot(jnp.array([1, 3]), 10))
        >>> a.shape, bool(jnp.all(a == b))
        ((2, 4), True)
    """

    def __init__(self, num_classes: int, embed_dim: int, *, rngs: nnx.Rngs) -> None:
        """Create the table of ``num_classes`` embeddings of size ``embed_dim``."""
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.embed_dim = check_positive_int(embed_dim, "embed_dim")
        self.embed = nnx.Embed(
            self.num_classes, self.embed_dim, embedding_init=embedding_init, rngs=rngs
        )

    def __call__(self, labels: jax.Array, batch_size: int | None = None) -> jax.Array:
        """Embed ``labels`` to ``(B, embed_dim)``, broadcasting a single label to ``batch_size``."""
        labels = jnp.asarray(labels)
        k = self.num_classes
        is_int = jnp.issubdtype(labels.dtype, jnp.integer)
        if is_int and labels.ndim <= 1:
            check_labels(labels, k, type(self).__name__)
            ids = labels.reshape(-1).astype(jnp.int32)
            if isinstance(ids, jax.core.Tracer):
                # nnx.Embed would wrap negative ids (-1 -> class k-1) and, with one class, ignore the id.
                valid = (ids >= 0) & (ids < k)
                out = jnp.where(valid[:, None], self.embed(jnp.where(valid, ids, 0)), jnp.nan)
            else:
                out = self.embed(ids)
        elif labels.ndim in (1, 2) and labels.shape[-1] == k:
            onehot = labels.reshape(-1, k).astype(self.embed.embedding.dtype)
            out = jnp.dot(onehot, self.embed.embedding[...], precision=jax.lax.Precision.HIGHEST)
        else:
            kind = "integer class ids (B,) or one-hot (B, num_classes)"
            raise ValueError(
                f"labels must be {kind} with num_classes={k}; got shape {labels.shape} of dtype {labels.dtype}"
                + ("" if is_int else " (floating labels are read as one-hot rows)")
            )
        if batch_size is not None and out.shape[0] != batch_size:
            if out.shape[0] != 1:
                raise ValueError(f"got {out.shape[0]} labels for a batch of {batch_size}")
            out = jnp.broadcast_to(out, (batch_size, self.embed_dim))
        return out

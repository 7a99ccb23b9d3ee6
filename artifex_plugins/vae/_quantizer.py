"""Pure vector-quantization functions (van den Oord et al.) used by :class:`~artifex_plugins.vae.VQVAE`.

An encoding ``(B, ..., D)`` with ``D`` a multiple of the code width ``E`` is split into ``D // E`` code
vectors per position; each is replaced by its nearest codebook row. Gradients pass straight through:
``quantized = z + stop_gradient(e - z)``. Losses are squared distances summed over each example's latent
elements and averaged over the batch (the units of the rest of the family):

* ``codebook_loss = ‖sg[z_e] − e‖²`` (moves the codes),
* ``commitment_loss = ‖z_e − sg[e]‖²`` (keeps the encoder close to its codes).

Example:
    >>> import jax.numpy as jnp
    >>> codebook = jnp.array([[0.0, 0.0], [1.0, 1.0]])
    >>> q, aux = vector_quantize(jnp.array([[0.9, 1.2]]), codebook)
    >>> q.tolist(), aux["encoding_indices"].tolist()
    ([[1.0, 1.0]], [[1]])
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from artifex_plugins.vae._losses import sum_per_example

__all__ = ["code_shape", "nearest_codes", "perplexity", "split_codes", "vector_quantize"]


def split_codes(encoding: jax.Array, embedding_dim: int) -> jax.Array:
    """Reshape ``(..., D)`` to ``(..., D // embedding_dim, embedding_dim)``.

    Raises:
        ValueError: If ``D`` is not a multiple of ``embedding_dim``.
    """
    width = encoding.shape[-1]
    if width % embedding_dim:
        raise ValueError(
            f"latent width {width} is not a multiple of embedding_dim={embedding_dim}: "
            "each latent vector is split into codes of embedding_dim values"
        )
    return encoding.reshape(*encoding.shape[:-1], width // embedding_dim, embedding_dim)


def code_shape(latent_shape: tuple[int, ...], embedding_dim: int) -> tuple[int, ...]:
    """Shape of the code indices for one example with latent shape ``(..., D)``: ``(..., D // E)``."""
    if latent_shape[-1] % embedding_dim:
        raise ValueError(f"latent width {latent_shape[-1]} is not a multiple of embedding_dim={embedding_dim}")
    return (*latent_shape[:-1], latent_shape[-1] // embedding_dim)


def nearest_codes(vectors: jax.Array, codebook: jax.Array, precision: Any = None) -> jax.Array:
    """Index of the nearest codebook row (squared Euclidean distance) for each vector ``(..., E)``."""
    flat = vectors.reshape(-1, vectors.shape[-1])
    cross = jnp.matmul(flat, codebook.T, precision=precision)
    distances = (
        jnp.sum(jnp.square(flat), axis=-1, keepdims=True) - 2.0 * cross + jnp.sum(jnp.square(codebook), axis=-1)
    )
    return jnp.argmin(distances, axis=-1).reshape(vectors.shape[:-1])


def perplexity(indices: jax.Array, num_embeddings: int) -> jax.Array:
    """``exp(entropy)`` of the code-usage frequencies in ``indices`` (1 = one code, K = all equally)."""
    probs = jnp.mean(jax.nn.one_hot(indices.reshape(-1), num_embeddings), axis=0)
    return jnp.exp(-jnp.sum(probs * jnp.log(probs + 1e-10)))


def vector_quantize(
    encoding: jax.Array, codebook: jax.Array, precision: Any = None
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Quantize ``encoding (B, ..., D)`` with ``codebook (K, E)``; straight-through gradients.

    Returns:
        ``(quantized, aux)``: quantized has the encoding's shape; aux holds ``commitment_loss``,
        ``codebook_loss`` (scalars) and ``encoding_indices`` ``(B, ..., D // E)``.
    """
    vectors = split_codes(encoding, codebook.shape[-1])
    indices = nearest_codes(jax.lax.stop_gradient(vectors), codebook, precision)
    codes = jnp.take(codebook, indices, axis=0).reshape(encoding.shape)
    codebook_loss = jnp.mean(sum_per_example(jnp.square(jax.lax.stop_gradient(encoding) - codes)))
    commitment_loss = jnp.mean(sum_per_example(jnp.square(encoding - jax.lax.stop_gradient(codes))))
    quantized = encoding + jax.lax.stop_gradient(codes - encoding)
    aux = {"commitment_loss": commitment_loss, "codebook_loss": codebook_loss, "encoding_indices": indices}
    return quantized, aux

"""Shape arithmetic and reshapes of the convolutional encoders and decoders (NHWC).

Example:
    >>> plan_spatial_sizes((28, 28), 4)
    [(28, 28), (14, 14), (7, 7), (4, 4), (2, 2)]
"""

from __future__ import annotations

import math

import jax

__all__ = ["as_image", "crop_to", "depth_to_space", "plan_spatial_sizes"]


def as_image(x: jax.Array, input_dim: tuple[int, ...] | None, owner: str) -> jax.Array:
    """Bring ``x`` to ``(B, H, W, C)``: adds a channel axis to ``(B, H, W)`` and unflattens ``(B, H*W*C)``.

    Example:
        >>> import jax.numpy as jnp
        >>> as_image(jnp.zeros((2, 12)), (2, 2, 3), "X").shape
        (2, 2, 2, 3)
    """
    if input_dim is not None and x.shape[1:] != input_dim:
        if x.ndim >= 2 and math.prod(x.shape[1:]) == math.prod(input_dim):
            return x.reshape(x.shape[0], *input_dim)
        raise ValueError(f"{owner}: expected input of shape (B, {', '.join(map(str, input_dim))}), got {x.shape}")
    if x.ndim == 3:
        return x[..., None]
    if x.ndim != 4:
        raise ValueError(f"{owner}: expected images (B, H, W, C), got shape {x.shape}")
    return x


def plan_spatial_sizes(hw: tuple[int, int], stages: int) -> list[tuple[int, int]]:
    """Spatial sizes through ``stages`` stride-2 'SAME' convolutions: each step ceil-halves H and W.

    The list starts with ``hw`` and has ``stages + 1`` entries; decoders walk it backwards.

    Example:
        >>> plan_spatial_sizes((32, 30), 2)
        [(32, 30), (16, 15), (8, 8)]
    """
    sizes: list[tuple[int, int]] = [(hw[0], hw[1])]
    for _ in range(stages):
        h, w = sizes[-1]
        sizes.append((-(-h // 2), -(-w // 2)))
    return sizes


def depth_to_space(x: jax.Array, block: int = 2) -> jax.Array:
    """Pixel shuffle: ``(B, h, w, block*block*C) -> (B, block*h, block*w, C)``.

    Channel ``(dy*block + dx)*C + c`` lands at row offset ``dy``, column offset ``dx``, channel ``c``.

    Example:
        >>> import jax.numpy as jnp
        >>> depth_to_space(jnp.arange(4.0).reshape(1, 1, 1, 4))[0, :, :, 0].tolist()
        [[0.0, 1.0], [2.0, 3.0]]
    """
    b, h, w, c = x.shape
    if c % (block * block):
        raise ValueError(f"depth_to_space: channels {c} not divisible by block**2 = {block * block}")
    out_c = c // (block * block)
    x = x.reshape(b, h, w, block, block, out_c)
    x = x.transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h * block, w * block, out_c)


def crop_to(x: jax.Array, hw: tuple[int, int]) -> jax.Array:
    """Crop ``(B, H, W, C)`` to its top-left ``hw`` (a no-op when it already has that size).

    Example:
        >>> import jax.numpy as jnp
        >>> crop_to(jnp.zeros((1, 8, 8, 2)), (7, 7)).shape
        (1, 7, 7, 2)
    """
    h, w = hw
    if x.shape[1] < h or x.shape[2] < w:
        raise ValueError(f"crop_to: cannot crop {x.shape[1:3]} to {hw}")
    return x[:, :h, :w, :]

"""Read IDX files (the MNIST format), gzip-compressed or not, with NumPy.

An IDX file starts with two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
then one big-endian 32-bit size per dimension, then the data.

Example:
    >>> import io, struct
    >>> raw = struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([7, 8, 9])
    >>> parse_idx(raw).tolist()
    [7, 8, 9]
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import IO, Any

import numpy as np

from artifex_core.data._dataset import DatasetError

__all__ = ["parse_idx", "read_idx"]

_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(raw: bytes, what: str = "IDX data") -> np.ndarray:
    """Parse the bytes of an IDX file into an array of its declared shape.

    Raises:
        DatasetError: A bad magic number, unknown type code or truncated data.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetError(f"{what}: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _DTYPES:
        raise DatasetError(f"{what}: unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{what}: truncated header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_DTYPES[code])
    count = int(np.prod(shape)) if shape else 1
    if len(raw) - header < count * dtype.itemsize:
        raise DatasetError(f"{what}: truncated data (expected {count} values of shape {shape})")
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=False)


def _decompress(raw: bytes, gz: bool | None, what: str) -> bytes:
    if gz or (gz is None and raw[:2] == b"\x1f\x8b"):
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{what}: could not be decompressed: {exc}") from None
    return raw


def read_idx(path: str | Path | IO[bytes], *, gz: bool | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) from a path or an open binary stream.

    Args:
        path: A filesystem path or a binary stream (e.g. from ``importlib.resources``).
        gz: Whether it is gzip-compressed; by default detected from the gzip magic bytes.

    Raises:
        DatasetError: Missing or malformed file.
    """
    if isinstance(path, (str, Path)):
        p = Path(path)
        if not p.is_file():
            raise DatasetError(f"IDX file {str(p)!r} does not exist")
        what = f"IDX file {str(p)!r}"
        raw = p.read_bytes()
    else:
        what = f"IDX stream {getattr(path, 'name', '')!r}"
        raw = path.read()
    return parse_idx(_decompress(raw, gz, what), what)

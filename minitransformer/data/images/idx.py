"""Reader for the IDX file format (LeCun et al., the MNIST distribution format; Fashion-MNIST uses it too).

An IDX file is a tiny header followed by one dense big-endian array:

    byte 0-1   0x00 0x00                      (magic, always zero)
    byte 2     element type code              (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                               0x0D float32, 0x0E float64)
    byte 3     number of dimensions d
    then       d sizes, each a big-endian uint32
    then       prod(sizes) elements, big-endian, row-major (last index fastest)

Files ending in ``.gz`` are decompressed transparently. The result is a NumPy array in native byte
order with the shape written in the header.
"""

import gzip
import struct
from pathlib import Path

import numpy as np

# IDX type code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an IDX file; ``source`` names it in error messages."""
    if len(raw) < 4:
        raise ValueError(f"IDX {source}: {len(raw)} bytes is too short for the 4-byte header")
    zero0, zero1, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(f"IDX {source}: magic must start with two zero bytes, got {raw[:2].hex()}")
    if type_code not in IDX_DTYPES:
        raise ValueError(f"IDX {source}: unknown element type code 0x{type_code:02X} "
                         f"(known: {', '.join(f'0x{c:02X}' for c in IDX_DTYPES)})")
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise ValueError(f"IDX {source}: header announces {ndim} dimensions but the file ends "
                         f"after {len(raw)} bytes")
    shape = struct.unpack(f">{ndim}I", raw[4:header_end])
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload = len(raw) - header_end
    if payload != expected:
        raise ValueError(f"IDX {source}: shape {shape} of {dtype.name} needs {expected} data bytes, "
                         f"the file has {payload}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a NumPy array."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    return parse_idx(raw, source=str(path))

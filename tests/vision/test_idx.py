"""The IDX reader against files written here byte by byte (struct, big-endian), incl. bad headers."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.data.images.idx import parse_idx, read_idx

# (type code, struct letter, NumPy dtype) for every IDX element type.
TYPES = [(0x08, "B", np.uint8), (0x09, "b", np.int8), (0x0B, "h", np.int16),
         (0x0C, "i", np.int32), (0x0D, "f", np.float32), (0x0E, "d", np.float64)]


def idx_bytes(type_code, letter, shape, values):
    """An IDX file written by hand: magic, sizes, then the values one by one, big-endian."""
    header = bytes([0, 0, type_code, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape)
    return header + b"".join(struct.pack(f">{letter}", v) for v in values)


@given(type_index=st.integers(0, len(TYPES) - 1),
       shape=st.lists(st.integers(0, 4), min_size=0, max_size=3),
       seed=st.integers(0, 2**16))
def test_every_type_and_shape_round_trips(type_index, shape, seed):
    type_code, letter, dtype = TYPES[type_index]
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape, dtype=np.int64))
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        expected = rng.integers(info.min, info.max, size=size, endpoint=True).astype(dtype)
    else:
        expected = rng.standard_normal(size).astype(dtype)
    raw = idx_bytes(type_code, letter, shape, expected.tolist())
    out = parse_idx(raw)
    assert out.shape == tuple(shape)
    assert out.dtype == dtype and out.dtype.isnative
    np.testing.assert_array_equal(out.reshape(-1), expected)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_from_plain_and_gzip_files(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(0x08, "B", images.shape, images.reshape(-1).tolist())
    path = tmp_path / ("images.idx3-ubyte.gz" if compress else "images.idx3-ubyte")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = read_idx(path)
    np.testing.assert_array_equal(out, images)
    out[0, 0, 0] = 99  # the array is writable, not a view of read-only bytes


def test_row_major_order():
    raw = idx_bytes(0x0C, "i", (2, 3), [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(parse_idx(raw), [[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize("raw, message", [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x05", "two zero bytes"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x05", "unknown element type code 0x07"),
    (b"\x00\x00\x08\x02" + struct.pack(">I", 1), "announces 2 dimensions"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 3) + b"\x01\x02", "needs 3 data bytes, the file has 2"),
    (b"\x00\x00\x0c\x01" + struct.pack(">I", 1) + b"\x01\x02\x03\x04\x05", "needs 4 data bytes"),
])
def test_bad_files_raise_clear_errors(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_idx(raw, source="bad.idx")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        read_idx(tmp_path / "nope.idx")

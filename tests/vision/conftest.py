"""Fixtures for the vision tests: a fake Fashion-MNIST folder, so loaders and the CLI run without the
real data set, and a small CNN configuration that trains in a fraction of a second."""

import gzip
import struct

import numpy as np
import pytest

from minitransformer.data.images import sets as image_data
from minitransformer.models.cnn import CNNConfig



def write_idx_gz(path, array):
    """An IDX file (uint8 elements) written independently of the reader under test."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


@pytest.fixture
def fake_fashion_dir(tmp_path, monkeypatch):
    """A folder laid out like the Debian package: 40 train and 20 test 28x28 images, labels i % 10.
    Each class is a bright square at its own place on a dark background (easy to learn)."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 40, (n, 28, 28))
        for i, label in enumerate(labels):
            top, left = 2 + 5 * (label // 5), 2 + 5 * (label % 5)
            images[i, top:top + 8, left:left + 8] = 250
        write_idx_gz(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx_gz(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", labels)
    monkeypatch.setenv(image_data.FASHION_MNIST_DIR_ENV, str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def small_config():
    return CNNConfig(image_size=12, channels=(4, 8), hidden=16, num_classes=2)

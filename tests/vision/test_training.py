"""Pre-training and fine-tuning (train/vision.py): a tiny run learns, each freezing choice and the start
from scratch train exactly the parameters they should, batches are reproducible, checkpoints round-trip."""

import numpy as np
import pytest
import torch

from minitransformer.data.images.sets import ImageSet
from minitransformer.data.images.transforms import Normalize
from minitransformer.models.cnn import CNN
from minitransformer.train.checkpoint import save_checkpoint
from minitransformer.train.loop import TrainConfig
from minitransformer.train.vision import (batch_getter, evaluate, finetune, image_tensors, load_cnn, plot_filters,
                                          pretrain, transfer_model)


def squares(n, num_classes=2, size=12, seed=0):
    """Class c = a bright 4x4 square at position c on a noisy dark background."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % num_classes
    images = rng.integers(0, 60, (n, size, size))
    for i, label in enumerate(labels):
        top = left = 1 + 3 * label
        images[i, top:top + 4, left:left + 4] = 240
    return ImageSet(images.astype(np.uint8), labels.astype(np.int64), tuple(map(str, range(num_classes))), "sq")


def config(steps, seed=0, lr=1e-2):
    return TrainConfig(steps=steps, lr=lr, warmup_steps=0, decay="constant", eval_every=0,
                       checkpoint_every=0, seed=seed)


@pytest.fixture(scope="module")
def pretrained(small_config):
    data = squares(64)
    model, normalize, history = pretrain(data, small_config, config(25), batch_size=16, max_shift=1,
                                         progress=False)
    return model, normalize, history, data


def test_a_tiny_pretraining_run_learns(pretrained):
    model, normalize, history, data = pretrained
    first, last = np.mean([r["loss"] for r in history[:3]]), np.mean([r["loss"] for r in history[-3:]])
    assert last < 0.5 * first
    held_out = squares(40, seed=1)
    assert evaluate(model, *image_tensors(held_out, 12), normalize)["accuracy"] >= 0.9


EVERY_CONVOLUTION = {"0.weight", "0.bias", "3.weight", "3.bias"}


@pytest.mark.parametrize("freezing, scratch, learning", [("head", False, set()), ("top", False, {"3.weight", "3.bias"}),
                                                         ("all", False, EVERY_CONVOLUTION),
                                                         ("all", True, EVERY_CONVOLUTION)])
def test_each_start_trains_exactly_what_it_should(pretrained, freezing, scratch, learning):
    base, normalize, _, _ = pretrained
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    new_task = squares(30, num_classes=3, seed=2)
    model, history = finetune(base, freezing, new_task, config(5), normalize, batch_size=8, scratch=scratch,
                              progress=False)
    features = dict(model.features.named_parameters())
    base_features = dict(base.features.named_parameters())
    assert model.config.num_classes == 3 and len(history) == 5
    for name, value in base.state_dict().items():  # the pre-trained model itself is untouched
        assert torch.equal(value, base_state[name])
    assert {name for name, parameter in features.items() if parameter.requires_grad} == learning
    for name, parameter in features.items():
        if name not in learning:
            assert parameter.grad is None and torch.equal(parameter, base_features[name])
        else:
            assert not torch.equal(parameter, base_features[name])
    assert model(torch.randn(2, 1, 12, 12)).shape == (2, 3)


def test_all_gives_the_pretrained_convolutions_the_scaled_learning_rate(pretrained):
    base, normalize, _, _ = pretrained
    tiny = 1e-12  # the convolutions at a vanishing rate barely move; the head at lr does
    model, _ = finetune(base, "all", squares(12, num_classes=3), config(3), normalize, batch_size=4,
                        backbone_lr_scale=tiny, progress=False)
    for tuned, original in zip(model.features.parameters(), base.features.parameters()):
        assert tuned.requires_grad and torch.allclose(tuned, original, rtol=0, atol=1e-9)
    torch.manual_seed(0)  # finetune seeds with config's seed 0, then builds this very head
    initial_head = transfer_model(base, 3).classifier
    assert all(not torch.equal(p, q) for p, q in zip(model.classifier.parameters(), initial_head.parameters()))


def test_scratch_starts_from_fresh_weights_and_the_others_from_the_pretrained_ones(pretrained):
    base, normalize, _, _ = pretrained
    scratch, tuned = transfer_model(base, 3, scratch=True), transfer_model(base, 3)
    first = "0.weight"
    assert not torch.equal(dict(scratch.features.named_parameters())[first], base.features[0].weight)
    assert torch.equal(dict(tuned.features.named_parameters())[first], base.features[0].weight)
    new_task = squares(12, num_classes=3)
    with pytest.raises(ValueError, match="freezing must be one of"):
        finetune(base, "linear-probe", new_task, config(1), normalize, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="from scratch nothing is pre-trained to freeze"):
        finetune(base, "head", new_task, config(1), normalize, batch_size=4, scratch=True, progress=False)
    with pytest.raises(ValueError, match="top_layers must be in"):
        finetune(base, "top", new_task, config(1), normalize, batch_size=4, top_layers=3, progress=False)


def test_batches_depend_on_the_step_only_and_cover_each_epoch():
    x, labels = torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10)
    get_batch = batch_getter(x, labels, 4, seed=3, normalize=Normalize(0.0, 1.0))
    epoch = [get_batch(step)[1] for step in range(3)]  # batches of 4, 4, 2
    assert [len(b) for b in epoch] == [4, 4, 2]
    assert sorted(torch.cat(epoch).tolist()) == list(range(10))
    assert torch.equal(get_batch(1)[1], epoch[1])  # asked again: the same batch
    assert not torch.equal(torch.cat([get_batch(s)[1] for s in range(3, 6)]), torch.cat(epoch))
    xs, ys = get_batch(4)
    assert torch.equal(xs.flatten(), ys.float())  # images stay paired with their labels
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        batch_getter(x, labels, 0, seed=0, normalize=Normalize(0.0, 1.0))


def test_batches_are_normalised_and_shifted():
    x = torch.zeros(4, 1, 5, 5)
    x[:, :, 2, 2] = 1.0
    get_batch = batch_getter(x, torch.zeros(4, dtype=torch.int64), 4, seed=0, normalize=Normalize(0.5, 0.25),
                             max_shift=1)
    images, _ = get_batch(0)
    assert torch.equal(images.unique(), torch.tensor([-2.0, 2.0]))  # (0 - .5)/.25 and (1 - .5)/.25
    assert torch.equal(images, get_batch(0)[0])


def test_evaluate_matches_a_direct_computation(pretrained):
    model, normalize, _, _ = pretrained
    data = squares(23, seed=5)
    x, labels = image_tensors(data, 12)
    logits = model(normalize(x))
    result = evaluate(model, x, labels, normalize, batch_size=5)
    assert result["accuracy"] == pytest.approx((logits.argmax(1) == labels).float().mean().item())
    assert result["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, labels).item(), rel=1e-5)


def test_image_tensors_fits_8x8_digits_into_28x28():
    data = ImageSet(np.full((3, 8, 8), 255, np.uint8), np.arange(3), ("a", "b", "c"), "tiny")
    x, labels = image_tensors(data, 28)
    assert x.shape == (3, 1, 28, 28) and x.sum().item() == 3 * 24 * 24 and labels.dtype == torch.int64


def test_checkpoints_round_trip(tmp_path, small_config):
    data = squares(16)
    model, normalize, _ = pretrain(data, small_config, config(2), batch_size=8, out_dir=tmp_path / "pre",
                                   progress=False)
    loaded, loaded_normalize, state = load_cnn(tmp_path / "pre" / "checkpoint.safetensors")
    x = torch.randn(3, 1, 12, 12)
    assert torch.equal(loaded(x), model(x))
    assert (loaded_normalize.mean, loaded_normalize.std) == (normalize.mean, normalize.std)
    assert state["class_names"] == ["0", "1"] and (tmp_path / "pre" / "loss_curve.png").is_file()
    tuned, _ = finetune(loaded, "head", squares(12, num_classes=3), config(2), normalize, batch_size=4,
                        out_dir=tmp_path / "tuned", progress=False)
    reloaded, _, tuned_state = load_cnn(tmp_path / "tuned" / "checkpoint.safetensors")
    assert (tuned_state["freezing"], tuned_state["scratch"]) == ("head", False) and torch.equal(reloaded(x), tuned(x))


def test_loading_something_else_raises(tmp_path):
    save_checkpoint(tmp_path / "other.safetensors", torch.nn.Linear(2, 2), state={"kind": "bert"})
    with pytest.raises(ValueError, match="not a vision CNN checkpoint"):
        load_cnn(tmp_path / "other.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="truncated or not a safetensors file"):
        load_cnn(tmp_path / "junk.safetensors")


def test_plot_filters_writes_a_png(tmp_path, small_config):
    path = plot_filters(CNN(small_config), tmp_path / "filters.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

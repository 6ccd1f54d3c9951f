"""Pre-training the CNN on one image task and fine-tuning it on another, on the generic loop (train/loop.py).

A new task with few labels starts from a copy of the pre-trained CNN with a freshly initialised classifier
head (Yosinski et al. 2014, "How transferable are features in deep neural networks?"), and a freezing
choice of train/freezing.py says what learns: "head" keeps the pre-trained convolutions fixed (the seeds'
recipe), "top" opens the top ``top_layers`` convolutions, "all" trains everything; pre-trained
convolutions that learn do so at lr · backbone_lr_scale (the head at lr). With ``scratch`` the start is a
freshly initialised CNN of the same shape instead, every weight learning at lr: the baseline.
The recipe's numbers (steps, batch sizes, learning rates) are in recipes/vision.py.

Images are kept in [0, 1]; each batch is shifted at random (``max_shift`` pixels, 0 = off) and then
normalised with the mean and std of the *pre-training* images, which travel in the checkpoint so the
fine-tuned model sees inputs on the scale its convolutions were trained on.
"""

import copy
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from minitransformer.data.images.transforms import Normalize, RandomShift, fit_to_size, to_float_batch  # noqa: E402
from minitransformer.models.cnn import CNN, CNNConfig  # noqa: E402
from minitransformer.train.checkpoint import load_checkpoint, read_checkpoint  # noqa: E402
from minitransformer.train.freezing import check_freezing, freezing_param_groups  # noqa: E402
from minitransformer.train.loop import train  # noqa: E402
from minitransformer.train.seeding import seeded_generator  # noqa: E402

SHIFT_STREAM = 500_009  # the shifts of step t are seeded by (seed, SHIFT_STREAM + t), apart from the epochs' orders


def image_tensors(image_set, size=28):
    """x (N, 1, size, size) float32 in [0, 1] (smaller images upscaled and padded), labels (N,) int64."""
    x = to_float_batch(image_set.images)  # (N, 1, H, W)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = fit_to_size(x, size)
    return x, torch.as_tensor(image_set.labels, dtype=torch.int64)


def batch_getter(x, labels, batch_size, seed, normalize, max_shift=0):
    """``get_batch(step)`` for train/loop.py. Each epoch visits every example once in an order seeded by
    (seed, epoch); the shifts are seeded by (seed, step): a batch depends on its step only."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    count = len(x)
    batch_size = min(batch_size, count)
    batches_per_epoch = math.ceil(count / batch_size)

    def get_batch(step):
        epoch, position = divmod(step, batches_per_epoch)
        order = torch.randperm(count, generator=seeded_generator(seed, epoch))
        index = order[position * batch_size:(position + 1) * batch_size]
        images = x[index]  # (b, 1, H, W)
        if max_shift:
            images = RandomShift(max_shift, generator=seeded_generator(seed, SHIFT_STREAM + step))(images)
        return normalize(images), labels[index]

    return get_batch


@torch.no_grad()
def evaluate(model, x, labels, normalize, batch_size=500):
    """Mean cross-entropy and accuracy of ``model`` on all of (x, labels), in chunks of ``batch_size``."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        batch = (normalize(x[start:start + batch_size]), labels[start:start + batch_size])
        loss, parts = model.loss(batch)
        loss_sum += loss.item() * len(batch[1])
        correct += round(parts["accuracy"].item() * len(batch[1]))
    model.train(was_training)
    return {"loss": loss_sum / len(x), "accuracy": correct / len(x)}


def checkpoint_state(model, normalize, image_set):
    """What a vision checkpoint carries besides the weights (JSON)."""
    return {"kind": "vision-cnn", "model_config": model.config.to_dict(),
            "normalize": [normalize.mean, normalize.std], "dataset": image_set.name,
            "class_names": list(image_set.class_names)}


def pretrain(train_set, model_config, train_config, *, batch_size, max_shift=0, val_set=None, out_dir=None,
             progress=True):
    """Train a fresh CNN on ``train_set``; returns (model, normalize, history).

    The normalisation is fitted to ``train_set``; ``val_set`` (optional) is evaluated every
    ``train_config.eval_every`` steps; ``out_dir`` receives checkpoint.safetensors and loss_curve.png.
    """
    torch.manual_seed(train_config.seed)
    model = CNN(CNNConfig(**{**model_config.to_dict(), "num_classes": train_set.num_classes}))
    x, labels = image_tensors(train_set, model.config.image_size)
    normalize = Normalize.fitted_to(x)
    evaluate_fn = None
    if val_set is not None:
        x_val, labels_val = image_tensors(val_set, model.config.image_size)
        evaluate_fn = lambda m: evaluate(m, x_val, labels_val, normalize)  # noqa: E731
    history = train(model, batch_getter(x, labels, batch_size, train_config.seed, normalize, max_shift),
                    train_config, out_dir=out_dir, evaluate=evaluate_fn,
                    checkpoint_state=checkpoint_state(model, normalize, train_set), progress=progress,
                    desc=f"pretrain {train_set.name}")
    return model, normalize, history


def load_cnn(path):
    """(model, normalize, state) from a checkpoint written by ``pretrain`` or ``finetune``."""
    _, state = read_checkpoint(path)
    if state.get("kind") != "vision-cnn":
        raise ValueError(f"checkpoint {path} is not a vision CNN checkpoint (kind={state.get('kind')!r})")
    model = CNN(CNNConfig(**state["model_config"]))
    load_checkpoint(path, model, restore_rng=False)
    return model, Normalize(*state["normalize"]), state


def transfer_model(base, num_classes, scratch=False):
    """The model a fine-tuning run starts from: a copy of ``base`` with a new head for ``num_classes``, or
    (``scratch``) a freshly initialised CNN of the same shape."""
    if scratch:
        return CNN(CNNConfig(**{**base.config.to_dict(), "num_classes": num_classes}))
    model = copy.deepcopy(base)
    model.new_classifier(num_classes)
    return model


def finetune(base, freezing, train_set, train_config, normalize, *, batch_size, top_layers=1,
             backbone_lr_scale=1.0, scratch=False, max_shift=0, out_dir=None, progress=True):
    """Adapt the pre-trained ``base`` to ``train_set``, ``freezing`` saying what learns (train/freezing.py);
    returns (model, history). ``scratch``: start from fresh weights instead, all learning (``freezing`` "all").

    ``train_config.lr`` is the head's learning rate (and everything's, from scratch). ``base`` is not
    modified. The seed of ``train_config`` decides the new weights and the batches.
    """
    check_freezing(freezing)
    if scratch and freezing != "all":
        raise ValueError(f"from scratch nothing is pre-trained to freeze: freezing must be 'all', got {freezing!r}")
    torch.manual_seed(train_config.seed)
    model = transfer_model(base, train_set.num_classes, scratch)
    param_groups = None  # from scratch: every parameter at lr
    if not scratch:
        convolutions = model.convolutions()
        if freezing == "top" and not 1 <= top_layers <= len(convolutions):
            raise ValueError(f"top_layers must be in [1, {len(convolutions)}], got {top_layers}")
        param_groups = freezing_param_groups(model.classifier.parameters(), model.features,
                                             convolutions[-top_layers:], freezing, train_config.lr,
                                             backbone_lr_scale)
    x, labels = image_tensors(train_set, model.config.image_size)
    desc = f"{'scratch' if scratch else freezing} {train_set.name}"
    history = train(model, batch_getter(x, labels, batch_size, train_config.seed, normalize, max_shift),
                    train_config, out_dir=out_dir, param_groups=param_groups,
                    checkpoint_state={**checkpoint_state(model, normalize, train_set), "freezing": freezing,
                                      "scratch": scratch},
                    progress=progress, desc=desc)
    return model, history


def plot_filters(model, path, title="first-layer filters"):
    """A grid of the first convolution's kernels, each scaled to its own range (grey = 0)."""
    filters = model.first_layer_filters()[:, 0]  # (C1, k, k), first input channel
    columns = min(8, len(filters))
    rows = math.ceil(len(filters) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.1 * rows + 0.4), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, kernel in zip(axes.flat, filters):
        limit = kernel.abs().max().item() or 1.0
        axis.imshow(kernel.numpy(), cmap="gray", vmin=-limit, vmax=limit)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""The CNN transfer recipe (docs/vision.md): pre-train the CNN on some classes of an image set, then adapt
it to other classes with few labels. The defaults are what `minitransformer vision` runs and what
bench/vision_transfer.py measured:

    VisionPretrainRecipe   a class-balanced 8,000 training images, 2 epochs of 64, random shifts of ±2
                           pixels, AdamW lr 2e-3
    VisionFinetuneRecipe   50 labels, 80 steps of 32, no shifts, lr 1e-3 for the new head; freezing "head"
                           (train/freezing.py); under "all" the pre-trained convolutions learn at 0.3x that

Both schedules warm up for 10% of the steps, then decay along a cosine (optim/schedules.py).
"""

import math
from dataclasses import dataclass

from minitransformer.train.freezing import check_freezing
from minitransformer.train.loop import TrainConfig


def _schedule(steps, lr, seed):
    return TrainConfig(steps=steps, lr=lr, warmup_steps=steps // 10, decay="cosine", eval_every=0,
                       checkpoint_every=0, seed=seed)


@dataclass
class VisionPretrainRecipe:
    train_size: int = 8000  # class-balanced subset of the training images; 0 = all of them
    epochs: int = 2
    batch_size: int = 64
    max_shift: int = 2  # random shift augmentation, in pixels
    lr: float = 2e-3

    def steps(self, n_images):
        """``epochs`` passes over ``n_images`` images."""
        return self.epochs * math.ceil(n_images / self.batch_size)

    def train_config(self, n_images, seed=0):
        return _schedule(self.steps(n_images), self.lr, seed)


@dataclass
class VisionFinetuneRecipe:
    labels: int = 50  # class-balanced label budget; 0 = every training image
    steps: int = 80
    batch_size: int = 32
    max_shift: int = 0
    lr: float = 1e-3  # the new head's
    freezing: str = "head"  # the seeds' recipe: the pre-trained convolutions stay fixed
    top_layers: int = 1  # convolutions that learn under freezing "top"
    backbone_lr_scale: float = 0.3  # the pre-trained convolutions' lr / the head's, under "top" and "all"

    def __post_init__(self):
        check_freezing(self.freezing)

    def train_config(self, seed=0):
        return _schedule(self.steps, self.lr, seed)

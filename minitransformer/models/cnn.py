"""A small convolutional classifier for 28x28 greyscale images, built only from minitransformer.nn.

The shape is the classic LeNet recipe (LeCun et al. 1998, "Gradient-based learning applied to document
recognition") as the seeds' CNNModel writes it: two blocks of convolution -> ReLU -> 2x2 max-pooling,
then a fully connected classifier:

    h1 = maxpool2(relu(conv3x3(x,  C1)))        x: (B, 1, 28, 28)  ->  h1: (B, C1, 14, 14)
    h2 = maxpool2(relu(conv3x3(h1, C2)))                           ->  h2: (B, C2, 7, 7)
    logits = W2 relu(W1 flatten(h2) + b1) + b2                     ->  (B, num_classes)

The convolutions ("features") are what pre-training is for; ``new_classifier`` puts a fresh head on them
for a new task, as in the transfer recipe of Yosinski et al. (2014, "How transferable are features in deep
neural networks?"), and train/freezing.py decides which of them learn (``convolutions``, bottom to top).
"""

from dataclasses import asdict, dataclass

import torch
from torch import nn

from minitransformer.nn._checks import check_positive_int
from minitransformer.nn.activations import ReLU
from minitransformer.nn.conv import Conv2d
from minitransformer.nn.linear import Linear
from minitransformer.nn.losses import cross_entropy
from minitransformer.nn.pooling import MaxPool2d


@dataclass
class CNNConfig:
    image_size: int = 28          # square inputs, a multiple of 4 (two 2x2 poolings)
    in_channels: int = 1
    channels: tuple = (16, 32)    # C1, C2: output channels of the two convolutions
    kernel_size: int = 3          # odd; padding keeps the size ("same" convolution)
    hidden: int = 128             # width of the first fully connected layer
    num_classes: int = 10

    def __post_init__(self):
        if isinstance(self.channels, list):
            self.channels = tuple(self.channels)  # JSON (checkpoints) gives lists
        for name in ("image_size", "in_channels", "kernel_size", "hidden", "num_classes"):
            check_positive_int(name, getattr(self, name))
        if self.image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 (two 2x2 poolings), got {self.image_size}")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding), got {self.kernel_size}")
        if not isinstance(self.channels, tuple) or len(self.channels) != 2 or \
                not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in self.channels):
            raise ValueError(f"channels must be two positive integers, got {self.channels!r}")

    def to_dict(self):
        return asdict(self)


def make_classifier(config: CNNConfig) -> nn.Sequential:
    """The fully connected head: flatten(h2) -> hidden -> ReLU -> num_classes."""
    flat = config.channels[1] * (config.image_size // 4) ** 2
    return nn.Sequential(Linear(flat, config.hidden), ReLU(), Linear(config.hidden, config.num_classes))


class CNN(nn.Module):
    def __init__(self, config: CNNConfig = None):
        super().__init__()
        self.config = config = config or CNNConfig()
        c1, c2 = config.channels
        pad = config.kernel_size // 2
        self.features = nn.Sequential(
            Conv2d(config.in_channels, c1, config.kernel_size, padding=pad), ReLU(), MaxPool2d(2),
            Conv2d(c1, c2, config.kernel_size, padding=pad), ReLU(), MaxPool2d(2),
        )
        self.classifier = make_classifier(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size, channels = self.config.image_size, self.config.in_channels
        if x.ndim != 4 or tuple(x.shape[1:]) != (channels, size, size):
            raise ValueError(f"x must be (B, {channels}, {size}, {size}), got shape {tuple(x.shape)}")
        h = self.features(x)                      # (B, C2, size/4, size/4)
        return self.classifier(h.flatten(1))      # (B, num_classes)

    def loss(self, batch):
        """Mean cross-entropy of a batch ``(x, labels)``, and its accuracy (the training loop's contract)."""
        x, labels = batch
        logits = self(x)                          # (B, num_classes)
        accuracy = (logits.argmax(dim=-1) == labels).float().mean()
        return cross_entropy(logits, labels), {"accuracy": accuracy.detach()}

    def convolutions(self):
        """The convolution layers of ``features``, first to last (the only ones with parameters)."""
        return [module for module in self.features if isinstance(module, Conv2d)]

    def new_classifier(self, num_classes: int):
        """Replace the whole fully connected head by a freshly initialised one for ``num_classes``."""
        self.config = CNNConfig(**{**self.config.to_dict(), "num_classes": num_classes})
        device = next(self.features.parameters()).device
        self.classifier = make_classifier(self.config).to(device)

    def first_layer_filters(self) -> torch.Tensor:
        """The first convolution's kernels, (C1, in_channels, k, k), for plotting."""
        return self.convolutions()[0].weight.detach().cpu()

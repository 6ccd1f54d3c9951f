"""The CNN: output shapes on random configurations, the layers it is built from, input checks, freezing
and the new classifier head."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.models.cnn import CNN, CNNConfig
from minitransformer.nn import Conv2d, Linear, MaxPool2d
from minitransformer.train.freezing import freezing_param_groups


@given(batch=st.integers(1, 3), size=st.sampled_from([4, 8, 12, 28]), in_channels=st.integers(1, 2),
       c1=st.integers(1, 5), c2=st.integers(1, 5), kernel=st.sampled_from([1, 3, 5]),
       hidden=st.integers(1, 9), classes=st.integers(1, 6))
def test_shapes(batch, size, in_channels, c1, c2, kernel, hidden, classes):
    config = CNNConfig(image_size=size, in_channels=in_channels, channels=(c1, c2), kernel_size=kernel,
                       hidden=hidden, num_classes=classes)
    model = CNN(config)
    x = torch.randn(batch, in_channels, size, size)
    assert model.features(x).shape == (batch, c2, size // 4, size // 4)
    assert model(x).shape == (batch, classes)
    assert model.first_layer_filters().shape == (c1, in_channels, kernel, kernel)


def test_built_from_our_layers_with_the_expected_parameter_count():
    model = CNN(CNNConfig())  # channels (16, 32), hidden 128, 10 classes
    kinds = [type(m) for m in model.modules()]
    assert kinds.count(Conv2d) == 2 and kinds.count(MaxPool2d) == 2 and kinds.count(Linear) == 2
    assert not any(m.__module__.startswith("torch.nn.modules") and not isinstance(m, torch.nn.Sequential)
                   for m in model.modules())
    expected = (1 * 16 * 9 + 16) + (16 * 32 * 9 + 32) + (32 * 7 * 7 * 128 + 128) + (128 * 10 + 10)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_forward_equals_the_same_network_written_with_torch_builtins():
    torch.manual_seed(0)
    model = CNN(CNNConfig(image_size=12, channels=(3, 4), hidden=5, num_classes=3))
    x = torch.randn(2, 1, 12, 12)
    conv1, conv2 = model.features[0], model.features[3]
    fc1, fc2 = model.classifier[0], model.classifier[2]
    F = torch.nn.functional
    h = F.max_pool2d(F.relu(F.conv2d(x, conv1.weight, conv1.bias, padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, conv2.weight, conv2.bias, padding=1)), 2)
    expected = F.linear(F.relu(F.linear(h.flatten(1), fc1.weight, fc1.bias)), fc2.weight, fc2.bias)
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 28, 28), (2, 3, 28, 28), (2, 1, 27, 28)])
def test_wrong_input_shape_names_x(shape):
    with pytest.raises(ValueError, match=r"x must be \(B, 1, 28, 28\)"):
        CNN()(torch.randn(*shape))


@pytest.mark.parametrize("kwargs, message", [
    ({"image_size": 30}, "image_size must be a multiple of 4"),
    ({"kernel_size": 4}, "kernel_size must be odd"),
    ({"channels": (8,)}, "channels must be two positive integers"),
    ({"channels": (8, 0)}, "channels must be two positive integers"),
    ({"channels": 8}, "channels must be two positive integers"),
    ({"hidden": 0}, "hidden must be a positive integer"),
    ({"num_classes": 2.5}, "num_classes must be a positive integer"),
])
def test_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CNNConfig(**kwargs)


def test_freezing_the_convolutions_stops_their_gradients_only():
    model = CNN(CNNConfig(image_size=8, channels=(2, 3), hidden=4, num_classes=2))
    assert [conv.weight.shape[0] for conv in model.convolutions()] == [2, 3]
    groups = freezing_param_groups(model.classifier.parameters(), model.features, [], "head", lr=0.1)
    assert [len(group["params"]) for group in groups] == [len(list(model.classifier.parameters()))]
    loss, _ = model.loss((torch.randn(3, 1, 8, 8), torch.tensor([0, 1, 1])))
    loss.backward()
    assert all(p.grad is None and not p.requires_grad for p in model.features.parameters())
    assert all(p.grad is not None for p in model.classifier.parameters())


def test_new_classifier_replaces_the_head_and_keeps_the_features():
    model = CNN(CNNConfig(image_size=8, channels=(2, 3), hidden=4, num_classes=2))
    features_before = [p.clone() for p in model.features.parameters()]
    old_head = model.classifier
    model.new_classifier(7)
    assert model.classifier is not old_head and model.config.num_classes == 7
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 7)
    for before, after in zip(features_before, model.features.parameters()):
        assert torch.equal(before, after)


def test_loss_reports_cross_entropy_and_accuracy():
    model = CNN(CNNConfig(image_size=8, channels=(2, 3), hidden=4, num_classes=3))
    x, labels = torch.randn(5, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1])
    loss, parts = model.loss((x, labels))
    logits = model(x)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(logits, labels))
    assert parts["accuracy"].item() == pytest.approx((logits.argmax(1) == labels).float().mean().item())

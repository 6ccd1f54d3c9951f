"""The freezing vocabulary shared by text fine-tuning and image transfer: what learns, at which rate."""

import pytest
import torch

from minitransformer.models.cnn import CNN, CNNConfig
from minitransformer.train.freezing import FREEZING, check_freezing, freezing_param_groups


def _cnn():
    torch.manual_seed(0)
    return CNN(CNNConfig(image_size=8, channels=(2, 3), hidden=4, num_classes=2))


@pytest.mark.parametrize("freezing, learning", [("head", []), ("top", ["features.3."]),
                                                ("all", ["features.0.", "features.3."])])
def test_each_choice_opens_exactly_its_part_of_the_backbone(freezing, learning):
    model = _cnn()
    head = list(model.classifier.parameters())
    groups = freezing_param_groups(head, model.features, model.convolutions()[-1:], freezing, lr=0.1,
                                   backbone_lr_scale=0.25)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {name for name, _ in model.named_parameters()
                         if name.startswith("classifier.") or name.startswith(tuple(learning))}
    assert groups[0]["params"] == head and groups[0]["lr"] == 0.1
    opened = [p for name, p in model.named_parameters() if name.startswith(tuple(learning or ["none"]))]
    assert [{id(p) for p in group["params"]} for group in groups[1:]] == ([{id(p) for p in opened}] if opened else [])
    if learning:
        assert groups[1]["lr"] == pytest.approx(0.025)


def test_bad_choices_are_refused():
    assert FREEZING == ("head", "top", "all") and check_freezing("top") == "top"
    model = _cnn()
    with pytest.raises(ValueError, match="freezing must be one of"):
        freezing_param_groups(model.classifier.parameters(), model.features, [], "frozen", lr=0.1)
    with pytest.raises(ValueError, match="backbone_lr_scale must be positive"):
        freezing_param_groups(model.classifier.parameters(), model.features, [], "all", lr=0.1, backbone_lr_scale=0)

"""Which weights learn when a pre-trained model is adapted to a new task: one vocabulary for text
fine-tuning (train/finetune.py) and image transfer (train/vision.py).

    "head"  only the new head learns; the pre-trained backbone is a fixed feature extractor
            (Yosinski et al. 2014's frozen transfer; BERT's feature-based approach, Devlin et al. 2019)
    "top"   the head and the backbone's top blocks learn (BERT: the top encoder layers and the pooler;
            the CNN: the top convolutions), the rest stays fixed
    "all"   everything learns; the backbone at lr · backbone_lr_scale, the head at lr
            ("discriminative fine-tuning", Howard & Ruder 2018, ULMFiT)

A model trained from scratch is not a freezing choice but a starting point: fresh weights, all learning.

A frozen parameter gets ``requires_grad = False``: no gradient reaches it and the optimizer never sees it.
"""

FREEZING = ("head", "top", "all")


def check_freezing(freezing):
    if freezing not in FREEZING:
        raise ValueError(f"freezing must be one of {FREEZING}, got {freezing!r}")
    return freezing


def freezing_param_groups(head, backbone, top, freezing, lr, backbone_lr_scale=1.0):
    """Set ``requires_grad`` on ``backbone`` (a module) for ``freezing``; returns the optimizer's parameter
    groups: ``head`` (its parameters) at ``lr``, the backbone's learning parameters at lr · backbone_lr_scale.
    ``top``: the modules of the backbone that learn under "top"."""
    check_freezing(freezing)
    if not backbone_lr_scale > 0:
        raise ValueError(f"backbone_lr_scale must be positive, got {backbone_lr_scale}")
    for parameter in backbone.parameters():
        parameter.requires_grad_(freezing == "all")
    if freezing == "top":
        for module in top:
            for parameter in module.parameters():
                parameter.requires_grad_(True)
    groups = [{"params": list(head), "lr": lr}]
    learning = [parameter for parameter in backbone.parameters() if parameter.requires_grad]
    if learning:
        groups.append({"params": learning, "lr": lr * backbone_lr_scale})
    return groups

"""Fine-tuning a pre-trained encoder for classification (Devlin et al. 2019, section 4; Howard & Ruder
2018, "ULMFiT", for discriminative learning rates):

    freezing "head", "top" or "all" (train/freezing.py): what learns; "top" opens the top ``top_layers``
    encoder layers and the pooler. The encoder's learning parameters use lr · backbone_lr_scale, the head lr.

Batches are drawn epoch by epoch from a seeded permutation (a pure function of the step, so runs
resume exactly), and each batch is trimmed to its longest sequence (data/text/padding.py).
"""

import torch

from minitransformer.data.text.padding import map_trimmed_batches, trim_padding
from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.metrics import classification_report
from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.models.classifier import SequenceClassifier
from minitransformer.train.checkpoint import load_checkpoint, read_checkpoint
from minitransformer.train.freezing import check_freezing, freezing_param_groups
from minitransformer.train.loop import train
from minitransformer.train.seeding import seeded_generator

# Epoch e of a run seeded s walks a permutation seeded with s · 100,003 + e (not train/seeding.py's STRIDE:
# the fine-tuning runs measured with this one must reproduce).
EPOCH_STRIDE = 100_003


def finetune_param_groups(classifier, lr, freezing="all", top_layers=1, backbone_lr_scale=1.0):
    """Set ``requires_grad`` for ``freezing`` (train/freezing.py); returns the optimizer's parameter groups."""
    encoder = classifier.encoder
    if check_freezing(freezing) == "top" and not 1 <= top_layers <= len(encoder.layers):
        raise ValueError(f"top_layers must be in [1, {len(encoder.layers)}], got {top_layers}")
    head = [p for name, p in classifier.named_parameters() if not name.startswith("encoder.")]
    top = [*encoder.layers[-top_layers:], encoder.pooler] if freezing == "top" else []
    return freezing_param_groups(head, encoder, top, freezing, lr, backbone_lr_scale)


def epoch_batches(n_examples, batch_size, seed=0):
    """``indices(step)``: the step's example indices; epoch e walks a permutation seeded by (seed, e)."""
    if batch_size < 1 or n_examples < 1:
        raise ValueError(f"batch_size and n_examples must be positive, got {batch_size} and {n_examples}")
    batch_size = min(batch_size, n_examples)
    per_epoch = n_examples // batch_size

    def indices(step):
        epoch, position = divmod(step, per_epoch)
        order = torch.randperm(n_examples, generator=seeded_generator(seed, epoch, stride=EPOCH_STRIDE))
        return order[position * batch_size:(position + 1) * batch_size]
    return indices


@torch.no_grad()
def predict(classifier, input_ids, padding_mask, batch_size=256):
    """Predicted class ids (N,) in eval mode."""
    classifier.eval()
    return map_trimmed_batches(lambda ids, pad: classifier(ids, pad).argmax(-1), input_ids, padding_mask, batch_size)


def evaluate_classifier(classifier, input_ids, padding_mask, labels, num_classes):
    """``metrics.classification_report`` of the classifier's predictions."""
    predictions = predict(classifier, input_ids, padding_mask)
    return classification_report(torch.as_tensor(labels).numpy(), predictions.numpy(), num_classes)


def finetune(classifier, input_ids, padding_mask, labels, config, batch_size=32, freezing="all", top_layers=1,
             backbone_lr_scale=1.0, evaluate=None, out_dir=None, progress=True, desc="fine-tune",
             checkpoint_state=None):
    """Train ``classifier`` on (input_ids, padding_mask, labels) with ``train.loop.train``; returns the history."""
    labels = torch.as_tensor(labels, dtype=torch.long)
    if not input_ids.shape[0] == padding_mask.shape[0] == labels.shape[0]:
        raise ValueError(f"input_ids, padding_mask and labels must have the same length, got "
                         f"{input_ids.shape[0]}, {padding_mask.shape[0]}, {labels.shape[0]}")
    groups = finetune_param_groups(classifier, config.lr, freezing, top_layers, backbone_lr_scale)
    indices = epoch_batches(labels.shape[0], batch_size, config.seed)

    def get_batch(step):
        chosen = indices(step)
        ids, pad = input_ids[chosen], padding_mask[chosen]
        return (*trim_padding(pad, ids, pad), labels[chosen])
    return train(classifier, get_batch, config, out_dir=out_dir, evaluate=evaluate, param_groups=groups,
                 progress=progress, desc=desc, checkpoint_state=checkpoint_state)


def load_classifier(path):
    """``(SequenceClassifier, tokenizer, state)`` from a checkpoint written by ``minitransformer finetune``."""
    _, state = read_checkpoint(path)
    if state.get("model") != "classifier":
        raise ValueError(f"checkpoint {path} does not hold a fine-tuned classifier (model={state.get('model')!r})")
    classifier = SequenceClassifier(BertModel(BertConfig(**state["model_config"])), len(state["class_names"]),
                                    pooling=state["pooling"])
    load_checkpoint(path, classifier, restore_rng=False)
    return classifier.eval(), WordPieceTokenizer.from_json(state["tokenizer"]), state

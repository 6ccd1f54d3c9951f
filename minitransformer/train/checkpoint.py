"""Checkpoints as safetensors files: tensors only, never pickle, so loading runs no code from the file.

One file holds everything needed to continue a run exactly:

    tensors   "model/<name>"                    the model's state_dict
              "optimizer/<param index>/<key>"   the optimizer's per-parameter tensors (Adam's m and v)
              "rng/torch"                       the CPU random-number state (dropout, sampling)
    metadata  "format"  = "minitransformer-checkpoint",  "version" = "1"
              "state"   = JSON: step, loss history, model config, tokenizer, the optimizer's
                          hyper-parameters and per-parameter scalars, and anything the caller adds
                          (the training loop adds its float16 gradient scaler's state)

A pre-training checkpoint's state also names its model's kind, config and tokenizer
(``pretraining_state``), so ``load_pretrained(path)`` rebuilds the model and its tokenizer from the file.

Writing is atomic: the file is written under a temporary name in the same folder, then moved over
the old one with ``os.replace`` — a run killed mid-write leaves the previous checkpoint intact.
"""

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.models.bert import BertConfig, BertForPreTraining
from minitransformer.models.gpt import GPT, GPTConfig

FORMAT_NAME, FORMAT_VERSION = "minitransformer-checkpoint", "1"
# The models a pre-training checkpoint may hold: kind (its state's "model") -> (config class, model class).
PRETRAINED_MODELS = {"bert": (BertConfig, BertForPreTraining), "gpt": (GPTConfig, GPT)}


def _split_optimizer_state(optimizer):
    state_dict = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, state in state_dict["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"optimizer/{index}/{key}"] = value.detach().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def save_checkpoint(path, model, optimizer=None, state=None):
    """Write ``model`` (and ``optimizer``, the RNG state and the JSON-serialisable ``state``) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"model/{name}": value.detach().contiguous() for name, value in model.state_dict().items()}
    tensors["rng/torch"] = torch.get_rng_state()
    full_state = dict(state or {})
    if optimizer is not None:
        optimizer_tensors, full_state["optimizer"] = _split_optimizer_state(optimizer)
        tensors.update(optimizer_tensors)
    metadata = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "state": json.dumps(full_state)}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file(tensors, str(temporary), metadata=metadata)
    os.replace(temporary, path)
    return path


def read_checkpoint(path):
    """``(tensors, state)`` from a checkpoint file; ValueError if it is missing, truncated or not ours."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError) as error:
        raise ValueError(f"checkpoint {path} is truncated or not a safetensors file ({error})") from None
    if metadata.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is a safetensors file but not a {FORMAT_NAME} (metadata format="
                         f"{metadata.get('format')!r})")
    if metadata.get("version") != FORMAT_VERSION:
        raise ValueError(f"checkpoint {path} has version {metadata.get('version')!r}; this code reads {FORMAT_VERSION}")
    return tensors, json.loads(metadata["state"])


def _load_model(model, tensors, path):
    saved = {key[len("model/"):]: value for key, value in tensors.items() if key.startswith("model/")}
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(saved)), sorted(set(saved) - set(expected))
    if missing or unexpected:
        raise ValueError(f"checkpoint {path} does not match the model: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}")
    for name, value in expected.items():
        if saved[name].shape != value.shape:
            raise ValueError(f"checkpoint {path} does not match the model: {name} has shape "
                             f"{tuple(saved[name].shape)} in the file, {tuple(value.shape)} in the model")
    model.load_state_dict(saved)


def _load_optimizer(optimizer, tensors, saved):
    per_parameter = {}
    for key, value in tensors.items():
        if key.startswith("optimizer/"):
            _, index, name = key.split("/", 2)
            per_parameter.setdefault(int(index), {})[name] = value
    for index, scalars in saved["scalars"].items():
        per_parameter.setdefault(int(index), {}).update(scalars)
    optimizer.load_state_dict({"state": per_parameter, "param_groups": saved["param_groups"]})


def load_checkpoint(path, model, optimizer=None, restore_rng=True):
    """Load ``path`` into ``model`` (and ``optimizer``); returns the JSON state saved with it."""
    tensors, state = read_checkpoint(path)
    _load_model(model, tensors, path)
    if optimizer is not None:
        if "optimizer" not in state:
            raise ValueError(f"checkpoint {path} holds no optimizer state")
        try:
            _load_optimizer(optimizer, tensors, state["optimizer"])
        except (ValueError, KeyError) as error:
            raise ValueError(f"checkpoint {path}: optimizer state does not match the optimizer ({error})") from None
    if restore_rng:
        torch.set_rng_state(tensors["rng/torch"])
    return state


def pretraining_state(model, tokenizer):
    """The JSON state a pre-training checkpoint carries, so that ``load_pretrained`` can rebuild it: the
    model's kind (a key of ``PRETRAINED_MODELS``), its config and the tokenizer."""
    kind = next((kind for kind, (_, model_class) in PRETRAINED_MODELS.items() if type(model) is model_class), None)
    if kind is None:
        raise ValueError(f"{type(model).__name__} is not a pre-training model ({sorted(PRETRAINED_MODELS)})")
    return {"model": kind, "model_config": model.config.to_dict(), "tokenizer": tokenizer.to_json()}


def load_pretrained(path, kind=None):
    """``(model, tokenizer, state)`` from a pre-training checkpoint: the model of the kind its state names
    (``BertForPreTraining`` or ``GPT``), in eval mode, and its tokenizer. ValueError for a checkpoint that
    holds no pre-trained model (a fine-tuned classifier, a CNN), or, when ``kind`` is given, another kind."""
    tensors, state = read_checkpoint(path)
    found = state.get("model")
    if found not in PRETRAINED_MODELS:
        raise ValueError(f"checkpoint {path} does not hold a pre-trained model (model={found!r}, not one of "
                         f"{sorted(PRETRAINED_MODELS)})")
    if kind is not None and found != kind:
        raise ValueError(f"checkpoint {path} holds a {found.upper()} model, not a {str(kind).upper()}")
    config_class, model_class = PRETRAINED_MODELS[found]
    model = model_class(config_class(**state["model_config"]))
    _load_model(model, tensors, path)
    return model.eval(), WordPieceTokenizer.from_json(state["tokenizer"]), state

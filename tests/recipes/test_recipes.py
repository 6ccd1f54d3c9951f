"""The recipes: named configurations (pre-training, vision), their defaults and validation, and one fine-tuning
run and the TF-IDF baseline on a toy task (fast)."""

from dataclasses import asdict

import pytest
import torch

from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.models.config import TransformerConfig
from minitransformer.models.gpt import GPTConfig
from minitransformer.recipes.finetuning import FinetuneRecipe, run_finetuning
from minitransformer.recipes.pretraining import DEFAULT_RECIPE, RECIPES, PretrainRecipe, build_model, recipe
from minitransformer.recipes.tfidf import run_tfidf
from minitransformer.recipes.vision import VisionFinetuneRecipe, VisionPretrainRecipe


def test_recipes_are_named_and_overridable():
    assert DEFAULT_RECIPE == "reviews-bert" and RECIPES[DEFAULT_RECIPE] == PretrainRecipe()
    gpt = recipe("reviews-gpt", seed=3)
    assert gpt.model == "gpt" and gpt.seed == 3 and RECIPES["reviews-gpt"].seed == 0
    assert gpt.max_len == PretrainRecipe().max_len >= 256
    with pytest.raises(ValueError, match="recipe must be one of"):
        recipe("wiki-bert")
    with pytest.raises(ValueError, match="unknown recipe fields"):
        recipe("reviews-bert", colour="red")
    with pytest.raises(ValueError, match="model must be one of"):
        PretrainRecipe(model="t5")


def test_the_model_fields_default_to_the_model_config_and_the_saved_recipe_rebuilds_it():
    bert = RECIPES["reviews-bert"]
    assert (bert.steps, bert.d_model, bert.n_layers, bert.n_heads, bert.d_ff, bert.max_len, bert.vocab_size) == \
        (3000, 128, 2, 4, 512, 256, 8000)
    assert (bert.lr, bert.batch_size, bert.positions, bert.keep_steps) == (2e-3, 32, "rotary", [375, 750, 1500])
    assert (bert.eval_every, bert.checkpoint_every) == (250, 100)
    for field in ("d_model", "n_layers", "n_heads", "d_ff", "backend"):
        assert getattr(PretrainRecipe(), field) == getattr(TransformerConfig, field)
    config = build_model(bert, 50).config
    assert isinstance(config, BertConfig) and config.max_len == bert.max_len and config.vocab_size == 50
    assert config.dropout == TransformerConfig.dropout  # not a recipe field: the model's default
    assert isinstance(build_model(RECIPES["reviews-gpt"], 50).config, GPTConfig)
    for name in RECIPES:
        assert PretrainRecipe(**asdict(RECIPES[name])) == RECIPES[name]  # what a checkpoint saves rebuilds it


def test_vision_recipes_hold_the_measured_numbers():
    pre, fine = VisionPretrainRecipe(), VisionFinetuneRecipe()
    assert (pre.train_size, pre.epochs, pre.batch_size, pre.max_shift, pre.lr) == (8000, 2, 64, 2, 2e-3)
    assert pre.steps(8000) == 250 and pre.train_config(8000, seed=3).warmup_steps == 25
    assert (fine.labels, fine.steps, fine.batch_size, fine.max_shift, fine.lr) == (50, 80, 32, 0, 1e-3)
    assert (fine.freezing, fine.backbone_lr_scale) == ("head", 0.3)
    config = fine.train_config(seed=2)
    assert (config.steps, config.warmup_steps, config.decay, config.seed) == (80, 8, "cosine", 2)
    with pytest.raises(ValueError, match="freezing must be one of"):
        VisionFinetuneRecipe(freezing="frozen")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_pretraining_seed_draws_the_initial_weights(name):
    small = {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32, "max_len": 16}

    def weights(seed, global_seed=7):
        torch.manual_seed(global_seed)  # whatever the global generator holds, the recipe's seed decides
        return torch.cat([p.detach().flatten() for p in build_model(recipe(name, seed=seed, **small), 50).parameters()])

    assert torch.equal(weights(0), weights(0, global_seed=8))
    assert not torch.allclose(weights(0), weights(1))
    assert recipe(name).positions == "rotary" and recipe(name, positions="learned").positions == "learned"
    with pytest.raises(ValueError, match="positions must be one of"):
        recipe(name, positions="alibi")


def test_finetune_steps_follow_epochs_within_bounds():
    r = FinetuneRecipe(epochs=5, batch_size=32, min_steps=30, max_steps=150)
    assert [r.steps(n) for n in (10, 500, 800, 8454)] == [30, 79, 125, 150]
    with pytest.raises(ValueError, match="min_steps"):
        FinetuneRecipe(min_steps=10, max_steps=5)
    assert FinetuneRecipe().freezing == "all"  # every weight learns, as in every arm of the headline
    with pytest.raises(ValueError, match="freezing must be one of"):
        FinetuneRecipe(freezing="full")


def _toy_task(n=120, length=12, seed=0):
    """Class 1 iff token 7 appears: learnable in a few steps."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(8, 40, (n, length), generator=generator)
    labels = torch.arange(n) % 2
    ids[labels == 1, 3] = 7
    pad = torch.zeros_like(ids, dtype=torch.bool)
    pad[:, -2:] = True
    ids[pad] = 0
    return ids, pad, labels.tolist()


def test_run_finetuning_keeps_the_best_validation_state():
    parts = [_toy_task(seed=s) for s in range(3)]
    data = {"train": parts[0], "validation": parts[1], "test": parts[2], "num_classes": 2}
    torch.manual_seed(0)
    encoder = BertModel(BertConfig(vocab_size=40, max_len=12, d_model=16, n_layers=1, n_heads=2, d_ff=32,
                                   backend="eager"))
    record = run_finetuning(encoder, data, 60, seed=0, recipe=FinetuneRecipe(lr=3e-3, min_steps=30, max_steps=30))
    assert record["n_labels"] == 60 and record["steps"] == 30 and record["best_step"] in (10, 20, 30)
    assert record["validation_accuracy"] >= 0.5 and 0.0 <= record["accuracy"] <= 1.0
    assert sum(map(sum, record["confusion_matrix"])) == 120


def test_tfidf_chooses_c_on_validation():
    words = [("a great moving film", 1), ("dull awful mess", 0), ("great cast great story", 1), ("awful and dull", 0)]
    texts = {part: ([w for w, _ in words] * 10, [y for _, y in words] * 10) for part in ("train", "validation", "test")}
    record = run_tfidf(texts, 2, budget=20, seed=0)
    assert record["n_labels"] == 20 and record["accuracy"] == 1.0 and record["C"] in (0.1, 1.0, 10.0, 100.0)

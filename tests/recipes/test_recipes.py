"""The recipes: named configurations, their validation, and one fine-tuning run and the TF-IDF baseline on
a toy task (fast)."""

import pytest
import torch

from minitransformer.models.bert import BertConfig, BertModel
from minitransformer.recipes.finetuning import FinetuneRecipe, run_finetuning
from minitransformer.recipes.pretraining import DEFAULT_RECIPE, RECIPES, PretrainRecipe, build_model, recipe
from minitransformer.recipes.tfidf import run_tfidf


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

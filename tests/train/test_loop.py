"""The training loop: loss goes down, kill-and-resume gives the uninterrupted loss curve (float16's gradient
scaler included), clipping, optimizer groups, bad configuration."""

from dataclasses import replace

import pytest
import torch

from minitransformer.train.checkpoint import read_checkpoint
from minitransformer.train.clipping import clip_grad_norm
from minitransformer.train.loop import CHECKPOINT_NAME, TrainConfig, make_optimizer, train

from .tiny import batch_for_step, tiny_gpt

CONFIG = TrainConfig(steps=12, lr=3e-3, warmup_steps=3, checkpoint_every=4, eval_every=6, seed=7)


def _evaluate(model):
    return {"loss": model.loss(batch_for_step(10_000))[0].item()}


class Killed(Exception):
    pass


def _killed_at(kill_step):
    def get_batch(step):
        if step == kill_step:
            raise Killed(f"simulated kill before step {step}")
        return batch_for_step(step)
    return get_batch


def test_loss_decreases_and_artifacts_are_written(tmp_path):
    history = train(tiny_gpt(), batch_for_step, TrainConfig(steps=30, lr=1e-2, warmup_steps=3, eval_every=10),
                    out_dir=tmp_path, evaluate=_evaluate, progress=False)
    assert len(history) == 30 and [r["step"] for r in history] == list(range(1, 31))
    assert sum(r["loss"] for r in history[-5:]) < sum(r["loss"] for r in history[:5])
    assert "eval_loss" in history[9] and "eval_loss" not in history[8]
    assert (tmp_path / CHECKPOINT_NAME).is_file() and (tmp_path / "loss_curve.png").stat().st_size > 1000


def test_kill_and_resume_reproduces_the_uninterrupted_run(tmp_path):
    full = train(tiny_gpt(), batch_for_step, CONFIG, out_dir=tmp_path / "full", evaluate=_evaluate, progress=False)

    with pytest.raises(Killed):  # dies at step 10: the last checkpoint is the one after step 8
        train(tiny_gpt(), _killed_at(10), CONFIG, out_dir=tmp_path / "killed", evaluate=_evaluate, progress=False)
    fresh_model = tiny_gpt(seed=99)  # different weights: everything must come from the checkpoint
    resumed = train(fresh_model, batch_for_step, CONFIG, out_dir=tmp_path / "killed", evaluate=_evaluate,
                    resume=True, progress=False)

    assert [r["step"] for r in resumed] == list(range(1, 13))
    assert [r["loss"] for r in resumed] == [r["loss"] for r in full]  # bit-for-bit, dropout included
    assert [r.get("eval_loss") for r in resumed] == [r.get("eval_loss") for r in full]
    reference = tiny_gpt()
    train(reference, batch_for_step, CONFIG, progress=False)
    for a, b in zip(reference.parameters(), fresh_model.parameters()):
        assert torch.equal(a, b)


def _loud(model, factor=100.0):
    """``model`` with its loss multiplied by ``factor``: at the gradient scaler's initial scale, 2^16, its
    float16 gradients overflow, so the scaler skips steps and lowers the scale."""
    loss = model.loss
    model.loss = lambda batch: (loss(batch)[0].float() * factor, {})
    return model


def test_float16_kill_and_resume_restores_the_gradient_scaler(tmp_path):
    config = replace(CONFIG, dtype="float16", eval_every=0)
    full = train(_loud(tiny_gpt()), batch_for_step, config, out_dir=tmp_path / "full", progress=False)
    scales = [record["loss_scale"] for record in full]
    with pytest.raises(Killed):  # dies at step 10: the last checkpoint is the one after step 8
        train(_loud(tiny_gpt()), _killed_at(10), config, out_dir=tmp_path / "killed", progress=False)
    saved = read_checkpoint(tmp_path / "killed" / CHECKPOINT_NAME)[1]["grad_scaler"]
    assert saved["scale"] == scales[8] < scales[0] == 2.0 ** 16  # step 9's scale, below a fresh scaler's
    resumed = train(_loud(tiny_gpt(seed=99)), batch_for_step, config, out_dir=tmp_path / "killed", resume=True,
                    progress=False)
    assert [(r["loss"], r["loss_scale"]) for r in resumed] == [(r["loss"], r["loss_scale"]) for r in full]


def test_resume_needs_a_matching_run(tmp_path):
    train(tiny_gpt(), batch_for_step, TrainConfig(steps=2, warmup_steps=1), out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="steps=2"):
        train(tiny_gpt(), batch_for_step, TrainConfig(steps=5, warmup_steps=1), out_dir=tmp_path, resume=True,
              progress=False)
    for changed in (dict(dtype="float16"), dict(lr=5e-4, seed=3)):  # the error names the settings that differ
        config = TrainConfig(steps=2, warmup_steps=1, **changed)
        with pytest.raises(ValueError, match="made with " + ".*, ".join(f"{name}=" for name in changed)):
            train(tiny_gpt(), batch_for_step, config, out_dir=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="checkpoint not found"):
        train(tiny_gpt(), batch_for_step, CONFIG, out_dir=tmp_path / "none", resume=True, progress=False)
    with pytest.raises(ValueError, match="needs out_dir"):
        train(tiny_gpt(), batch_for_step, CONFIG, resume=True, progress=False)


def test_clip_grad_norm_matches_torch():
    torch.manual_seed(0)
    ours = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(4))]
    theirs = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    for p, q in zip(ours, theirs):
        p.grad = torch.randn_like(p) * 3
        q.grad = p.grad.clone()
    norm = clip_grad_norm(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert norm == pytest.approx(expected.item(), rel=1e-6)
    for p, q in zip(ours, theirs):
        torch.testing.assert_close(p.grad, q.grad)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(ours, 0.0)


def test_optimizer_groups_exempt_vectors_from_weight_decay():
    model = tiny_gpt()
    optimizer = make_optimizer(model, TrainConfig(weight_decay=0.1))
    decay = {id(p) for g in optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    assert all((id(p) in decay) == (p.ndim >= 2) for p in model.parameters())
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        make_optimizer(model, TrainConfig())


@pytest.mark.parametrize("kwargs, name", [({"steps": 0}, "steps"), ({"lr": 0.0}, "lr"), ({"decay": "exp"}, "decay"),
                                          ({"warmup_steps": -1}, "warmup_steps"), ({"dtype": "fp16"}, "dtype")])
def test_bad_config_is_rejected(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kwargs)

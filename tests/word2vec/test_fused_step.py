"""The fused SGD ops (csrc/cpu/word2vec.cpp, minitransformer/ops/word2vec.py) against the readable
PyTorch steps ``CBOW.sgd_step`` / ``SkipGram.sgd_step`` applied one window at a time, plus their
argument checks and opcheck."""

from contextlib import contextmanager

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.data.word2vec.windows import WindowBatch
from minitransformer.models.word2vec import CBOW, SkipGram
from minitransformer.ops.word2vec import cbow_sgd_step, skipgram_sgd_step
from minitransformer.train.word2vec import Word2VecConfig, _sgd_step
from tests.word2vec.test_reference_and_model import model_with, random_case

FUSED = {CBOW: cbow_sgd_step, SkipGram: skipgram_sgd_step}
OPS = [torch.ops.minitransformer.cbow_sgd_step_, torch.ops.minitransformer.skipgram_sgd_step_]
shapes = dict(seed=st.integers(0, 10_000), vocab=st.integers(1, 12), windows=st.integers(1, 6),
              slots=st.integers(1, 6), negatives=st.integers(1, 4), dim=st.integers(1, 20))


@contextmanager
def threads(count):
    previous = torch.get_num_threads()
    torch.set_num_threads(count)  # with 1, the op's window order is the batch order: deterministic
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def window(batch, w):
    return WindowBatch(*(t[w:w + 1] for t in batch[:4]))


@pytest.mark.parametrize("cls", [CBOW, SkipGram])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(**shapes, lr=st.floats(0.01, 0.5))
def test_fused_step_is_the_torch_step_window_by_window(cls, dtype, seed, vocab, windows, slots,
                                                       negatives, dim, lr):
    batch, tables = random_case(seed, vocab, windows, slots, negatives, dim, scale=0.5)
    batch = WindowBatch(batch.contexts, batch.context_mask.to(dtype), batch.targets,
                        batch.target_mask.to(dtype))
    torch_model, fused_model = model_with(cls, tables).to(dtype), model_with(cls, tables).to(dtype)

    torch_loss = sum(torch_model.sgd_step(window(batch, w), lr) for w in range(windows))
    with threads(1):
        fused_loss = FUSED[cls](fused_model, batch, lr)

    tolerance = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fused_model.input_vectors, torch_model.input_vectors, **tolerance)
    torch.testing.assert_close(fused_model.output_vectors, torch_model.output_vectors, **tolerance)
    assert fused_loss == pytest.approx(torch_loss, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("cls", [CBOW, SkipGram])
def test_one_window_equals_the_batched_step_including_repeated_ids(cls):
    """A single window holds repeated context and target ids: both steps sum their contributions."""
    model = cls(4, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.output_vectors.normal_(generator=torch.Generator().manual_seed(1))
    reference = cls(4, 8)
    reference.load_state_dict(model.state_dict())
    batch = WindowBatch(torch.tensor([[1, 1, 2, 0]]), torch.tensor([[1.0, 1.0, 1.0, 0.0]]),
                        torch.tensor([[3, 2, 2, 3]]), torch.tensor([[1.0, 1.0, 1.0, 0.0]]))
    loss = FUSED[cls](model, batch, 0.1)
    assert loss == pytest.approx(reference.sgd_step(batch, 0.1), rel=1e-6)
    torch.testing.assert_close(model.state_dict(), reference.state_dict(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cls", [CBOW, SkipGram])
def test_several_threads_train_every_window(cls):
    """Hogwild over windows: with distinct rows per window there is no race, so threads change nothing."""
    batch = WindowBatch(torch.arange(64).view(32, 2), torch.ones(32, 2), torch.arange(64, 128).view(32, 2),
                        torch.ones(32, 2))
    models = [cls(128, 16, generator=torch.Generator().manual_seed(0)) for _ in range(2)]
    for model, count in zip(models, (1, 2)):
        with threads(count):
            FUSED[cls](model, batch, 0.2)
    torch.testing.assert_close(models[0].state_dict(), models[1].state_dict())
    assert models[0].output_vectors.abs().sum() > 0


def args(vocab=5, dim=3, dtype=torch.float32):
    return [torch.zeros(vocab, dim, dtype=dtype), torch.zeros(vocab, dim, dtype=dtype),
            torch.tensor([[0, 1]]), torch.ones(1, 2, dtype=dtype), torch.tensor([[2, 3, 4]]),
            torch.ones(1, 3, dtype=dtype), 0.1]


def broken(index, value, *more):
    arguments = args()
    for i, v in zip((index, *more[::2]), (value, *more[1::2])):
        arguments[i] = v
    return arguments


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("arguments, message", [
    (broken(0, torch.zeros(5, 3, dtype=torch.int32)), "input_vectors must be float32 or float64"),
    (broken(1, torch.zeros(5, 3, dtype=torch.float64)), "output_vectors must have input_vectors' dtype"),
    (broken(1, torch.zeros(6, 3)), "output_vectors must have input_vectors' shape"),
    (broken(0, torch.zeros(5)), "input_vectors must be 2-D"),
    (broken(0, torch.zeros(3, 5).T), "input_vectors must be contiguous"),
    (broken(2, torch.tensor([[0.0, 1.0]])), "contexts must be int64"),
    (broken(2, torch.tensor([[0, 5]])), r"contexts must hold word ids in \[0, 5\), got 5"),
    (broken(4, torch.tensor([[2, -1, 4]])), r"targets must hold word ids in \[0, 5\), got -1"),
    (broken(3, torch.ones(1, 3)), "context_mask must have contexts' shape"),
    (broken(5, torch.ones(1, 3, dtype=torch.float64)), "target_mask must have input_vectors' dtype"),
    (broken(2, torch.zeros(2, 2, dtype=torch.int64), 3, torch.ones(2, 2)), "one row per window"),
    (broken(4, torch.zeros(1, 0, dtype=torch.int64)), "target_mask must have targets' shape"),
])
def test_bad_input_is_named(op, arguments, message):
    before = arguments[0].clone()
    with pytest.raises(RuntimeError, match=message):
        op(*arguments)
    if arguments[0].shape == before.shape:
        assert torch.equal(arguments[0], before)  # checked before any update


@pytest.mark.parametrize("op", OPS)
def test_opcheck(op):
    batch, tables = random_case(3, 10, 4, 5, 3, 6)
    arguments = (tables[0].float(), tables[1].float(), batch.contexts, batch.context_mask.float(),
                 batch.targets, batch.target_mask.float(), 0.05)
    with threads(1):
        torch.library.opcheck(op.default, arguments)


def test_training_uses_the_fused_step_only_where_asked():
    # "auto" with the extension built; the fused steps take untrimmed batches, the PyTorch steps trimmed ones
    assert _sgd_step(Word2VecConfig(model="cbow")) == (cbow_sgd_step, False)
    assert _sgd_step(Word2VecConfig(model="skipgram", step="fused")) == (skipgram_sgd_step, False)
    for config in (Word2VecConfig(model="cbow", step="torch"), Word2VecConfig(model="skipgram", step="torch"),
                   Word2VecConfig(model="cbow", shared_negatives=8)):
        step, trim = _sgd_step(config)
        assert step not in (cbow_sgd_step, skipgram_sgd_step) and trim
    with pytest.raises(ValueError, match="step must be one of"):
        Word2VecConfig(step="cuda")

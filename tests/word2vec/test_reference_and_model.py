"""The NumPy reference of the negative-sampling losses vs finite differences, autograd and the
hand-written gradients of the PyTorch modules (models/word2vec.py)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.data.word2vec.windows import WindowBatch
from minitransformer.models.word2vec import CBOW, SkipGram, log_sigmoid
from minitransformer.reference.skipgram import cbow_loss, skipgram_loss
from minitransformer.reference.skipgram import log_sigmoid as np_log_sigmoid
from helpers import TOLERANCE, relative_error

REFERENCES = {SkipGram: skipgram_loss, CBOW: cbow_loss}


def random_case(seed, vocab, windows, slots, negatives, dim, scale=1.0):
    """A float64 model with random tables and a batch with repeated ids and padding."""
    rng = np.random.default_rng(seed)
    contexts = torch.as_tensor(rng.integers(0, vocab, (windows, slots)))
    context_mask = torch.as_tensor(rng.random((windows, slots)) < 0.7, dtype=torch.float64)
    context_mask[:, 0] = 1.0  # every window has a context word
    targets = torch.as_tensor(rng.integers(0, vocab, (windows, negatives + 1)))
    target_mask = torch.ones(targets.shape, dtype=torch.float64)  # weights, as shared negatives use them
    target_mask[:, 1:] = (targets[:, 1:] != targets[:, :1]).double() * torch.as_tensor(
        rng.uniform(0.2, 1.5, (windows, negatives)))
    batch = WindowBatch(contexts, context_mask, targets, target_mask)
    tables = [torch.as_tensor(rng.normal(0, scale, (vocab, dim))) for _ in range(2)]
    return batch, tables


def model_with(cls, tables):
    model = cls(*tables[0].shape).double()
    with torch.no_grad():
        model.input_vectors.copy_(tables[0])
        model.output_vectors.copy_(tables[1])
    return model


shapes = dict(seed=st.integers(0, 10_000), vocab=st.integers(1, 12), windows=st.integers(1, 5),
              slots=st.integers(1, 6), negatives=st.integers(1, 4), dim=st.integers(1, 8))


@pytest.mark.parametrize("cls", [SkipGram, CBOW])
@given(**shapes)
def test_hand_gradients_match_reference_and_autograd(cls, seed, vocab, windows, slots, negatives, dim):
    batch, tables = random_case(seed, vocab, windows, slots, negatives, dim)
    model = model_with(cls, tables)
    v, u = tables[0][batch.contexts].numpy(), tables[1][batch.targets].numpy()
    ref_loss, ref_grad_v, ref_grad_u = REFERENCES[cls](v, batch.context_mask.numpy(), u, batch.target_mask.numpy())

    loss, grad_v, grad_u = model.gradients(batch)
    assert loss == pytest.approx(ref_loss, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(grad_v.numpy(), ref_grad_v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_u.numpy(), ref_grad_u, rtol=1e-10, atol=1e-12)

    autograd_loss = model(batch)
    autograd_loss.backward()
    assert float(autograd_loss.detach()) == pytest.approx(ref_loss, rel=1e-10, abs=1e-12)
    scattered_v = torch.zeros_like(tables[0]).index_add_(0, batch.contexts.reshape(-1), grad_v.reshape(-1, dim))
    scattered_u = torch.zeros_like(tables[1]).index_add_(0, batch.targets.reshape(-1), grad_u.reshape(-1, dim))
    torch.testing.assert_close(model.input_vectors.grad, scattered_v, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(model.output_vectors.grad, scattered_u, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reference", [skipgram_loss, cbow_loss])
@given(seed=st.integers(0, 10_000), slots=st.integers(1, 4), negatives=st.integers(1, 3), dim=st.integers(1, 4))
def test_reference_gradients_match_finite_differences(reference, seed, slots, negatives, dim):
    batch, tables = random_case(seed, 6, 2, slots, negatives, dim)
    v, u = tables[0][batch.contexts].numpy(), tables[1][batch.targets].numpy()
    masks = batch.context_mask.numpy(), batch.target_mask.numpy()
    _, grad_v, grad_u = reference(v, masks[0], u, masks[1])
    step = 1e-6
    for array, grad in ((v, grad_v), (u, grad_u)):
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + step
            plus = reference(v, masks[0], u, masks[1])[0]
            array[index] = saved - step
            minus = reference(v, masks[0], u, masks[1])[0]
            array[index] = saved
            numeric[index] = (plus - minus) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("cls", [SkipGram, CBOW])
def test_gradcheck_float64(cls):
    batch, tables = random_case(3, 7, 3, 4, 3, 5)
    model = model_with(cls, tables)
    inputs = tuple(t.clone().requires_grad_() for t in tables)

    def loss(input_vectors, output_vectors):
        return torch.func.functional_call(model, {"input_vectors": input_vectors,
                                                  "output_vectors": output_vectors}, (batch,))

    assert torch.autograd.gradcheck(loss, inputs)


def test_log_sigmoid_is_stable_and_matches_reference():
    x = torch.tensor([-1000.0, -30.0, -1.0, 0.0, 2.0, 40.0, 1000.0], dtype=torch.float64)
    expected = torch.nn.functional.logsigmoid(x)  # the built-in, as a baseline
    torch.testing.assert_close(log_sigmoid(x), expected)
    np.testing.assert_allclose(np_log_sigmoid(x.numpy()), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("cls", [SkipGram, CBOW])
def test_sgd_step_updates_only_touched_rows(cls):
    batch, tables = random_case(5, 20, 3, 4, 2, 6, scale=0.3)
    model = model_with(cls, tables)
    loss, grad_v, grad_u = model.gradients(batch)
    if cls is CBOW:  # word2vec.c's step: the whole dL/dh to each context row, i.e. n x the gradient
        grad_v = grad_v * batch.context_mask.sum(dim=1).view(-1, 1, 1)
    lr = 0.05
    step_loss = model.sgd_step(batch, lr)
    expected_in = tables[0].clone().index_add_(0, batch.contexts.reshape(-1), grad_v.reshape(-1, 6), alpha=-lr)
    expected_out = tables[1].clone().index_add_(0, batch.targets.reshape(-1), grad_u.reshape(-1, 6), alpha=-lr)
    assert step_loss == pytest.approx(loss)
    torch.testing.assert_close(model.input_vectors.detach(), expected_in)
    torch.testing.assert_close(model.output_vectors.detach(), expected_out)
    untouched = torch.ones(20, dtype=torch.bool)
    untouched[batch.contexts.reshape(-1)] = False
    torch.testing.assert_close(model.input_vectors.detach()[untouched], tables[0][untouched])


def test_float32_gradients_close_to_float64_reference():
    batch, tables = random_case(11, 50, 8, 10, 5, 32, scale=0.2)
    model = model_with(SkipGram, tables).float()
    batch32 = batch._replace(context_mask=batch.context_mask.float(), target_mask=batch.target_mask.float())
    _, grad_v, grad_u = model.gradients(batch32)
    v, u = tables[0][batch.contexts].numpy(), tables[1][batch.targets].numpy()
    _, ref_v, ref_u = skipgram_loss(v, batch.context_mask.numpy(), u, batch.target_mask.numpy())
    for got, ref in ((grad_v, ref_v), (grad_u, ref_u)):
        assert relative_error(got, ref) < TOLERANCE[torch.float32]
    assert model.input_vectors.dtype == torch.float32


def test_bad_shapes_raise_value_error():
    with pytest.raises(ValueError, match="vocab_size and dim"):
        SkipGram(0, 10)
    with pytest.raises(ValueError, match="context_vectors"):
        skipgram_loss(np.zeros((2, 3, 4)), np.ones((2, 3)), np.zeros((2, 2, 5)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="context_mask"):
        cbow_loss(np.zeros((2, 3, 4)), np.ones((2, 2)), np.zeros((2, 2, 4)), np.ones((2, 2)))


@given(seed=st.integers(0, 10_000), windows=st.integers(1, 6), shared=st.integers(1, 5))
def test_cbow_step_with_shared_negatives_matches_expanded_gradients(seed, windows, shared):
    batch, tables = random_case(seed, 15, windows, 4, shared, 6, scale=0.3)
    negatives = batch.targets[0, 1:]  # (S,): every window uses the first window's draw
    targets = torch.cat([batch.targets[:, :1], negatives.expand(windows, shared)], dim=1)
    target_mask = torch.ones(targets.shape, dtype=torch.float64)
    target_mask[:, 1:] = (targets[:, 1:] != targets[:, :1]).double() * (5 / shared)
    batch = batch._replace(targets=targets, target_mask=target_mask, shared_negatives=negatives)
    model = model_with(CBOW, tables)
    loss, grad_v, grad_u = model.gradients(batch)  # checked against the reference above
    grad_v = grad_v * batch.context_mask.sum(dim=1).view(-1, 1, 1)
    lr = 0.1
    step_loss = model.sgd_step(batch, lr)
    expected_in = tables[0].clone().index_add_(0, batch.contexts.reshape(-1), grad_v.reshape(-1, 6), alpha=-lr)
    expected_out = tables[1].clone().index_add_(0, targets.reshape(-1), grad_u.reshape(-1, 6), alpha=-lr)
    assert step_loss == pytest.approx(loss, rel=1e-6)
    torch.testing.assert_close(model.input_vectors.detach(), expected_in)
    torch.testing.assert_close(model.output_vectors.detach(), expected_out)

"""The NumPy attention reference against torch autograd in float64 and against its own definition."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from minitransformer.reference.attention import allowed_keys, attention_backward, attention_forward


@st.composite
def attention_case(draw):
    batch, heads = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n_q, n_k, dim = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 7))
    causal = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    q, k, v = (rng.standard_normal((batch, heads, n, dim)) for n in (n_q, n_k, n_k))
    mask = rng.random((batch, n_k)) < 0.3 if draw(st.booleans()) else None
    scale = draw(st.sampled_from([None, 0.5, 2.0]))
    return q, k, v, causal, mask, scale, rng


def _torch_attention(q, k, v, causal, mask, scale):
    """Scores -> masked softmax -> weighted sum in float64 torch; empty rows give 0."""
    allowed = torch.from_numpy(allowed_keys(q.shape[2], k.shape[2], q.shape[0], causal, mask))
    s = 1.0 / q.shape[-1] ** 0.5 if scale is None else scale
    scores = s * q @ k.transpose(-1, -2)
    scores = scores.masked_fill(~allowed, float("-inf"))
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # all -inf rows: NaN -> 0
    return probs @ v


@given(attention_case())
def test_forward_and_backward_match_torch_autograd(case):
    q, k, v, causal, mask, scale, rng = case
    out, lse = attention_forward(q, k, v, causal, mask, scale)
    grad_out = rng.standard_normal(out.shape)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    expected = _torch_attention(tq, tk, tv, causal, mask, scale)
    expected.backward(torch.from_numpy(grad_out))
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    grads = attention_backward(q, k, v, out, lse, grad_out, causal, mask, scale)
    for got, tensor in zip(grads, (tq, tk, tv)):
        np.testing.assert_allclose(got, tensor.grad.numpy(), rtol=1e-9, atol=1e-11)
        assert np.all(np.isfinite(got))


def test_matches_sdpa_with_a_causal_mask():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 6, 8)) for _ in range(3))
    out, _ = attention_forward(q, k, v, causal=True)
    expected = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), is_causal=True)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-13)


def test_lse_is_the_logsumexp_of_the_scaled_scores():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((1, 1, 4, 5)) for _ in range(3))
    _, lse = attention_forward(q, k, v, scale=0.7)
    scores = 0.7 * q[0, 0] @ k[0, 0].T
    np.testing.assert_allclose(lse[0, 0], np.log(np.exp(scores).sum(-1)), rtol=1e-12)


def test_fully_masked_rows_give_zero_output_minus_inf_lse_and_zero_grads():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 1, 3, 4)) for _ in range(3))
    mask = np.array([[True, True, True], [False, True, True]])
    out, lse = attention_forward(q, k, v, key_padding_mask=mask)
    assert np.all(out[0] == 0) and np.all(np.isneginf(lse[0]))
    assert np.all(np.isfinite(lse[1]))
    grads = attention_backward(q, k, v, out, lse, np.ones_like(out), key_padding_mask=mask)
    for grad in grads:
        assert np.all(np.isfinite(grad))
        assert np.all(grad[0] == 0)


def test_large_logits_do_not_overflow():
    q = np.full((1, 1, 2, 4), 100.0)
    k = np.full((1, 1, 3, 4), 100.0)
    v = np.arange(12, dtype=np.float64).reshape(1, 1, 3, 4)
    out, lse = attention_forward(q, k, v)
    np.testing.assert_allclose(out[0, 0, 0], v[0, 0].mean(axis=0))
    np.testing.assert_allclose(lse, 100.0 * 100.0 * 4 / 2 + np.log(3))


@pytest.mark.parametrize("shapes, mask_shape, message", [
    (((1, 1, 2, 4), (1, 1, 3, 4), (1, 1, 2, 4)), None, "k and v"),
    (((1, 1, 2, 4), (1, 1, 3, 5), (1, 1, 3, 5)), None, "agree"),
    (((1, 2, 4), (1, 1, 3, 4), (1, 1, 3, 4)), None, "q must have shape"),
    (((1, 1, 2, 4), (1, 1, 3, 4), (1, 1, 3, 4)), (1, 2), "key_padding_mask"),
])
def test_bad_shapes_raise(shapes, mask_shape, message):
    arrays = [np.zeros(s) for s in shapes]
    mask = None if mask_shape is None else np.zeros(mask_shape, dtype=bool)
    with pytest.raises(ValueError, match=message):
        attention_forward(*arrays, key_padding_mask=mask)

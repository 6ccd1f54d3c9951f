"""Linear, LayerNorm, GELU, Dropout, Embedding, FeedForward: vs NumPy, vs torch, gradcheck, bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer.reference import activations as ref_act
from minitransformer.reference import feedforward as ref_ff
from minitransformer.reference import layernorm as ref_ln
from minitransformer.reference import linear as ref_linear
from helpers import relative_error, to_numpy
from _nn_helpers import assert_backend_matches_eager

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3)


@given(shape=shapes, features=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_layernorm_matches_numpy_and_torch(shape, features, seed):
    torch.manual_seed(seed)
    norm = mnn.LayerNorm(features).double()
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(*shape, features, dtype=torch.float64, requires_grad=True)
    y = norm(x)
    grad_y = torch.randn_like(y)
    y.backward(grad_y)
    expected, cache = ref_ln.layernorm_forward(to_numpy(x), to_numpy(norm.weight), to_numpy(norm.bias))
    grad_x, grad_w, grad_b = ref_ln.layernorm_backward(to_numpy(grad_y), cache)
    assert relative_error(y, expected) < 1e-12
    assert relative_error(x.grad, grad_x) < 1e-9
    assert relative_error(norm.weight.grad, grad_w) < 1e-10 and relative_error(norm.bias.grad, grad_b) < 1e-10

    theirs = torch.nn.LayerNorm(features)
    theirs.load_state_dict(norm.float().state_dict())
    assert relative_error(norm(x.float()), theirs(x.float())) < 1e-5


@given(shape=shapes, approximate=st.sampled_from(["none", "tanh"]), seed=st.integers(0, 2**16))
def test_gelu_matches_numpy_and_torch(shape, approximate, seed):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64, requires_grad=True)
    y = mnn.gelu(x, approximate)
    y.backward(torch.ones_like(y))
    assert relative_error(y, ref_act.gelu(to_numpy(x), approximate)) < 1e-12
    assert relative_error(x.grad, ref_act.gelu_backward(to_numpy(x), np.ones(x.shape), approximate)) < 1e-12
    theirs = torch.nn.functional.gelu(x.float(), approximate=approximate)
    assert relative_error(mnn.GELU(approximate)(x.float()), theirs) < 1e-6


@given(shape=shapes, in_features=st.integers(1, 6), out_features=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_linear_matches_numpy_and_torch(shape, in_features, out_features, seed):
    torch.manual_seed(seed)
    layer = mnn.Linear(in_features, out_features).double()
    x = torch.randn(*shape, in_features, dtype=torch.float64, requires_grad=True)
    y = layer(x)
    grad_y = torch.randn_like(y)
    y.backward(grad_y)
    grad_x, grad_w, grad_b = ref_linear.linear_backward(to_numpy(x), to_numpy(layer.weight), to_numpy(grad_y))
    expected = ref_linear.linear_forward(to_numpy(x), to_numpy(layer.weight), to_numpy(layer.bias))
    assert relative_error(y, expected) < 1e-12
    assert max(relative_error(x.grad, grad_x), relative_error(layer.weight.grad, grad_w),
               relative_error(layer.bias.grad, grad_b)) < 1e-12
    assert relative_error(y, torch.nn.functional.linear(x, layer.weight, layer.bias)) < 1e-12


@given(activation=st.sampled_from(["gelu", "gelu_tanh", "relu"]), tokens=st.integers(1, 6), seed=st.integers(0, 99))
def test_feedforward_matches_numpy(activation, tokens, seed):
    torch.manual_seed(seed)
    ff = mnn.FeedForward(4, 7, activation=activation).double()
    x = torch.randn(2, tokens, 4, dtype=torch.float64, requires_grad=True)
    y = ff(x)
    grad_y = torch.randn_like(y)
    y.backward(grad_y)
    weights = [to_numpy(t) for t in (ff.linear1.weight, ff.linear1.bias, ff.linear2.weight, ff.linear2.bias)]
    expected, cache = ref_ff.feedforward_forward(to_numpy(x), *weights, activation=activation)
    grads = ref_ff.feedforward_backward(to_numpy(grad_y), cache)
    assert relative_error(y, expected) < 1e-12
    actual = (x.grad, ff.linear1.weight.grad, ff.linear1.bias.grad, ff.linear2.weight.grad, ff.linear2.bias.grad)
    assert max(relative_error(a, e) for a, e in zip(actual, grads)) < 1e-10


def test_gradcheck_float64():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    for module in (mnn.LayerNorm(5), mnn.Linear(5, 4), mnn.FeedForward(5, 6), mnn.GELU("tanh")):
        module = module.double()
        assert torch.autograd.gradcheck(module, (x,))


def test_dropout_statistics_and_scaling():
    torch.manual_seed(0)
    drop = mnn.Dropout(0.3)
    x = torch.ones(200_000)
    y = drop(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.7) < 0.01
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.7))
    assert abs(y.mean().item() - 1.0) < 0.01  # E[y] = x
    drop.eval()
    assert torch.equal(drop(x), x)
    assert torch.equal(mnn.dropout(x, 0.0), x)


@pytest.mark.parametrize("backend", ["eager", "torch"])
def test_embedding_matches_torch_and_padding_gets_no_gradient(backend):
    torch.manual_seed(0)
    mine = mnn.Embedding(10, 4, padding_idx=0, backend=backend)
    theirs = torch.nn.Embedding(10, 4, padding_idx=0)
    theirs.load_state_dict(mine.state_dict())
    ids = torch.tensor([[0, 3, 3, 9], [1, 0, 2, 3]])
    assert torch.equal(mine(ids), theirs(ids))
    grad = torch.randn(2, 4, 4)
    mine(ids).backward(grad)
    theirs(ids).backward(grad)
    assert torch.allclose(mine.weight.grad, theirs.weight.grad)
    assert torch.count_nonzero(mine.weight.grad[0]) == 0


@pytest.mark.parametrize("make, bad, argument", [
    (lambda: mnn.LayerNorm(4), torch.randn(2, 3), "x"),
    (lambda: mnn.Linear(4, 2), torch.randn(2, 3), "x"),
    (lambda: mnn.Linear(4, 2), torch.ones(2, 4, dtype=torch.long), "x"),
    (lambda: mnn.Embedding(5, 2), torch.tensor([5]), "ids"),
    (lambda: mnn.Embedding(5, 2), torch.tensor([1.0]), "ids"),
])
def test_bad_input_names_the_argument(make, bad, argument):
    with pytest.raises(ValueError, match=argument):
        make()(bad)


@pytest.mark.parametrize("make, argument", [
    (lambda: mnn.Linear(0, 2), "in_features"),
    (lambda: mnn.Dropout(1.0), "p"),
    (lambda: mnn.GELU("fast"), "approximate"),
    (lambda: mnn.FeedForward(4, 8, activation="swish"), "activation"),
    (lambda: mnn.LayerNorm(4, eps=0), "eps"),
    (lambda: mnn.Embedding(5, 2, padding_idx=7), "padding_idx"),
])
def test_bad_arguments_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


@pytest.mark.parametrize("activation", ["gelu", "gelu_tanh", "relu"])
@pytest.mark.parametrize("backend", ["torch", "fused"])
def test_feedforward_backends_agree_with_eager(backend, activation):
    generator = torch.Generator().manual_seed(0)
    x, grad_y = torch.randn(3, 5, 12, generator=generator), torch.randn(3, 5, 12, generator=generator)
    ff = assert_backend_matches_eager(lambda name: mnn.FeedForward(12, 40, activation=activation, backend=name),
                                      backend, x, grad_y)
    assert f"backend={backend}" in repr(ff)


@pytest.mark.parametrize("backend", ["torch", "fused"])
def test_dropout_backends_keep_the_expectation_and_add_residuals(backend):
    drop = mnn.Dropout(0.25, backend=backend)
    x, residual = torch.ones(200_000), torch.full((200_000,), 2.0)
    y = drop(x)
    assert set(y.unique().tolist()) <= {0.0, torch.tensor(1 / 0.75).item()} and abs(y.mean().item() - 1.0) < 0.01
    torch.manual_seed(3)
    added = drop.add_to(residual, x)
    torch.manual_seed(3)
    torch.testing.assert_close(added, residual + drop(x))
    assert torch.equal(drop.eval()(x), x) and f"backend={backend}" in repr(drop)


def test_cpu_only_fused_ops_give_way_to_torch_on_cuda_tensors():
    from types import SimpleNamespace
    from minitransformer.nn.backends import on_device
    assert on_device("fused", SimpleNamespace(is_cuda=True)) == "torch"
    assert on_device("fused", torch.zeros(1)) == "fused"
    assert on_device("eager", SimpleNamespace(is_cuda=True)) == "eager"

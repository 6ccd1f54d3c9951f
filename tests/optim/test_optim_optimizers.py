"""SGD, Adam, AdamW vs torch.optim over 20 steps on the same problem, vs the NumPy one-step reference,
and bad hyper-parameters raising errors that name them."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from minitransformer import optim as mopt
from minitransformer.reference import optimizers as ref
from helpers import relative_error


def _problem(seed):
    """A small tanh regression with a learnable answer: starting W (4, 3), b (4,) and a fixed batch."""
    generator = torch.Generator().manual_seed(seed)
    weight, bias = torch.randn(4, 3, generator=generator), torch.randn(4, generator=generator)
    true_weight, true_bias = torch.randn(4, 3, generator=generator), torch.randn(4, generator=generator)
    x = torch.randn(16, 3, generator=generator)
    return (weight, bias), (x, torch.tanh(x @ true_weight.T + true_bias))


def _loss(params, batch):
    weight, bias = params
    x, y = batch
    return ((torch.tanh(x @ weight.T + bias) - y) ** 2).mean()


def _train(optimizer_class, kwargs, seed, steps=20):
    start, batch = _problem(seed)
    params = [p.clone().requires_grad_() for p in start]
    optimizer = optimizer_class(params, **kwargs)
    for _ in range(steps):
        optimizer.zero_grad()
        _loss(params, batch).backward()
        optimizer.step()
    return [p.detach() for p in params]


CASES = [
    (mopt.SGD, torch.optim.SGD, dict(lr=0.1)),
    (mopt.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (mopt.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (mopt.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.5, dampening=0.3)),
    (mopt.Adam, torch.optim.Adam, dict(lr=0.01)),
    (mopt.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    (mopt.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    (mopt.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.5, eps=1e-6)),
]


@pytest.mark.parametrize("ours, theirs, kwargs", CASES)
@given(seed=st.integers(0, 2**16))
def test_twenty_steps_match_torch_optim(ours, theirs, kwargs, seed):
    for mine, expected in zip(_train(ours, kwargs, seed), _train(theirs, kwargs, seed)):
        assert relative_error(mine, expected) < 1e-6


@pytest.mark.parametrize("name, kwargs", [
    ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("adam", dict(lr=0.01, weight_decay=0.1)),
    ("adamw", dict(lr=0.01, weight_decay=0.5)),
])
def test_steps_match_numpy_reference(name, kwargs):
    start, batch = _problem(0)
    params = [p.double().clone().requires_grad_() for p in start]
    batch = tuple(t.double() for t in batch)
    optimizer = {"sgd": mopt.SGD, "adam": mopt.Adam, "adamw": mopt.AdamW}[name](params, **kwargs)
    step = {"sgd": ref.sgd_step, "adam": ref.adam_step, "adamw": ref.adamw_step}[name]
    arrays, states = [p.detach().numpy().copy() for p in params], [{}, {}]
    for _ in range(5):
        optimizer.zero_grad()
        _loss(params, batch).backward()
        grads = [p.grad.numpy().copy() for p in params]
        optimizer.step()
        for index, (array, grad) in enumerate(zip(arrays, grads)):
            arrays[index], states[index] = step(array, grad, states[index], **kwargs)
    for param, array in zip(params, arrays):
        assert np.allclose(param.detach().numpy(), array, rtol=1e-12, atol=1e-14)


def test_training_reduces_the_loss():
    start, batch = _problem(1)
    params = [p.clone().requires_grad_() for p in start]
    before = _loss(params, batch).item()
    trained = _train(mopt.AdamW, dict(lr=0.05), seed=1, steps=100)
    assert _loss(trained, batch).item() < 0.5 * before


@pytest.mark.parametrize("make, argument", [
    (lambda p: mopt.SGD(p, lr=-1.0), "lr"),
    (lambda p: mopt.SGD(p, momentum=1.5), "momentum"),
    (lambda p: mopt.SGD(p, nesterov=True), "nesterov"),
    (lambda p: mopt.Adam(p, betas=(0.9, 1.0)), "betas"),
    (lambda p: mopt.Adam(p, betas=0.9), "betas"),
    (lambda p: mopt.AdamW(p, eps=-1e-8), "eps"),
    (lambda p: mopt.AdamW(p, weight_decay=-0.1), "weight_decay"),
])
def test_bad_hyperparameters_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make([torch.zeros(2, requires_grad=True)])

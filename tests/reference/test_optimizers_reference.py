"""reference/optimizers.py: update rules checked on cases worked out by hand."""

import numpy as np

from minitransformer.reference import optimizers


def test_sgd_plain_momentum_and_nesterov():
    p, g = np.array([1.0, -2.0]), np.array([0.5, 1.0])
    assert np.allclose(optimizers.sgd_step(p, g, {}, lr=0.1)[0], p - 0.1 * g)
    p1, state = optimizers.sgd_step(p, g, {}, lr=0.1, momentum=0.9)
    assert np.allclose(p1, p - 0.1 * g)  # the buffer starts at the first gradient
    p2, _ = optimizers.sgd_step(p1, g, state, lr=0.1, momentum=0.9)
    assert np.allclose(p2, p1 - 0.1 * 1.9 * g)
    p_nesterov, _ = optimizers.sgd_step(p, g, {}, lr=0.1, momentum=0.9, nesterov=True)
    assert np.allclose(p_nesterov, p - 0.1 * 1.9 * g)


def test_adam_first_step_is_lr_times_sign():
    p, g = np.array([1.0, 2.0, 3.0]), np.array([1e-3, -5.0, 100.0])
    p1, state = optimizers.adam_step(p, g, {}, lr=0.01, eps=0.0)
    assert np.allclose(p1, p - 0.01 * np.sign(g))  # bias correction makes m^ / sqrt(v^) = g / |g| at t = 1
    assert state["t"] == 1


def test_adamw_decay_is_decoupled_from_the_adaptive_step():
    p, g = np.array([2.0]), np.array([0.0])
    decayed, _ = optimizers.adamw_step(p, g, {}, lr=0.1, weight_decay=0.5)
    assert np.allclose(decayed, 2.0 * (1 - 0.1 * 0.5))  # zero gradient: only the decay moves p
    l2, _ = optimizers.adam_step(p, g, {}, lr=0.1, weight_decay=0.5, eps=0.0)
    assert np.allclose(l2, 2.0 - 0.1)  # L2 goes through the adaptive step: a full lr-sized move

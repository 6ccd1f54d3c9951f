"""The CUDA ladders of the training ops on a GPU (skipped without one): the best rung that the ops run on CUDA
tensors against the NumPy reference, forward and backward, and dropout's output the same bits as the CPU
kernel's (the mask and the fused multiply-add of kernels/philox.cuh)."""

import pytest
import torch

from minitransformer import ops
from minitransformer.reference.activations import gelu, gelu_backward
from minitransformer.reference.layernorm import layernorm_backward, layernorm_forward
from minitransformer.reference.losses import cross_entropy, cross_entropy_backward
from helpers import TOLERANCE, relative_error

pytestmark = pytest.mark.cuda
SHAPES = [(1, 1), (37, 1), (5, 70), (300, 768)]


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", SHAPES)
def test_dropout_add_is_the_cpu_kernels_bits(shape):
    x, residual, grad_y = randn(*shape, seed=1), randn(*shape, seed=2), randn(*shape, seed=3)
    leaves = [t.cuda().requires_grad_() for t in (x, residual)]
    y = ops.dropout_add(*leaves, 0.3, seed=11, offset=5)
    y.backward(grad_y.cuda())
    assert torch.equal(y.detach().cpu(), ops.dropout_add(x, residual, 0.3, seed=11, offset=5))
    assert torch.equal(leaves[0].grad.cpu(), torch.ops.minitransformer.dropout_backward(grad_y, 0.3, 11, 5))


@pytest.mark.parametrize("shape", SHAPES)
def test_layer_norm_matches_the_reference(shape):
    x, weight, bias, grad_y = randn(*shape, seed=1), randn(shape[-1], seed=2), randn(shape[-1], seed=3), \
        randn(*shape, seed=4)
    leaves = [t.cuda().requires_grad_() for t in (x, weight, bias)]
    y = ops.layer_norm(*leaves)
    y.backward(grad_y.cuda())
    ref_y, cache = layernorm_forward(x.double().numpy(), weight.double().numpy(), bias.double().numpy())
    floor = max(1.0, float(cache[1].max()))  # one column: dx cancels to the rounding of terms of size rstd
    assert relative_error(y.detach().cpu(), ref_y, floor=1.0) < TOLERANCE[torch.float32]
    for leaf, expected in zip(leaves, layernorm_backward(grad_y.double().numpy(), cache)):
        assert relative_error(leaf.grad.cpu(), expected, floor=floor) < TOLERANCE[torch.float32]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_bias_gelu_matches_the_reference(shape, approximate):
    x, bias, grad_y = randn(*shape, seed=1), randn(shape[-1], seed=2), randn(*shape, seed=3)
    leaves = [t.cuda().requires_grad_() for t in (x, bias)]
    y = ops.bias_gelu(*leaves, approximate=approximate)
    y.backward(grad_y.cuda())
    z = x.double().numpy() + bias.double().numpy()
    ref_dx = gelu_backward(z, grad_y.double().numpy(), approximate)
    assert relative_error(y.detach().cpu(), gelu(z, approximate), floor=1.0) < TOLERANCE[torch.float32]
    assert relative_error(leaves[0].grad.cpu(), ref_dx, floor=1.0) < TOLERANCE[torch.float32]
    assert relative_error(leaves[1].grad.cpu(), ref_dx.sum(axis=0), floor=1.0) < TOLERANCE[torch.float32]


@pytest.mark.parametrize("rows, classes", [(1, 1), (37, 1), (6, 300), (64, 30000)])
def test_cross_entropy_matches_the_reference(rows, classes):
    logits, targets = randn(rows, classes, seed=1), torch.randint(0, classes, (rows,))
    if rows > 2:
        targets[1] = -100
    leaf = logits.cuda().requires_grad_()
    loss = ops.cross_entropy(leaf, targets.cuda(), label_smoothing=0.1)
    loss.backward()
    x, y = logits.double().numpy(), targets.numpy()
    expected = cross_entropy(x, y, -100, 0.1)
    assert relative_error(loss.detach().cpu().reshape(1), [expected], floor=1.0) < TOLERANCE[torch.float32]
    assert relative_error(leaf.grad.cpu(), cross_entropy_backward(x, y, -100, 0.1), floor=1.0) \
        < TOLERANCE[torch.float32]


@pytest.mark.parametrize("rows, classes", [(1, 1), (37, 5), (64, 8000)])
def test_cross_entropy_with_a_bias_matches_the_cpu_kernel(rows, classes):
    logits, bias, targets = randn(rows, classes, seed=1), randn(classes, seed=2), torch.randint(0, classes, (rows,))
    targets[0] = -100
    grad_losses = torch.rand(rows)
    on_gpu = [t.cuda() for t in (logits, targets, bias, grad_losses, torch.zeros(classes))]
    losses = torch.ops.minitransformer.cross_entropy_bias_gradient_(*on_gpu, -100)
    grad_bias = torch.zeros(classes)
    expected = torch.ops.minitransformer.cross_entropy_bias_gradient_(logits, targets, bias, grad_losses, grad_bias,
                                                                      -100)
    torch.testing.assert_close(losses.cpu(), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(on_gpu[0].cpu(), logits, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(on_gpu[4].cpu(), grad_bias, rtol=1e-5, atol=1e-6)

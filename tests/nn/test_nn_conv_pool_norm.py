"""Conv2d (im2col), MaxPool2d, AvgPool2d, BatchNorm2d: vs the NumPy reference and F.conv2d /
F.max_pool2d / F.avg_pool2d / nn.BatchNorm2d, gradcheck, bad input."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from minitransformer import nn as mnn
from minitransformer.reference import batchnorm as ref_bn
from minitransformer.reference import conv as ref_conv
from minitransformer.reference import pooling as ref_pool
from helpers import relative_error, to_numpy
from _nn_helpers import assert_backend_matches_eager


@st.composite
def conv_case(draw):
    groups = draw(st.integers(1, 3))
    in_channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride, dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))), (draw(st.integers(1, 2)),
                                                                            draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    min_h = dilation[0] * (kernel[0] - 1) + 1 - 2 * padding[0]
    min_w = dilation[1] * (kernel[1] - 1) + 1 - 2 * padding[1]
    height, width = draw(st.integers(max(1, min_h), 7)), draw(st.integers(max(1, min_w), 7))
    return groups, in_channels, out_channels, kernel, stride, padding, dilation, height, width, draw(st.integers(0, 999))


@given(case=conv_case())
def test_conv2d_matches_numpy_and_torch(case):
    groups, in_channels, out_channels, kernel, stride, padding, dilation, height, width, seed = case
    torch.manual_seed(seed)
    conv = mnn.Conv2d(in_channels, out_channels, kernel, stride, padding, dilation, groups).double()
    x = torch.randn(2, in_channels, height, width, dtype=torch.float64, requires_grad=True)
    y = conv(x)
    grad = torch.randn_like(y)
    y.backward(grad)
    args = (stride, padding, dilation, groups)
    expected = ref_conv.conv2d_forward(to_numpy(x), to_numpy(conv.weight), to_numpy(conv.bias), *args)
    grad_x, grad_w, grad_b = ref_conv.conv2d_backward(to_numpy(x), to_numpy(conv.weight), to_numpy(grad), *args)
    assert relative_error(y, expected) < 1e-12
    assert max(relative_error(x.grad, grad_x), relative_error(conv.weight.grad, grad_w),
               relative_error(conv.bias.grad, grad_b)) < 1e-12
    assert relative_error(y, F.conv2d(x, conv.weight, conv.bias, *args)) < 1e-12


@given(kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 1), dilation=st.integers(1, 2),
       size=st.integers(5, 8), seed=st.integers(0, 999))
def test_max_pool_matches_numpy_and_torch(kernel, stride, padding, dilation, size, seed):
    padding = min(padding, kernel // 2)
    torch.manual_seed(seed)
    x = torch.randn(2, 3, size, size, dtype=torch.float64, requires_grad=True)
    y = mnn.MaxPool2d(kernel, stride, padding, dilation)(x)
    grad = torch.randn_like(y)
    y.backward(grad)
    geometry = ((kernel, kernel), (stride, stride), (padding, padding), (dilation, dilation))
    assert relative_error(y, ref_pool.max_pool2d_forward(to_numpy(x), *geometry)) < 1e-12
    assert relative_error(x.grad, ref_pool.max_pool2d_backward(to_numpy(x), to_numpy(grad), *geometry)) < 1e-12
    assert relative_error(y, F.max_pool2d(x, kernel, stride, padding, dilation)) < 1e-12


@given(kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 1), size=st.integers(3, 8),
       seed=st.integers(0, 999))
def test_avg_pool_matches_numpy_and_torch(kernel, stride, padding, size, seed):
    padding = min(padding, kernel // 2)
    torch.manual_seed(seed)
    x = torch.randn(2, 3, size, size, dtype=torch.float64, requires_grad=True)
    y = mnn.AvgPool2d(kernel, stride, padding)(x)
    grad = torch.randn_like(y)
    y.backward(grad)
    geometry = ((kernel, kernel), (stride, stride), (padding, padding))
    assert relative_error(y, ref_pool.avg_pool2d_forward(to_numpy(x), *geometry)) < 1e-12
    assert relative_error(x.grad, ref_pool.avg_pool2d_backward(to_numpy(x), to_numpy(grad), *geometry)) < 1e-12
    assert relative_error(y, F.avg_pool2d(x, kernel, stride, padding)) < 1e-12


@given(batch=st.integers(1, 4), channels=st.integers(1, 4), size=st.integers(1, 4), seed=st.integers(0, 999))
def test_batchnorm_matches_numpy_and_torch(batch, channels, size, seed):
    assume(batch * size * size >= 2)  # one value per channel has no variance (tested as an error below)
    torch.manual_seed(seed)
    mine = mnn.BatchNorm2d(channels).double()  # float64: with 2 values per channel dx is ill-conditioned
    theirs = torch.nn.BatchNorm2d(channels).double()
    with torch.no_grad():
        mine.weight.normal_()
        mine.bias.normal_()
    theirs.load_state_dict(mine.state_dict())
    x = torch.randn(batch, channels, size, size, dtype=torch.float64, requires_grad=True)
    for _ in range(2):  # training steps update the running statistics
        ours, expected = mine(x), theirs(x)
    assert relative_error(ours, expected) < 1e-12
    assert relative_error(mine.running_mean, theirs.running_mean) < 1e-12
    assert relative_error(mine.running_var, theirs.running_var) < 1e-12
    grad = torch.randn_like(ours)
    assert relative_error(torch.autograd.grad(ours, x, grad)[0], torch.autograd.grad(expected, x, grad)[0]) < 1e-8
    mine.eval(), theirs.eval()
    assert relative_error(mine(x), theirs(x)) < 1e-12

    x64 = x.detach().double().requires_grad_()
    y = mnn.BatchNorm2d(channels).double()(x64)
    y.backward(grad)
    expected64, cache, _ = ref_bn.batchnorm2d_forward(to_numpy(x64), torch.ones(channels).numpy(),
                                                      torch.zeros(channels).numpy())
    assert relative_error(y, expected64) < 1e-10
    assert relative_error(x64.grad, ref_bn.batchnorm2d_backward(to_numpy(grad), cache)[0]) < 1e-8


def test_gradcheck_float64():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    for module in (mnn.Conv2d(4, 2, 3, stride=2, padding=1, dilation=1, groups=2), mnn.MaxPool2d(2, 1, 1),
                   mnn.AvgPool2d(3, 2, 1), mnn.BatchNorm2d(4)):
        assert torch.autograd.gradcheck(module.double(), (x,))


@pytest.mark.parametrize("call, argument", [
    (lambda: mnn.Conv2d(3, 4, 3)(torch.randn(1, 2, 5, 5)), "channels"),
    (lambda: mnn.Conv2d(3, 4, 3)(torch.randn(3, 5, 5)), "x"),
    (lambda: mnn.Conv2d(3, 4, 5)(torch.randn(1, 3, 2, 2)), "too small"),
    (lambda: mnn.Conv2d(3, 4, 3, groups=2), "groups"),
    (lambda: mnn.Conv2d(3, 4, 0), "kernel_size"),
    (lambda: mnn.Conv2d(3, 4, 3, stride=0), "stride"),
    (lambda: mnn.MaxPool2d(2, padding=2), "padding"),
    (lambda: mnn.AvgPool2d(2)(torch.randn(4, 4)), "x"),
    (lambda: mnn.BatchNorm2d(3)(torch.randn(1, 3, 1, 1)), "more than one value"),
    (lambda: mnn.BatchNorm2d(3)(torch.randn(2, 4, 2, 2)), "channels"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("backend", ["torch", "fused"])
def test_layernorm_backends_agree_with_eager(backend, affine, bias):
    generator = torch.Generator().manual_seed(0)
    x, grad_y = torch.randn(3, 5, 24, generator=generator), torch.randn(3, 5, 24, generator=generator)

    def make(name):
        norm = mnn.LayerNorm(24, eps=1e-6, elementwise_affine=affine, bias=bias, backend=name)
        if affine:
            with torch.no_grad():
                norm.weight.normal_(generator=torch.Generator().manual_seed(1))
        return norm

    norm = assert_backend_matches_eager(make, backend, x, grad_y)
    assert f"backend={backend}" in repr(norm)


def test_fused_layernorm_normalises_one_dimension():
    with pytest.raises(ValueError, match="normalises one dimension"):
        mnn.LayerNorm((4, 6), backend="fused")

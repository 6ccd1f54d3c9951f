"""Parity of the hand-written modules (minitransformer.nn / optim) with PyTorch and with NumPy.

For each module, over several seeds and shapes, the maximum relative error ||ours - theirs|| / ||theirs||:

* vs PyTorch: our module in float32 against the PyTorch built-in in float32 with the same weights copied
  in and the same input — forward output, and the input gradient for a random upstream gradient;
* vs NumPy: our module in float64 against the float64 NumPy reference (minitransformer/reference/),
  forward and the hand-written backward (input gradient). "-" where a reference has no backward.

Optimizers: parameters after 20 steps on the same problem (vs torch.optim, float32) and after 5 steps vs
the NumPy one-step functions (float64). Usage: python bench/parity_table.py  ->  bench/results/parity.md
"""

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_info, markdown_table, write_markdown  # noqa: E402

from minitransformer import nn as mnn  # noqa: E402
from minitransformer import optim as mopt  # noqa: E402
from minitransformer.reference import (activations, batchnorm, conv, feedforward, layernorm, linear,  # noqa: E402
                                       losses, multihead_attention, optimizers, pooling, positional, rnn)
from minitransformer.reference.decoder_layer import decoder_layer_forward  # noqa: E402
from minitransformer.reference.encoder_layer import encoder_layer_forward  # noqa: E402

SEEDS = range(5)


def to_numpy(x):
    return x.detach().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def rel_err(actual, expected):
    actual, expected = to_numpy(actual), to_numpy(expected)
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-12))


def forward_and_grad(function, x, grad_out=None):
    """function(x) and d sum(grad_out * function(x)) / dx."""
    x = x.detach().clone().requires_grad_()
    y = function(x)
    grad_out = torch.randn_like(y) if grad_out is None else grad_out
    (grad_x,) = torch.autograd.grad(y, x, grad_out)
    return y, grad_x, grad_out


def torch_parity(ours, theirs, x):
    """(forward error, input-gradient error) of two float32 callables on the same x."""
    y, grad_x, grad_out = forward_and_grad(ours, x)
    y_ref, grad_ref, _ = forward_and_grad(theirs, x, grad_out)
    return rel_err(y, y_ref), rel_err(grad_x, grad_ref)


def numpy_parity(ours, x, reference_forward, reference_backward=None):
    """(forward error, input-gradient error) of a float64 callable vs the NumPy reference."""
    y, grad_x, grad_out = forward_and_grad(ours, x.double())
    forward_error = rel_err(y, reference_forward(to_numpy(x)))
    if reference_backward is None:
        return forward_error, None
    return forward_error, rel_err(grad_x, reference_backward(to_numpy(x), to_numpy(grad_out)))


def both(module, theirs, x, numpy_forward=None, numpy_backward=None, call=None):
    """torch_parity of ``module`` (float32) with ``theirs``, then numpy_parity of the same module in float64.
    ``call(module, x)`` runs the module (default ``module(x)``); ``theirs`` or ``numpy_forward`` may be None."""
    call = call or (lambda m, t: m(t))
    errors = (None, None) if theirs is None else torch_parity(lambda t: call(module, t), theirs, x)
    if numpy_forward is None:
        return errors + (None, None)
    module.double()
    return errors + numpy_parity(lambda t: call(module, t), x, numpy_forward, numpy_backward)


# --- one function per module: seed -> (torch fwd, torch grad, numpy fwd, numpy grad) ------------------

def check_linear(seed):
    torch.manual_seed(seed)
    layer = mnn.Linear(16, 8)
    w, b = to_numpy(layer.weight), to_numpy(layer.bias)
    return both(layer, lambda t: F.linear(t, layer.weight, layer.bias), torch.randn(4, 16),
                lambda a: linear.linear_forward(a, w, b), lambda a, g: linear.linear_backward(a, w, g)[0])


def check_layernorm(seed):
    torch.manual_seed(seed)
    norm, theirs = mnn.LayerNorm(32), torch.nn.LayerNorm(32)
    with torch.no_grad():
        norm.weight.normal_(), norm.bias.normal_()
    theirs.load_state_dict(norm.state_dict())
    w, b = to_numpy(norm.weight), to_numpy(norm.bias)
    return both(norm, theirs, 3 * torch.randn(4, 7, 32) + 1, lambda a: layernorm.layernorm_forward(a, w, b)[0],
                lambda a, g: layernorm.layernorm_backward(g, layernorm.layernorm_forward(a, w, b)[1])[0])


def check_gelu(seed):
    x = 3 * torch.randn(8, 64, generator=torch.Generator().manual_seed(seed))
    return both(mnn.GELU(), F.gelu, x, activations.gelu, activations.gelu_backward)


def check_feedforward(seed):
    torch.manual_seed(seed)
    ff = mnn.FeedForward(16, 64)
    weights = [to_numpy(p) for p in (ff.linear1.weight, ff.linear1.bias, ff.linear2.weight, ff.linear2.bias)]

    def theirs(t):
        return F.linear(F.gelu(F.linear(t, ff.linear1.weight, ff.linear1.bias)), ff.linear2.weight, ff.linear2.bias)

    return both(ff, theirs, torch.randn(2, 5, 16), lambda a: feedforward.feedforward_forward(a, *weights)[0],
                lambda a, g: feedforward.feedforward_backward(g, feedforward.feedforward_forward(a, *weights)[1])[0])


def _mha_numpy_params(mha):
    return {f"{prefix}_{kind}": to_numpy(getattr(proj, kind))
            for prefix, proj in (("q", mha.q_proj), ("k", mha.k_proj), ("v", mha.v_proj), ("out", mha.out_proj))
            for kind in ("weight", "bias")}


def check_mha(seed, backend="eager", causal=False):
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(32, 4, batch_first=True)
    mine = mnn.MultiHeadAttention(32, 4, backend=backend)
    mine.load_from_torch(theirs)
    padding = torch.rand(2, 9) < 0.3
    padding[:, 0] = False  # torch gives NaN on fully masked rows
    causal_mask = torch.ones(9, 9, dtype=torch.bool).triu(1) if causal else None
    params = _mha_numpy_params(mine)

    def reference(a):
        return multihead_attention.mha_forward(a, a, a, params, 4, causal, to_numpy(padding).astype(bool))

    def reference_backward(a, g):
        grads = multihead_attention.mha_backward(g, reference(a)[1])
        return grads["query"] + grads["key"] + grads["value"]  # self-attention: x feeds all three

    return both(mine, lambda t: theirs(t, t, t, key_padding_mask=padding, attn_mask=causal_mask, need_weights=False)[0],
                torch.randn(2, 9, 32), lambda a: reference(a)[0], reference_backward,
                call=lambda m, t: m(t, key_padding_mask=padding, is_causal=causal))


def _feed_forward_and_norm_params(layer, norms):
    """w1, b1, w2, b2, norm{i}_weight, norm{i}_bias of an encoder/decoder layer as float64 arrays."""
    named = {"w1": layer.feed_forward.linear1.weight, "b1": layer.feed_forward.linear1.bias,
             "w2": layer.feed_forward.linear2.weight, "b2": layer.feed_forward.linear2.bias}
    named.update({f"norm{i}_{kind}": getattr(getattr(layer, f"norm{i}"), kind) for i in range(1, norms + 1)
                  for kind in ("weight", "bias")})
    return {key: to_numpy(value) for key, value in named.items()}


def check_encoder(seed, norm_first=False):
    torch.manual_seed(seed)
    theirs = torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True, norm_first=norm_first)
    mine = mnn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, norm_first=norm_first)
    mine.load_from_torch(theirs)
    params = _mha_numpy_params(mine.self_attn)
    params.update(_feed_forward_and_norm_params(mine, norms=2))
    return both(mine, theirs, torch.randn(2, 9, 32), lambda a: encoder_layer_forward(a, params, 4, norm_first=norm_first),
                lambda a, g: encoder_layer_forward(a, params, 4, norm_first=norm_first, return_backward=True)[1](g))


def check_decoder(seed, norm_first=False):
    torch.manual_seed(seed)
    theirs = torch.nn.TransformerDecoderLayer(32, 4, 64, dropout=0.0, batch_first=True, norm_first=norm_first)
    mine = mnn.TransformerDecoderLayer(32, 4, 64, dropout=0.0, norm_first=norm_first)
    mine.load_from_torch(theirs)
    memory, causal = torch.randn(2, 6, 32), torch.ones(9, 9, dtype=torch.bool).triu(1)
    params = {"self_attn": _mha_numpy_params(mine.self_attn), "cross_attn": _mha_numpy_params(mine.multihead_attn)}
    params.update(_feed_forward_and_norm_params(mine, norms=3))
    memory64 = to_numpy(memory)
    return both(mine, lambda t: theirs(t, memory, tgt_mask=causal, tgt_is_causal=True), torch.randn(2, 9, 32),
                lambda a: decoder_layer_forward(a, memory64, params, 4, norm_first)[0],
                lambda a, g: decoder_layer_forward(a, memory64, params, 4, norm_first)[1](g)[0],
                call=lambda m, t: m(t, memory.to(t.dtype)))


def check_conv(seed):
    torch.manual_seed(seed)
    layer = mnn.Conv2d(6, 8, 3, stride=2, padding=1, dilation=1, groups=2)
    args = (layer.stride, layer.padding, layer.dilation, layer.groups)
    w, b = to_numpy(layer.weight), to_numpy(layer.bias)
    return both(layer, lambda t: F.conv2d(t, layer.weight, layer.bias, *args), torch.randn(2, 6, 11, 11),
                lambda a: conv.conv2d_forward(a, w, b, *args), lambda a, g: conv.conv2d_backward(a, w, g, *args)[0])


def check_maxpool(seed):
    x = torch.randn(2, 3, 10, 10, generator=torch.Generator().manual_seed(seed))
    geometry = ((3, 3), (2, 2), (1, 1), (1, 1))
    return both(mnn.MaxPool2d(3, 2, 1), lambda t: F.max_pool2d(t, 3, 2, 1), x,
                lambda a: pooling.max_pool2d_forward(a, *geometry),
                lambda a, g: pooling.max_pool2d_backward(a, g, *geometry))


def check_avgpool(seed):
    x = torch.randn(2, 3, 10, 10, generator=torch.Generator().manual_seed(seed))
    geometry = ((3, 3), (2, 2), (1, 1))
    return both(mnn.AvgPool2d(3, 2, 1), lambda t: F.avg_pool2d(t, 3, 2, 1), x,
                lambda a: pooling.avg_pool2d_forward(a, *geometry),
                lambda a, g: pooling.avg_pool2d_backward(a, g, *geometry))


def check_batchnorm(seed):
    torch.manual_seed(seed)
    ones, zeros = np.ones(4), np.zeros(4)  # a fresh layer: gamma = 1, beta = 0
    return both(mnn.BatchNorm2d(4), torch.nn.BatchNorm2d(4), torch.randn(8, 4, 5, 5) * 2 + 1,
                lambda a: batchnorm.batchnorm2d_forward(a, ones, zeros)[0],
                lambda a, g: batchnorm.batchnorm2d_backward(g, batchnorm.batchnorm2d_forward(a, ones, zeros)[1])[0])


def _stack_layers(module):
    return [tuple(to_numpy(getattr(module, f"{n}_l{k}")) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            for k in range(module.num_layers)]


def check_lstm(seed):
    torch.manual_seed(seed)
    mine, theirs = mnn.LSTM(8, 16, num_layers=2), torch.nn.LSTM(8, 16, num_layers=2, batch_first=True)
    theirs.load_state_dict(mine.state_dict())
    layers = _stack_layers(mine)
    return both(mine, lambda t: theirs(t)[0], torch.randn(3, 12, 8), lambda a: rnn.lstm_forward(a, layers)[0],
                lambda a, g: rnn.lstm_backward(a, layers, g)[0], call=lambda m, t: m(t)[0])


def check_rnn(seed):
    torch.manual_seed(seed)
    mine, theirs = mnn.RNN(8, 16), torch.nn.RNN(8, 16, batch_first=True)
    theirs.load_state_dict(mine.state_dict())
    (layer,) = _stack_layers(mine)
    return both(mine, lambda t: theirs(t)[0], torch.randn(3, 12, 8), lambda a: rnn.rnn_forward(a, [layer])[0],
                lambda a, g: rnn.rnn_backward(a, layer, rnn.rnn_forward(a, [layer])[0], g)[0], call=lambda m, t: m(t)[0])


def _loss_parity(ours, theirs, reference, reference_backward, logits):
    """Losses are scalars: the gradient is for an upstream gradient of 1."""
    torch_errors = torch_parity(ours, theirs, logits)
    y, grad, _ = forward_and_grad(ours, logits.double(), torch.tensor(1.0, dtype=torch.float64))
    return torch_errors + (rel_err(y, reference(to_numpy(logits))), rel_err(grad, reference_backward(to_numpy(logits))))


def check_cross_entropy(seed):
    generator = torch.Generator().manual_seed(seed)
    logits, targets = 3 * torch.randn(16, 10, generator=generator), torch.randint(0, 10, (16,), generator=generator)
    targets[:3] = -100
    return _loss_parity(lambda t: mnn.cross_entropy(t, targets, label_smoothing=0.1),
                        lambda t: F.cross_entropy(t, targets, label_smoothing=0.1),
                        lambda a: losses.cross_entropy(a, targets.numpy(), label_smoothing=0.1),
                        lambda a: losses.cross_entropy_backward(a, targets.numpy(), label_smoothing=0.1), logits)


def check_bce(seed):
    generator = torch.Generator().manual_seed(seed)
    logits, targets = 5 * torch.randn(32, generator=generator), torch.rand(32, generator=generator)
    return _loss_parity(lambda t: mnn.binary_cross_entropy_with_logits(t, targets.to(t.dtype)),
                        lambda t: F.binary_cross_entropy_with_logits(t, targets),
                        lambda a: losses.binary_cross_entropy_with_logits(a, to_numpy(targets)),
                        lambda a: losses.binary_cross_entropy_with_logits_backward(a, to_numpy(targets)), logits)


def check_rope(seed):
    x = torch.randn(2, 4, 10, 16, generator=torch.Generator().manual_seed(seed))
    positions = np.arange(3, 13)
    return both(mnn.RotaryEmbedding(16), None, x, lambda a: positional.rotary_forward(a, positions),
                lambda a, g: positional.rotary_backward(g, positions), call=lambda m, t: m(t, offset=3))


def check_sinusoidal(seed):
    return (None, None, rel_err(mnn.sinusoidal_table(128, 64), positional.sinusoidal_table(128, 64)), None)


def _optimizer_run(make, seed, dtype, steps):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(8, 4, generator=generator, dtype=dtype)
    x, y = torch.randn(32, 4, generator=generator, dtype=dtype), torch.randn(32, 8, generator=generator, dtype=dtype)
    weight.requires_grad_()
    optimizer, grads, values = make([weight]), [], []
    for _ in range(steps):
        optimizer.zero_grad()
        ((torch.tanh(x @ weight.T) - y) ** 2).mean().backward()
        grads.append(weight.grad.detach().clone())
        values.append(weight.detach().clone())
        optimizer.step()
    return weight.detach(), values, grads


def check_optimizer(seed, ours, theirs, reference_step, kwargs):
    mine, _, _ = _optimizer_run(lambda p: ours(p, **kwargs), seed, torch.float32, 20)
    expected, _, _ = _optimizer_run(lambda p: theirs(p, **kwargs), seed, torch.float32, 20)
    final, values, grads = _optimizer_run(lambda p: ours(p, **kwargs), seed, torch.float64, 5)
    array, state = to_numpy(values[0]), {}
    for grad in grads:  # the reference takes the same gradients (computed at the same points)
        array, state = reference_step(array, to_numpy(grad), state, **kwargs)
    return rel_err(mine, expected), None, rel_err(final, array), None


CHECKS = [
    ("Linear", check_linear), ("LayerNorm", check_layernorm), ("GELU", check_gelu), ("FeedForward", check_feedforward),
    ("MultiHeadAttention (eager)", check_mha),
    ("MultiHeadAttention (eager, causal)", lambda s: check_mha(s, causal=True)),
    ("MultiHeadAttention (torch SDPA)", lambda s: check_mha(s, backend="torch")),
    ("TransformerEncoderLayer (post-norm)", check_encoder),
    ("TransformerEncoderLayer (pre-norm)", lambda s: check_encoder(s, norm_first=True)),
    ("TransformerDecoderLayer (post-norm)", check_decoder),
    ("TransformerDecoderLayer (pre-norm)", lambda s: check_decoder(s, norm_first=True)),
    ("Conv2d (stride 2, pad 1, groups 2)", check_conv), ("MaxPool2d", check_maxpool), ("AvgPool2d", check_avgpool),
    ("BatchNorm2d (training)", check_batchnorm), ("LSTM (2 layers)", check_lstm), ("RNN (tanh)", check_rnn),
    ("cross_entropy (ignore_index, smoothing 0.1)", check_cross_entropy), ("binary_cross_entropy_with_logits", check_bce),
    ("RotaryEmbedding", check_rope), ("sinusoidal_table", check_sinusoidal),
    ("SGD (momentum 0.9, Nesterov, wd)", lambda s: check_optimizer(
        s, mopt.SGD, torch.optim.SGD, optimizers.sgd_step, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01))),
    ("Adam (wd 0.1)", lambda s: check_optimizer(s, mopt.Adam, torch.optim.Adam, optimizers.adam_step,
                                                dict(lr=0.01, weight_decay=0.1))),
    ("AdamW (wd 0.1)", lambda s: check_optimizer(s, mopt.AdamW, torch.optim.AdamW, optimizers.adamw_step,
                                                 dict(lr=0.01, weight_decay=0.1))),
]


def run():
    checks = list(CHECKS)
    if mnn.resolve_backend("auto") == "fused":
        checks.insert(7, ("MultiHeadAttention (fused)", lambda s: check_mha(s, backend="fused")))
    rows = []
    for name, check in tqdm(checks, desc="parity"):
        results = [check(seed) for seed in SEEDS]
        worst = [None if results[0][i] is None else max(r[i] for r in results) for i in range(4)]
        rows.append([name] + ["-" if value is None else f"{value:.1e}" for value in worst])
    return rows, len(checks) - len(CHECKS)


def main():
    rows, fused = run()
    info = machine_info()
    headers = ["module", "vs PyTorch fwd (fp32)", "vs PyTorch grad (fp32)", "vs NumPy fwd (fp64)",
               "vs NumPy grad (fp64)"]
    note = "" if fused else ("\nThe fused attention backend is not in this table: the compiled extension did not "
                             "load when it was generated.\n")
    markdown = (f"# Parity of the hand-written modules\n\nMax relative error ||ours - theirs|| / ||theirs|| over "
                f"{len(SEEDS)} seeds, generated by `bench/parity_table.py` (torch {info['torch']}, CPU). \"grad\" is "
                "the input gradient for a random upstream gradient (for optimizers: the parameters after 20 steps "
                "vs torch.optim in fp32, after 5 steps vs the NumPy update rule in fp64). \"-\": no such "
                "counterpart (no built-in, or a forward-only reference).\n" + note + "\n"
                + markdown_table(headers, rows))
    path = write_markdown("parity", markdown)
    print(markdown)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""torch.compile(fullgraph=True) of BERT's and GPT's forward + loss, for every backend that runs on the CPU:
one graph (fullgraph raises at a graph break; the counting backend sees a single frame), the same values and
parameter gradients as eager, dropout on (aot_eager draws the same random numbers as eager)."""

import pytest
import torch
from torch._dynamo.testing import CompileCounterWithBackend

from minitransformer.data.pretraining.windows import mlm_window_batch
from minitransformer.models.bert import BertConfig, BertForPreTraining
from minitransformer.models.gpt import GPT, GPTConfig
from minitransformer.nn.backends import resolve_backend

VOCAB, LENGTH = 60, 12
SIZE = dict(vocab_size=VOCAB, max_len=LENGTH, d_model=16, n_layers=2, n_heads=2, d_ff=32, dropout=0.1,
            attention_dropout=0.0)
BACKENDS = ["eager", "torch"] + (["fused"] if resolve_backend("auto") == "fused" else [])


def compiled_once_matches_eager(model, run, *args):
    """Runs ``run(model, *args)`` -> (outputs..., loss) eagerly and compiled with ``fullgraph=True`` from the same
    torch seed; checks one graph, equal outputs and equal parameter gradients of the loss."""
    results = []
    counter = CompileCounterWithBackend("aot_eager")
    for function in (run, torch.compile(run, fullgraph=True, backend=counter)):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(0)
        *outputs, loss = function(model, *args)
        loss.backward()
        results.append([*outputs, loss.detach()] + [p.grad for p in model.parameters()])
    assert counter.frame_count == 1
    for eager, compiled in zip(*results):
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bert_forward_and_pretraining_loss_compile_to_one_graph(backend):
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(backend=backend, positions="learned", **SIZE)).train()
    batch = mlm_window_batch(torch.randint(5, VOCAB, (500,)), LENGTH, 3, VOCAB, torch.Generator().manual_seed(0))

    def run(model, batch):
        mlm_logits, nsp_logits = model(batch["input_ids"], batch["segment_ids"], batch["padding_mask"])
        loss, parts = model.loss(batch)
        return mlm_logits, nsp_logits, parts["mlm"], loss

    compiled_once_matches_eager(model, run, batch)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gpt_forward_and_loss_compile_to_one_graph(backend):
    torch.manual_seed(0)
    model = GPT(GPTConfig(backend=backend, positions="rotary", **SIZE)).train()
    ids = torch.randint(0, VOCAB, (3, LENGTH + 1), generator=torch.Generator().manual_seed(1))

    def run(model, inputs, targets):
        return model(inputs), model.loss((inputs, targets))[0]

    compiled_once_matches_eager(model, run, ids[:, :-1], ids[:, 1:])

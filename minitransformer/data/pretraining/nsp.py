"""Next-sentence-prediction pairs and BERT pre-training batches (Devlin et al. 2019, section 3.1, "Task #2").

Each example is ``[CLS] A [SEP] B [SEP]`` with segment ids 0 for ``[CLS] A [SEP]`` and 1 for ``B [SEP]``:

* with probability 1/2, B is the text that really follows A in the same document (label ``IS_NEXT`` = 0);
* otherwise B is a span taken from a *different* document, chosen at random (label ``NOT_NEXT`` = 1).

A document is a list of sentences (token-id lists). Sentences are packed into chunks of at most
``max_len - 3`` tokens; A is the first 1..m-1 sentences of a chunk, B the rest. A chunk of a single
sentence is cut at a random token, so short documents (a one-line review) still give true pairs.
Over-long pairs are trimmed, one token at a time from the longer side (BERT's ``truncate_seq_pair``).

Without NSP (RoBERTa's "DOC-SENTENCES" input, Liu et al. 2019, section 4.2) ``make_document_examples``
gives ``[CLS] chunk [SEP]``: whole chunks of one document, B empty, NSP label ``NO_NSP`` (ignored by the loss).

``bert_batch`` pads examples into tensors and applies the MLM corruption of ``mlm.py``.
"""

import random

import torch

from minitransformer.data.pretraining.mlm import IGNORE_INDEX, mask_tokens, masked_positions
from minitransformer.data.text.tokenizer import CLS_ID, PAD_ID, SEP_ID, SPECIAL_TOKENS

IS_NEXT, NOT_NEXT = 0, 1
NO_NSP = IGNORE_INDEX


def _chunks(sentences, budget):
    chunk, size = [], 0
    for sentence in sentences:
        sentence = sentence[:budget]
        if chunk and size + len(sentence) > budget:
            yield chunk
            chunk, size = [], 0
        chunk.append(sentence)
        size += len(sentence)
    if chunk:
        yield chunk


def _split_chunk(chunk, rng):
    if len(chunk) >= 2:
        cut = rng.randint(1, len(chunk) - 1)
        return [t for s in chunk[:cut] for t in s], [t for s in chunk[cut:] for t in s]
    tokens = chunk[0]
    cut = rng.randint(1, len(tokens) - 1)
    return tokens[:cut], tokens[cut:]


def _random_span(documents, avoid, length, rng):
    other = rng.randrange(len(documents) - 1)
    other += other >= avoid  # any document but ``avoid``
    tokens = [t for s in documents[other] for t in s]
    start = rng.randrange(max(1, len(tokens) - length + 1))
    return tokens[start:start + length]


def _truncate_pair(a, b, budget):
    a, b = list(a), list(b)
    while len(a) + len(b) > budget:
        (a if len(a) > len(b) else b).pop()
    return a, b


def make_nsp_examples(documents, max_len, seed=0):
    """A list of ``(tokens_a, tokens_b, nsp_label)`` from ``documents`` (lists of sentences of token ids)."""
    if max_len < 5:
        raise ValueError(f"max_len must be at least 5 ([CLS] a [SEP] b [SEP]), got {max_len}")
    documents = [[s for s in doc if s] for doc in documents]
    documents = [doc for doc in documents if doc]
    if len(documents) < 2:
        raise ValueError("documents must hold at least two non-empty documents (NSP draws B from another one)")
    rng = random.Random(seed)
    budget = max_len - 3
    examples = []
    for index, document in enumerate(documents):
        for chunk in _chunks(document, budget):
            if len(chunk) == 1 and len(chunk[0]) < 2:
                continue
            a, b = _split_chunk(chunk, rng)
            label = IS_NEXT
            if rng.random() < 0.5:
                b, label = _random_span(documents, index, len(b), rng), NOT_NEXT
            a, b = _truncate_pair(a, b, budget)
            if a and b:
                examples.append((a, b, label))
    return examples


def make_document_examples(documents, max_len):
    """A list of ``(chunk, [], NO_NSP)``: each document's sentences packed into chunks of <= max_len - 2 tokens."""
    if max_len < 3:
        raise ValueError(f"max_len must be at least 3 ([CLS] a [SEP]), got {max_len}")
    examples = [([t for s in chunk for t in s], [], NO_NSP)
                for document in documents for chunk in _chunks([s for s in document if s], max_len - 2)]
    if not examples:
        raise ValueError("documents hold no tokens")
    return examples


def bert_batch(examples, max_len, vocab_size, generator=None, max_predictions=20):
    """Tensors for a list of examples (NSP pairs or document chunks): ``input_ids``, ``segment_ids``,
    ``padding_mask`` (True at [PAD]) (all (B, max_len)), ``mlm_positions`` and ``mlm_labels`` (both
    (B, max_predictions), mlm.py:masked_positions) and ``nsp_labels`` (B,)."""
    if not examples:
        raise ValueError("examples is empty")
    batch = len(examples)
    ids = torch.full((batch, max_len), PAD_ID, dtype=torch.long)
    segments = torch.zeros(batch, max_len, dtype=torch.long)
    for row, (a, b, _) in enumerate(examples):
        tokens = [CLS_ID, *a, SEP_ID, *b, SEP_ID] if b else [CLS_ID, *a, SEP_ID]
        if len(tokens) > max_len:
            raise ValueError(f"example {row} has {len(tokens)} tokens, more than max_len={max_len}")
        ids[row, :len(tokens)] = torch.tensor(tokens)
        segments[row, len(a) + 2:len(tokens)] = 1
    special = ids < len(SPECIAL_TOKENS)
    corrupted, mlm_labels = mask_tokens(ids, special, vocab_size, generator=generator,
                                        max_predictions=max_predictions)
    positions, targets = masked_positions(mlm_labels, max_predictions)
    return {"input_ids": corrupted, "segment_ids": segments, "padding_mask": ids == PAD_ID, "mlm_positions": positions,
            "mlm_labels": targets, "nsp_labels": torch.tensor([e[2] for e in examples])}

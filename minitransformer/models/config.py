"""The configuration shared by the Transformer models (BERT, models/bert.py; GPT, models/gpt.py): their
size, regularisation, attention backend and positions. Each field's default is written here once;
``BertConfig`` and ``GPTConfig`` add what only they have, and the pre-training recipes
(recipes/pretraining.py) start from these defaults.

``positions`` defaults to "learned" (the papers' choice): a checkpoint written before the field existed
has no ``positions`` key and must rebuild with learned positions.
"""

from dataclasses import asdict, dataclass

POSITIONS = ("learned", "rotary")


def check_positions(name):
    if name not in POSITIONS:
        raise ValueError(f"positions must be one of {POSITIONS}, got {name!r}")
    return name


@dataclass
class TransformerConfig:
    vocab_size: int
    max_len: int = 128
    d_model: int = 128
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 512
    dropout: float = 0.1
    attention_dropout: float = 0.0  # the fused kernel has no attention dropout
    activation_dropout: float = None  # the FFN hidden layer's; None: ``dropout`` (every checkpoint so far)
    backend: str = "auto"
    positions: str = "learned"

    def to_dict(self):
        return asdict(self)

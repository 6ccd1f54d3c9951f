"""A WordPiece tokenizer trained from a corpus (Wu et al. 2016, "Google's Neural Machine Translation
System", section 4.1; the vocabulary format and greedy encoding of Devlin et al. 2019, BERT).

Text is lower-cased and pre-split into words and single punctuation marks. A word is spelt with its
first character as is and every later character prefixed by ``##`` ("playing" -> p ##l ##a ##y …).

Training learns the vocabulary by merging symbols: starting from the characters, repeatedly merge the
pair of adjacent symbols (a, b) with the highest count over the corpus,

    (a, b) = argmax_{a, b}  count(a b),      new symbol = a + b without b's "##",

until the vocabulary has ``vocab_size`` entries (the byte-pair-encoding merge rule of Sennrich et al.
2016; pair counts are updated incrementally, only in the words that contain the merged pair).

Encoding is WordPiece's greedy longest-match-first: take the longest vocabulary entry that starts the
rest of the word (with ``##`` after the first piece), repeat; a word that cannot be spelt becomes
``[UNK]``. Decoding joins ``##`` pieces onto the previous token and everything else with spaces, so
``decode(encode(text)) == " ".join(pre_tokenize(text))`` whenever every character was seen in training.

Saved as JSON (``save`` / ``load``): the ordered vocabulary; token id = position in the list.
"""

import heapq
import json
import re
from collections import Counter
from pathlib import Path

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(len(SPECIAL_TOKENS))
CONTINUATION = "##"
MAX_WORD_CHARS = 100
FORMAT_NAME = "minitransformer-wordpiece"

_PIECES = re.compile(r"\w+|[^\w\s]")


def pre_tokenize(text):
    """Lower-cased words and single punctuation marks of ``text``: "Don't!" -> ["don", "'", "t", "!"]."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return _PIECES.findall(text.lower())


def _spell(word):
    """The character symbols of ``word``: ("w", "##o", "##r", "##d")."""
    return (word[0],) + tuple(CONTINUATION + char for char in word[1:])


def _merge_symbol(left, right):
    return left + right[len(CONTINUATION):]


def _pairs(symbols):
    return zip(symbols, symbols[1:])


def learn_vocabulary(word_counts, vocab_size):
    """Special tokens, then every character symbol, then merged symbols until ``vocab_size`` entries."""
    words = [_spell(word) for word in word_counts]
    counts = list(word_counts.values())
    alphabet = sorted({symbol for symbols in words for symbol in symbols})
    vocab = list(SPECIAL_TOKENS) + alphabet
    pair_count, pair_words = Counter(), {}
    for index, symbols in enumerate(words):
        for pair in _pairs(symbols):
            pair_count[pair] += counts[index]
            pair_words.setdefault(pair, set()).add(index)
    heap = [(-count, pair) for pair, count in pair_count.items()]
    heapq.heapify(heap)
    known = set(vocab)
    while len(vocab) < vocab_size and heap:
        negative_count, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negative_count or negative_count == 0:
            continue  # a stale heap entry: the count changed since it was pushed
        merged = _merge_symbol(*pair)
        if merged not in known:
            vocab.append(merged)
            known.add(merged)
        changed = set()
        for index in pair_words.pop(pair, ()):
            symbols, count = words[index], counts[index]
            for old in _pairs(symbols):
                pair_count[old] -= count
                changed.add(old)
            words[index] = symbols = _apply_merge(symbols, pair, merged)
            for new in _pairs(symbols):
                pair_count[new] += count
                pair_words.setdefault(new, set()).add(index)
                changed.add(new)
        pair_count.pop(pair, None)
        for other in changed:
            if pair_count.get(other, 0) > 0:
                heapq.heappush(heap, (-pair_count[other], other))
    return vocab


def _apply_merge(symbols, pair, merged):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(merged)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


class WordPieceTokenizer:
    """Maps text to token ids and back. Build with ``train`` / ``train_from_files`` / ``load``."""

    def __init__(self, vocab):
        vocab = list(vocab)
        if tuple(vocab[:len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"vocab must start with the special tokens {SPECIAL_TOKENS}, got {vocab[:5]}")
        if len(set(vocab)) != len(vocab):
            duplicates = sorted(token for token, n in Counter(vocab).items() if n > 1)[:5]
            raise ValueError(f"vocab has duplicate tokens, e.g. {duplicates}")
        self.vocab = vocab
        self.token_to_id = {token: index for index, token in enumerate(vocab)}
        self._word_cache = {}

    @classmethod
    def train(cls, texts, vocab_size=4000, min_frequency=1):
        """Learn a vocabulary of at most ``vocab_size`` tokens from an iterable of strings."""
        if not isinstance(vocab_size, int) or vocab_size <= len(SPECIAL_TOKENS):
            raise ValueError(f"vocab_size must be an int > {len(SPECIAL_TOKENS)}, got {vocab_size!r}")
        word_counts = Counter()
        for text in texts:
            word_counts.update(w for w in pre_tokenize(text) if len(w) <= MAX_WORD_CHARS)
        word_counts = Counter({w: n for w, n in word_counts.items() if n >= min_frequency})
        if not word_counts:
            raise ValueError("texts is empty: the corpus has no words to train the tokenizer on")
        return cls(learn_vocabulary(word_counts, vocab_size))

    @classmethod
    def train_from_files(cls, paths, vocab_size=4000, min_frequency=1):
        """Like ``train``, on UTF-8 text files; ValueError names a file that does not exist."""
        texts = []
        for path in map(Path, paths):
            if not path.is_file():
                raise ValueError(f"corpus file not found: {path}")
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        return cls.train(texts, vocab_size=vocab_size, min_frequency=min_frequency)

    def __len__(self):
        return len(self.vocab)

    @property
    def special_ids(self):
        return tuple(range(len(SPECIAL_TOKENS)))

    def _encode_word(self, word):
        if word in self._word_cache:
            return self._word_cache[word]
        ids, start = [], 0
        while start < len(word) and len(word) <= MAX_WORD_CHARS:
            prefix = CONTINUATION if start else ""
            for end in range(len(word), start, -1):
                token_id = self.token_to_id.get(prefix + word[start:end])
                if token_id is not None:
                    ids.append(token_id)
                    start = end
                    break
            else:
                break
        if start < len(word) or not ids:
            ids = [UNK_ID]
        self._word_cache[word] = ids
        return ids

    def tokenize(self, text):
        """The token strings of ``text``."""
        return [self.vocab[i] for i in self.encode(text)]

    def encode(self, text):
        """Token ids of ``text`` (no special tokens added)."""
        return [token_id for word in pre_tokenize(text) for token_id in self._encode_word(word)]

    def decode(self, ids, skip_special=True):
        """Text of ``ids``: ``##`` pieces glued to the previous token, the rest joined by spaces."""
        words = []
        for token_id in ids:
            token_id = int(token_id)
            if not 0 <= token_id < len(self.vocab):
                raise ValueError(f"ids contains {token_id}, outside the vocabulary [0, {len(self.vocab)})")
            if skip_special and token_id < len(SPECIAL_TOKENS):
                continue
            token = self.vocab[token_id]
            if token.startswith(CONTINUATION) and words:
                words[-1] += token[len(CONTINUATION):]
            else:
                words.append(token)
        return " ".join(words)

    def to_json(self):
        return json.dumps({"format": FORMAT_NAME, "version": 1, "vocab": self.vocab}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"tokenizer JSON is malformed: {error}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME or not isinstance(data.get("vocab"), list):
            raise ValueError(f"tokenizer JSON is not a {FORMAT_NAME} file (needs 'format' and a 'vocab' list)")
        return cls(data["vocab"])

    def save(self, path):
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path):
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"tokenizer file not found: {path}")
        return cls.from_json(path.read_text(encoding="utf-8"))

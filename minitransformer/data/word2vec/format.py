"""Word vectors in the word2vec file formats, as word2vec.c writes them and gensim reads them.

Both start with a header line "V D\\n" (vocabulary size, vector size). Then, per word:

* text   (``binary=False``): the word and its D numbers separated by single spaces, then "\\n"
  (9 significant digits: enough to read back the same float32);
* binary (``binary=True``):  the word in UTF-8, one space, the D values as little-endian float32
  (4·D bytes), then "\\n" (word2vec.c writes it; gensim does not, and reading accepts both).

Words may not contain whitespace (``WordVectors`` enforces it), which is what lets a reader find where
a word ends.
"""

from pathlib import Path

import numpy as np

from minitransformer.data.word2vec.vectors import WordVectors


def save_word2vec(vectors: WordVectors, path, binary=False):
    """Write ``vectors`` to ``path`` in the text or binary word2vec format."""
    with open(path, "wb") as out:
        out.write(f"{len(vectors)} {vectors.dim}\n".encode())
        for word, row in zip(vectors.words, vectors.vectors):
            if binary:
                out.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
            else:
                out.write((word + " " + " ".join(f"{x:.9g}" for x in row) + "\n").encode("utf-8"))


def _read_header(stream, path):
    fields = stream.readline().split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise ValueError(f"{path}: the first line must be 'vocab_size dim', got {b' '.join(fields)!r}")
    return int(fields[0]), int(fields[1])


def load_word2vec(path, binary=False):
    """Read a word2vec text or binary file into ``WordVectors``; ValueError on a malformed file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"vector file not found: {path}")
    with open(path, "rb") as stream:
        count, dim = _read_header(stream, path)
        words, vectors = [], np.empty((count, dim), dtype=np.float32)
        for i in range(count):
            if binary:
                word = bytearray()
                while (char := stream.read(1)) != b" ":
                    if not char:
                        raise ValueError(f"{path}: file ends inside word {i} of {count}")
                    if char != b"\n":  # the newline word2vec.c writes after each vector
                        word += char
                row = np.frombuffer(stream.read(4 * dim), dtype="<f4")
                word = bytes(word)
            else:
                word, *numbers = stream.readline().rstrip(b"\r\n").split(b" ")
                row = np.asarray(numbers, dtype=np.float32) if len(numbers) == dim else np.empty(0)
            if row.size != dim:
                raise ValueError(f"{path}: word {i} ({word!r}) has {row.size} values, expected {dim}")
            words.append(word.decode("utf-8"))
            vectors[i] = row
    return WordVectors(words, vectors)

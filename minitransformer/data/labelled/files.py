"""Labelled texts from your own files, CSV or JSON lines, as ``LabelledTexts`` (data/labelled/sets.py):

    CSV (.csv): a header row naming the columns, then one example per row (quote a text that holds commas):

        text,label
        "A gorgeous, moving film.",positive
        Dull and far too long.,negative

    JSON lines (.jsonl, .json-lines): one JSON object per line (blank lines are skipped):

        {"text": "A gorgeous, moving film.", "label": "positive"}
        {"text": "Dull and far too long.", "label": "negative"}

Other columns or fields are ignored. Files are UTF-8 (a leading byte-order mark is allowed). Texts and
labels are stripped of surrounding spaces; a label is any string or number, its classes are the sorted
distinct labels (``class_names`` fixes them instead: the test file of a training file).

    read_labelled_file("reviews.csv")                                      # LabelledTexts named "reviews"
    read_labelled_file("tickets.jsonl", text_column="body", label_column="team")
    read_labelled_file("test.csv", class_names=train.class_names)          # the training file's classes

Every bad input is a one-line ValueError naming the file and, where it applies, the row or line.
"""

import csv
import io
import json
from pathlib import Path

from minitransformer.data.labelled.sets import LabelledTexts
from minitransformer.data.text.corpus import read_utf8

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json-lines": "jsonl"}


def _csv_examples(path, text, text_column, label_column):
    """``(where, text, label)`` for every row of a CSV file; ``where`` is "row N (line L)"."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = reader.fieldnames or []
        for needed in (text_column, label_column):
            if needed not in columns:
                raise ValueError(f"{path} has no column {needed!r} (its columns: {', '.join(map(repr, columns))})")
        for number, row in enumerate(reader, start=1):
            yield f"row {number} (line {reader.line_num})", row[text_column], row[label_column]
    except csv.Error as error:
        raise ValueError(f"{path}: malformed CSV at line {reader.line_num} ({error})") from None


def _jsonl_examples(path, text, text_column, label_column):
    """``(where, text, label)`` for every non-blank line of a JSON-lines file; ``where`` is "line N"."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: invalid JSON on line {number} ({error.msg})") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path}: line {number} is not a JSON object")
        for needed in (text_column, label_column):
            if needed not in record:
                raise ValueError(f"{path}: line {number} has no field {needed!r} "
                                 f"(its fields: {', '.join(map(repr, record))})")
        yield f"line {number}", record[text_column], record[label_column]


def _as_string(value, what, path, where):
    """A text or label value stripped; empty (or null) is an error, and so is a list or an object."""
    if value is None:
        value = ""
    if isinstance(value, (list, dict)):
        raise ValueError(f"{path}: the {what} at {where} is a JSON {type(value).__name__}, not a string or number")
    value = str(value).strip()
    if not value:
        raise ValueError(f"{path}: empty {what} at {where}")
    return value


def read_labelled_file(path, text_column="text", label_column="label", class_names=None):
    """``LabelledTexts`` (name = the file's stem) of a CSV or JSON-lines file of labelled texts.

    ``class_names``: the classes to map labels onto (a label outside them is an error); default: the sorted
    distinct labels of the file, at least two."""
    path = Path(path)
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ValueError(f"{path}: unknown format {path.suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(FORMATS)}")
    text = read_utf8(path)
    if not text.strip():
        raise ValueError(f"{path} is empty")
    read_rows = _csv_examples if file_format == "csv" else _jsonl_examples
    texts, labels, places = [], [], []
    for where, row_text, row_label in read_rows(path, text, text_column, label_column):
        texts.append(_as_string(row_text, "text", path, where))
        labels.append(_as_string(row_label, "label", path, where))
        places.append(where)
    if not texts:
        raise ValueError(f"{path} has a header but no examples")
    if class_names is None:
        class_names = sorted(set(labels))
        if len(class_names) < 2:
            raise ValueError(f"{path} has only one class {class_names[0]!r}; a classifier needs at least two")
    index = {name: i for i, name in enumerate(class_names)}
    for label, where in zip(labels, places):
        if label not in index:
            raise ValueError(f"{path}: label {label!r} at {where} is not one of the classes "
                             f"{', '.join(map(repr, class_names))}")
    return LabelledTexts(path.stem, texts, [index[label] for label in labels], list(class_names))

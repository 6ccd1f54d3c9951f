"""Labelled CSV / JSON-lines files: the happy paths, and every bad file as one line naming the file and the
row, from ``read_labelled_file`` and through ``minitransformer finetune`` (exit status 2)."""

import json

import pytest

from minitransformer.cli import main
from minitransformer.data.labelled.files import read_labelled_file

BAD_FILES = {
    "not_found": ("absent.csv", None, r"file not found: .*absent\.csv$"),
    "not_utf8": ("latin1.csv", b"text,label\ncaf\xe9 noir,good\nthe end,bad\n",
                 r"latin1\.csv is not UTF-8 text: byte 0xe9 at byte offset 14"),
    "unknown_suffix": ("reviews.txt", b"text,label\n", r"reviews\.txt: unknown format '\.txt'; use one of \.csv"),
    "missing_column": ("columns.csv", b"review,label\ngreat,good\n",
                       r"columns\.csv has no column 'text' \(its columns: 'review', 'label'\)"),
    "missing_field": ("fields.jsonl", b'{"text": "great", "label": "good"}\n{"text": "dull"}\n',
                      r"fields\.jsonl: line 2 has no field 'label' \(its fields: 'text'\)"),
    "empty_text": ("texts.csv", b"text,label\ngreat,good\n  ,bad\n", r"texts\.csv: empty text at row 2 \(line 3\)"),
    "empty_label": ("labels.jsonl", b'{"text": "great", "label": "good"}\n\n{"text": "dull", "label": null}\n',
                    r"labels\.jsonl: empty label at line 3"),
    "invalid_json": ("broken.jsonl", b'{"text": "great", "label": "good"}\n{"text": "dull", "label": bad}\n',
                     r"broken\.jsonl: invalid JSON on line 2 \(Expecting value\)"),
    "not_an_object": ("list.jsonl", b'["great", "good"]\n', r"list\.jsonl: line 1 is not a JSON object"),
    "one_class": ("one.csv", b"text,label\ngreat,good\nfine,good\n",
                  r"one\.csv has only one class 'good'; a classifier needs at least two"),
    "empty_file": ("empty.jsonl", b"\n \n", r"empty\.jsonl is empty"),
    "header_only": ("header.csv", b"text,label\n", r"header\.csv has a header but no examples"),
}


def write(tmp_path, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_one_line_naming_it(case, tmp_path, capsys):
    name, content, message = BAD_FILES[case]
    path = write(tmp_path, name, content)
    with pytest.raises(ValueError, match=message) as error:
        read_labelled_file(path)
    assert "\n" not in str(error.value)
    assert main(["finetune", "--train-file", str(path), "--out", str(tmp_path / "out")]) == 2
    printed = capsys.readouterr().err
    assert printed.count("\n") == 1 and printed.startswith("minitransformer: error: ")
    assert str(path) in printed and not (tmp_path / "out").exists()


def test_csv_with_string_labels(tmp_path):
    path = write(tmp_path, "reviews.csv", 'id,text,label\n1,"A gorgeous, moving film.", positive\n'
                                          '2,Dull and far too long.,negative\n3,"Two\nlines",neutral\n'.encode())
    data = read_labelled_file(path)
    assert data.name == "reviews" and data.class_names == ["negative", "neutral", "positive"]
    assert data.texts == ["A gorgeous, moving film.", "Dull and far too long.", "Two\nlines"]
    assert data.labels == [2, 0, 1]


def test_jsonl_with_other_columns_and_number_labels(tmp_path):
    rows = [{"body": "great", "stars": 5}, {"body": "awful", "stars": 1}, {"body": "fine", "stars": 5}]
    path = write(tmp_path, "tickets.json-lines", "\n".join(map(json.dumps, rows)).encode("utf-8-sig"))
    data = read_labelled_file(path, text_column="body", label_column="stars")
    assert data.texts == ["great", "awful", "fine"] and data.class_names == ["1", "5"] and data.labels == [1, 0, 1]


def test_class_names_fix_the_classes(tmp_path):
    path = write(tmp_path, "test.jsonl", b'{"text": "great", "label": "good"}\n{"text": "meh", "label": "so-so"}\n')
    assert read_labelled_file(path, class_names=["bad", "good", "so-so"]).labels == [1, 2]
    assert read_labelled_file(path, class_names=["good", "so-so"]).labels == [0, 1]
    with pytest.raises(ValueError, match=r"test\.jsonl: label 'so-so' at line 2 is not one of the classes 'bad', "
                                         r"'good'$"):
        read_labelled_file(path, class_names=["bad", "good"])

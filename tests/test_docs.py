"""The documentation's Python examples run: every ```python block of README.md and docs/*.md.

The blocks of one Markdown file run in order in one namespace, as a reader pastes them into one session,
so a later block may use what an earlier one defined; each file starts from a fresh namespace, torch
seed 0 and an empty working directory. A block that must not run here (it needs a GPU, or minutes) has
``<!-- not run: <reason> -->`` on the line just before its fence, and the reason is required. A failing
block is reported with its file and line; its traceback shows the Markdown lines themselves.
"""

import pathlib
import re
import traceback
from dataclasses import dataclass

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)")
NOT_RUN = re.compile(r"<!--\s*not run\b:?(.*?)-->")


@dataclass
class Block:
    path: pathlib.Path
    line: int  # 1-based line of the block's first code line
    language: str
    code: str
    not_run: str | None  # the reason, or None when the block runs

    def where(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fenced_blocks(path):
    """The fenced code blocks of a Markdown file, each with the `not run` mark of the line before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next((j for j in range(index + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise ValueError(f"{path.relative_to(ROOT)}:{index + 1}: a code fence is never closed")
        mark = NOT_RUN.search(lines[index - 1]) if index else None
        blocks.append(Block(path, index + 2, opening.group(1), "\n".join(lines[index + 1:end]) + "\n",
                            None if mark is None else mark.group(1).strip()))
        index = end + 1
    return blocks


def python_blocks(path):
    return [block for block in fenced_blocks(path) if block.language == "python"]


DOCUMENTS_WITH_PYTHON = [path for path in DOCUMENTS if python_blocks(path)]


@pytest.mark.parametrize("path", DOCUMENTS_WITH_PYTHON, ids=lambda path: str(path.relative_to(ROOT)))
def test_python_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    namespace = {"__name__": "__docs__"}
    for block in python_blocks(path):
        if block.not_run is not None:
            continue
        # Padded with blank lines, the code keeps its Markdown line numbers: tracebacks show the doc's lines.
        code = compile("\n" * (block.line - 1) + block.code, str(block.path), "exec")
        try:
            exec(code, namespace)
        except Exception as error:
            line = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
                    if frame.filename == str(block.path)][-1]
            raise AssertionError(f"{block.path.relative_to(ROOT)}:{line} (the Python block from line {block.line}) "
                                 f"fails: {type(error).__name__}: {error}") from error


def test_every_not_run_mark_has_a_reason_and_belongs_to_a_python_block():
    marked = {(block.path, block.line - 1) for path in DOCUMENTS for block in python_blocks(path)
              if block.not_run is not None}
    for path in DOCUMENTS:
        for block in python_blocks(path):
            assert block.not_run != "", f"{block.where()}: `<!-- not run: ... -->` needs a reason"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if NOT_RUN.search(line):
                assert (path, number + 1) in marked, \
                    f"{path.relative_to(ROOT)}:{number}: a `not run` mark must be the line before a ```python fence"


def test_the_docs_have_python_blocks_to_run():
    """Guards the parser: README's Ops block alone must be found, and run."""
    runnable = [block for path in DOCUMENTS for block in python_blocks(path) if block.not_run is None]
    assert any(block.path.name == "README.md" for block in runnable)

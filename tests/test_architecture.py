"""docs/architecture.md holds: the import arrows between the parts of minitransformer, and the walk of one
tensor from `minitransformer pretrain` to the attention kernel and back.

Imports are read with ``ast`` from every module under minitransformer/, the ones inside functions too; a
string constant that is a module name (``importlib.import_module("minitransformer._C")``, the command list
of cli.py) counts as an import of that module.
"""

import ast
import contextlib
import io
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "minitransformer"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# A module may import from its own part or from a part of lower rank (docs/architecture.md, "The import
# arrows"). The leaves (rank 0) import nothing from minitransformer.
RANK = {"cli": 7, "commands": 6, "recipes": 5, "train": 4, "models": 3, "nn": 2, "optim": 2, "ops": 1,
        "_C": 0, "_C_cuda": 0, "data": 0, "metrics": 0, "eval": 0, "reference": 0, "__init__": 0}
EXTENSION = {"_C", "_C_cuda"}
# Inside data, what each subpackage may import besides itself (docs/architecture.md, "The import arrows").
DATA_BASES = {"text": set(), "pretraining": {"text"}, "labelled": {"text"}, "word2vec": set(), "images": set()}
MODULE_NAME = re.compile(r"minitransformer(\.[A-Za-z_]\w*)+")


def part_of(module):
    """``minitransformer.nn.attention`` -> ``nn``; the package itself -> ``__init__``."""
    names = module.split(".")
    return names[1] if len(names) > 1 else "__init__"


def module_name(path):
    names = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(names[:-1] if names[-1] == "__init__" else names)


def imports(source, package):
    """(line, imported module) for every import of ``source``, a module of ``package`` (for relative ones)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # `from minitransformer import ops` imports the module minitransformer.ops
            found += [(node.lineno, f"{base}.{alias.name}" if base == "minitransformer" else base)
                      for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_NAME.fullmatch(node.value):
            found.append((node.lineno, node.value))
    return found


def module_imports(path):
    name = module_name(path)
    return imports(path.read_text(encoding="utf-8"), name if path.name == "__init__.py" else name.rpartition(".")[0])


def upward_imports(part, found):
    """The imports among ``found``, made by a module of ``part``, that break the arrows: (line, why)."""
    broken = []
    for line, module in found:
        if module.split(".")[0] != "minitransformer":
            continue
        target = part_of(module)
        if target != part and RANK[target] >= RANK[part]:
            broken.append((line, f"{part} may not import {module}"))
        elif target in EXTENSION and part != "ops":
            broken.append((line, f"only ops loads the compiled extension, not {part} ({module})"))
    return broken


def foreign_imports(found):
    """The imports among ``found`` of anything but NumPy, the standard library and the reference itself."""
    return [(line, module) for line, module in found
            if module.split(".")[0] not in (*sys.stdlib_module_names, "numpy")
            and not module.startswith("minitransformer.reference")]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_has_a_rank():
    parts = {part_of(module_name(path)) for path in MODULES}
    assert parts <= RANK.keys(), f"parts without a place in the arrows: {sorted(parts - RANK.keys())}"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_point_down(path):
    broken = upward_imports(part_of(module_name(path)), module_imports(path))
    assert not broken, "\n".join(f"{path.relative_to(ROOT)}:{line}: {why}" for line, why in broken)


def test_data_subpackages_import_only_what_they_build_on():
    subpackages = {path.name for path in (PACKAGE / "data").iterdir() if (path / "__init__.py").is_file()}
    assert subpackages == DATA_BASES.keys()
    assert not [path for path in (PACKAGE / "data").glob("*.py") if path.name != "__init__.py"], \
        "every data module belongs to a subpackage"
    for sub, bases in DATA_BASES.items():
        for path in sorted((PACKAGE / "data" / sub).rglob("*.py")):
            for line, module in module_imports(path):
                names = module.split(".")
                if names[:2] == ["minitransformer", "data"] and names[2:3] != [sub]:
                    assert names[2:3] and names[2] in bases, f"{path.relative_to(ROOT)}:{line} imports {module}"


def test_reference_imports_numpy_and_the_standard_library_only():
    for path in sorted((PACKAGE / "reference").rglob("*.py")):
        foreign = foreign_imports(module_imports(path))
        assert not foreign, "\n".join(f"{path.relative_to(ROOT)}:{line} imports {module}" for line, module in foreign)


def test_the_checks_catch_what_they_forbid():
    source = """import math
from minitransformer.nn.softmax import softmax
from ..ops import _extension
import torch


def late():
    from minitransformer.models import bert
    return importlib.import_module("minitransformer._C")
"""
    assert [line for line, _ in upward_imports("nn", imports(source, "minitransformer.nn"))] == [8, 9]
    assert [line for line, _ in upward_imports("ops", imports(source, "minitransformer.ops"))] == [2, 8]
    assert [line for line, _ in foreign_imports(imports(source, "minitransformer.reference"))] == [2, 3, 4, 8, 9]


# --- the walk ------------------------------------------------------------------------------------------

def walk_tables():
    """{"Forward": (count, [(file, [functions])]), "Backward": …}: the two walk tables, each with the count
    of files its heading states ("### Forward: 10 files, …")."""
    tables, heading = {}, None
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            heading, _, rest = line[4:].partition(": ")
            tables[heading] = (int(rest.split()[0]), [])
        elif heading and re.match(r"\| \d+ \|", line):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            tables[heading][1].append((cells[1].strip("`"), re.findall(r"`([^`]+)`", cells[2])))
    return tables


class RecordingOps:
    """Stands in for ``torch.ops.minitransformer`` in ops/attention.py: records the Python call stack, as
    (file, [qualified function names]) outermost first, at the first call of each attention op."""

    def __init__(self, ops):
        self.ops, self.stacks = ops, {}

    def __getattr__(self, name):
        op = getattr(self.ops, name)
        if name not in ("attention_forward", "attention_backward"):
            return op

        def record(*args):
            if name not in self.stacks:
                self.stacks[name] = self.stack(sys._getframe(1))
            return op(*args)
        return record

    @staticmethod
    def stack(frame):
        rows = []
        while frame is not None:
            path = pathlib.Path(frame.f_code.co_filename)
            if path.is_relative_to(PACKAGE):
                file = str(path.relative_to(ROOT))
                if rows and rows[-1][0] == file:
                    rows[-1][1].insert(0, frame.f_code.co_qualname)
                else:
                    rows.append((file, [frame.f_code.co_qualname]))
            frame = frame.f_back
        return rows[::-1]


def test_the_walk_in_the_docs_is_the_call_stack(tmp_path, monkeypatch):
    ops_attention = pytest.importorskip("minitransformer.ops.attention")
    from minitransformer.cli import main

    recording = RecordingOps(ops_attention._ops)
    monkeypatch.setattr(ops_attention, "_ops", recording)
    text = tmp_path / "reviews.txt"
    words = ["good", "bad", "dull"] * 60
    text.write_text(" ".join(f"The film was {word}. I thought the plot was {word}." for word in words))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["pretrain", "--out", str(tmp_path / "run"), "--files", str(text), "--backend", "fused",
                     "--d-model", "16", "--layers", "1", "--heads", "2", "--d-ff", "32", "--max-len", "24",
                     "--vocab-size", "80", "--steps", "1", "--batch-size", "2", "--eval-every", "0",
                     "--checkpoint-every", "0", "--keep-steps"]) == 0
    tables = walk_tables()
    for heading, op in (("Forward", "attention_forward"), ("Backward", "attention_backward")):
        count, rows = tables[heading]
        assert count == len(rows), f"docs/architecture.md, {heading}: the heading says {count} files"
        documented = [(file, functions) for file, functions in rows if file.endswith(".py")]
        assert recording.stacks[op] == documented, f"docs/architecture.md, {heading}"
        kernel = rows[-1][0]
        assert kernel == f"csrc/cpu/{op}.cpp" and (ROOT / kernel).is_file()
        assert f'm.impl("{op}"' in (ROOT / kernel).read_text(encoding="utf-8")

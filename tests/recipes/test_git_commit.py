"""git_commit: the commit of the code, "+modified" only when code differs (not the results a run writes)."""

import subprocess

from minitransformer.recipes.pretraining import RESULTS_DIR, git_commit


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / RESULTS_DIR).mkdir(parents=True)
    (tmp_path / RESULTS_DIR / "run.json").write_text("{}\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    return git(tmp_path, "rev-parse", "HEAD")


def test_a_clean_checkout_is_its_commit(tmp_path):
    head = make_repo(tmp_path)
    assert git_commit(tmp_path) == head


def test_changed_results_do_not_mark_the_code_modified(tmp_path):
    head = make_repo(tmp_path)
    (tmp_path / RESULTS_DIR / "run.json").write_text('{"new": 1}\n')
    assert git_commit(tmp_path / RESULTS_DIR) == head  # from any directory of the checkout


def test_changed_code_is_marked_modified(tmp_path):
    head = make_repo(tmp_path)
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path) == head + "+modified"


def test_outside_a_checkout_is_unknown(tmp_path):
    assert git_commit(tmp_path) == "unknown"

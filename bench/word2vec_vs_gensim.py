"""Our word2vec vs gensim's Word2Vec on the Shakespeare corpus: quality and training speed, 3 seeds.

Both train on the same token lists (minitransformer.data.text.words) with the same hyper-parameters (dim,
window, negative, epochs, min_count, sample, alpha, min_alpha) and the same number of worker threads,
and both are scored by the same code (minitransformer.eval): analogy accuracy on gensim's
questions-words.txt (in-vocabulary questions; coverage reported) and Spearman's rho on WordSim-353.

Timing: training only (vocabulary building is reported apart), wall clock, and CPU seconds (this
process and its worker processes: on a shared machine wall time measures the scheduler as much as the
code). words/s = epochs x corpus words / training wall seconds for both. The two run alternately
(gensim first for odd seeds, ours first for even ones) and the 1-minute load average is recorded.

    .venv/bin/python bench/word2vec_vs_gensim.py                  # both models, seeds 1 2 3
    .venv/bin/python bench/word2vec_vs_gensim.py --models cbow --seeds 1

Writes bench/results/word2vec_vs_gensim.{json,md,png}.
"""

import argparse
import json
import os
import platform
import statistics
import time
from dataclasses import asdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from gensim.models import Word2Vec  # noqa: E402

from minitransformer.data.text.corpus import shakespeare_texts  # noqa: E402
from minitransformer.data.text.words import corpus_sentences  # noqa: E402
from minitransformer.data.word2vec.vectors import WordVectors  # noqa: E402
from minitransformer.eval.analogy import analogy_accuracy  # noqa: E402
from minitransformer.eval.datasets import load_analogies, load_word_pairs  # noqa: E402
from minitransformer.eval.wordsim import wordsim_spearman  # noqa: E402
from minitransformer.train.word2vec import Word2VecConfig, train_word2vec  # noqa: E402

METRICS = ("analogy_accuracy", "analogy_coverage", "wordsim_spearman", "wordsim_coverage", "train_seconds",
           "train_cpu_seconds", "words_per_second")


def cpu_seconds():
    """CPU time of this process and of its finished child processes (the worker processes)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def evaluate(vectors, questions, pairs):
    analogy, wordsim = analogy_accuracy(vectors, questions), wordsim_spearman(vectors, pairs)
    return {"analogy_accuracy": analogy["accuracy"], "analogy_coverage": analogy["coverage"],
            "analogy_asked": analogy["asked"], "semantic_accuracy": analogy["semantic_accuracy"],
            "syntactic_accuracy": analogy["syntactic_accuracy"], "wordsim_spearman": wordsim["spearman"],
            "wordsim_coverage": wordsim["coverage"], "wordsim_pairs": wordsim["pairs"],
            "vocab_size": len(vectors)}


def run_gensim(sentences, config, seed, corpus_words):
    start = time.perf_counter()
    model = Word2Vec(vector_size=config.dim, window=config.window, negative=config.negative,
                     epochs=config.epochs, min_count=config.min_count, sample=config.sample,
                     alpha=config.alpha, min_alpha=config.min_alpha, sg=int(config.model == "skipgram"),
                     workers=config.threads, seed=seed)
    model.build_vocab(sentences)
    vocab_seconds = time.perf_counter() - start
    start, cpu_start = time.perf_counter(), cpu_seconds()
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    vectors = WordVectors(list(model.wv.index_to_key), model.wv.vectors)
    return vectors, {"train_seconds": seconds, "train_cpu_seconds": cpu, "vocab_seconds": vocab_seconds,
                     "words_per_second": config.epochs * corpus_words / seconds}


def run_ours(sentences, config, seed, corpus_words):
    cpu_start = cpu_seconds()
    result = train_word2vec(sentences, config, seed=seed, progress=False)
    cpu = cpu_seconds() - cpu_start  # includes our vocabulary building (~0.5 s): against us, not for us
    return result.vectors, {"train_seconds": result.seconds, "train_cpu_seconds": cpu,
                            "vocab_seconds": result.vocab_seconds,
                            "words_per_second": config.epochs * corpus_words / result.seconds,
                            "epoch_losses": result.epoch_losses}


def summarise(runs):
    summary = {}
    for model in sorted({r["model"] for r in runs}):
        for system in ("gensim", "ours"):
            chosen = [r for r in runs if r["model"] == model and r["system"] == system]
            summary[f"{model}/{system}"] = {
                metric: {"mean": statistics.fmean(r[metric] for r in chosen),
                         "std": statistics.stdev(r[metric] for r in chosen) if len(chosen) > 1 else 0.0}
                for metric in METRICS}
    return summary


def markdown(summary, args, corpus_words):
    lines = [f"# word2vec vs gensim {__import__('gensim').__version__} on Shakespeare "
             f"({corpus_words:,} words, 42 works), mean ± std over seeds {args.seeds}", "",
             f"dim {args.dim}, window {args.window}, negative {args.negative}, epochs {args.epochs}, "
             f"min_count {args.min_count}, sample {args.sample}, {args.threads} workers each (gensim: threads, "
             "ours: processes); "
             f"ours: batch {args.batch_size} windows, shared_negatives {args.shared_negatives}, "
             f"SGD step {args.step} (auto: the fused C++ op when built). "
             "Shared 2-core machine (load averages in the JSON).", "",
             "| model | system | analogy acc | analogy coverage | WordSim ρ | WordSim coverage | train s (wall) "
             "| train s (CPU) | words/s |", "|---|---|---|---|---|---|---|---|---|"]
    for key, metrics in summary.items():
        model, system = key.split("/")

        def cell(metric, scale=1.0, digits=1):
            m = metrics[metric]
            return f"{m['mean'] * scale:.{digits}f} ± {m['std'] * scale:.{digits}f}"
        lines.append(f"| {model} | {system} | {cell('analogy_accuracy', 100)} % | "
                     f"{cell('analogy_coverage', 100)} % | {cell('wordsim_spearman', 1, 3)} | "
                     f"{cell('wordsim_coverage', 100)} % | {cell('train_seconds')} | {cell('train_cpu_seconds')} | "
                     f"{metrics['words_per_second']['mean']:,.0f} |")
    lines.append("")
    for model in sorted({k.split("/")[0] for k in summary}):
        ours, theirs = summary[f"{model}/ours"], summary[f"{model}/gensim"]

        def difference(metric):
            return 100 * (ours[metric]["mean"] - theirs[metric]["mean"])

        def ratio(metric):
            return ours[metric]["mean"] / theirs[metric]["mean"]
        lines.append(f"- {model}: analogy {difference('analogy_accuracy'):+.2f} points, Spearman "
                     f"{difference('wordsim_spearman'):+.2f} points, wall time x{ratio('train_seconds'):.2f} and "
                     f"CPU time x{ratio('train_cpu_seconds'):.2f} of gensim's")
    return "\n".join(lines) + "\n"


def plot(runs, path):
    models = sorted({r["model"] for r in runs})
    panels = [("analogy_accuracy", "analogy accuracy"), ("wordsim_spearman", "WordSim-353 Spearman"),
              ("train_seconds", "training seconds")]
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for axis, (metric, title) in zip(axes, panels):
        for offset, system in ((-0.18, "gensim"), (0.18, "ours")):
            values = [[r[metric] for r in runs if r["model"] == m and r["system"] == system] for m in models]
            axis.bar([i + offset for i in range(len(models))], [statistics.fmean(v) for v in values], 0.36,
                     label=system, yerr=[statistics.stdev(v) if len(v) > 1 else 0 for v in values], capsize=4)
            for i, v in enumerate(values):
                axis.scatter([i + offset] * len(v), v, color="black", s=8, zorder=3)
        axis.set_xticks(range(len(models)), models)
        axis.set_title(title)
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main():
    defaults = Word2VecConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["skipgram", "cbow"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    for name in ("dim", "window", "negative", "epochs", "min_count", "sample", "alpha", "min_alpha",
                 "batch_size", "shared_negatives", "threads", "step"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(getattr(defaults, name)),
                            default=getattr(defaults, name))
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args()

    sentences = corpus_sentences(shakespeare_texts())
    corpus_words = sum(map(len, sentences))
    questions, pairs = load_analogies(), load_word_pairs()
    runs = []
    for model in args.models:
        config = Word2VecConfig(model=model, **{k: getattr(args, k) for k in asdict(defaults) if k != "model"})
        for seed in args.seeds:
            order = (("gensim", run_gensim), ("ours", run_ours))
            for system, run in (order if seed % 2 else order[::-1]):
                load_before = os.getloadavg()[0]
                vectors, timing = run(sentences, config, seed, corpus_words)
                record = {"model": model, "system": system, "seed": seed, **timing,
                          **evaluate(vectors, questions, pairs), "load_before": load_before,
                          "load_after": os.getloadavg()[0]}
                runs.append(record)
                print(f"{model:8s} {system:6s} seed {seed}: analogy {record['analogy_accuracy']:.2%} "
                      f"({record['analogy_asked']} asked), rho {record['wordsim_spearman']:.3f}, "
                      f"{record['train_seconds']:.1f} s ({record['train_cpu_seconds']:.1f} s CPU), "
                      f"load {load_before:.1f}", flush=True)

    summary = summarise(runs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "gensim": __import__("gensim").__version__,
                   "cpus": os.cpu_count(), "python": platform.python_version(), "corpus_words": corpus_words}
    (out / "word2vec_vs_gensim.json").write_text(json.dumps(
        {"args": vars(args), "environment": environment, "summary": summary, "runs": runs}, indent=2))
    (out / "word2vec_vs_gensim.md").write_text(markdown(summary, args, corpus_words))
    plot(runs, out / "word2vec_vs_gensim.png")
    print(markdown(summary, args, corpus_words))


if __name__ == "__main__":
    main()

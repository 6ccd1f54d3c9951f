"""Analogy accuracy by vector offset, "3CosAdd" (Mikolov, Yih & Zweig 2013, "Linguistic Regularities in
Continuous Space Word Representations").

For a question "a is to b as c is to d" the answer is the word, other than a, b and c, whose unit vector
is most cosine-similar to b̂ - â + ĉ (hats: unit length). Only questions whose four words are all in
the vocabulary are asked; ``coverage`` says what fraction that is, and ``accuracy`` is correct / asked,
as in gensim's ``evaluate_word_analogies``.
"""

from collections import defaultdict

import numpy as np

SEMANTIC_SECTIONS = ("capital-common-countries", "capital-world", "currency", "city-in-state", "family")


def answer_analogies(vectors, questions):
    """Predicted d for each (a, b, c) triple of words that are all in ``vectors``: a list of words."""
    unit = vectors.unit_vectors  # (V, D)
    rows = np.asarray([[vectors.lookup(w) for w in question] for question in questions], dtype=np.int64)
    predictions = []
    for start in range(0, len(rows), 512):
        a, b, c = rows[start:start + 512].T  # (Q,) each
        targets = unit[b] - unit[a] + unit[c]  # (Q, D)
        scores = targets @ unit.T  # (Q, V)
        for column in (a, b, c):
            scores[np.arange(len(column)), column] = -np.inf  # the question words cannot be the answer
        predictions.extend(vectors.words[i] for i in scores.argmax(axis=1))
    return predictions


def analogy_accuracy(vectors, questions):
    """Accuracy on the in-vocabulary questions, their coverage, and per-section results.

    questions: (section, a, b, c, d) tuples as ``eval.datasets.load_analogies`` returns them.
    """
    if not questions:
        raise ValueError("questions is empty")
    asked = [q for q in questions if all(word in vectors for word in q[1:])]
    predictions = answer_analogies(vectors, [q[1:4] for q in asked]) if asked else []
    per_section = defaultdict(lambda: [0, 0])  # section -> [correct, asked]
    for question, predicted in zip(asked, predictions):
        per_section[question[0]][0] += predicted == question[4]
        per_section[question[0]][1] += 1
    correct = sum(c for c, _ in per_section.values())

    def accuracy(sections):
        counts = [per_section[s] for s in sections if s in per_section]
        total = sum(n for _, n in counts)
        return sum(c for c, _ in counts) / total if total else float("nan")

    semantic = [s for s in per_section if s in SEMANTIC_SECTIONS]
    syntactic = [s for s in per_section if s not in SEMANTIC_SECTIONS]
    return {"accuracy": correct / len(asked) if asked else float("nan"),
            "coverage": len(asked) / len(questions), "correct": correct, "asked": len(asked),
            "total": len(questions), "semantic_accuracy": accuracy(semantic),
            "syntactic_accuracy": accuracy(syntactic),
            "sections": {s: {"correct": c, "asked": n} for s, (c, n) in per_section.items()}}

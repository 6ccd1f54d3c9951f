"""The baseline a practitioner tries first: TF-IDF features and logistic regression (scikit-learn),

    x = l2-normalised (1 + log tf) · idf  over word uni- and bigrams seen in at least 2 training texts,
    p(y | x) = softmax(W x + b),  W fitted with an L2 penalty 1 / (2C) ||W||²,

with C chosen on the validation split from ``C_GRID`` for every (budget, seed), as fairly as the networks'
early stopping. It sees the same labelled examples as the networks and nothing else.
"""

import time

import numpy as np

from minitransformer.data.labelled.budget import label_budget
from minitransformer.metrics import classification_report

C_GRID = (0.1, 1.0, 10.0, 100.0)


def run_tfidf(texts, num_classes, budget, seed, return_predictions=False):
    """``texts``: {"train" | "validation" | "test": (list of str, list of labels)}; returns a record like
    ``recipes.finetuning.run_finetuning``'s (and the test predictions, with ``return_predictions``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    train_texts, train_labels = texts["train"]
    chosen = label_budget(train_labels, budget, seed=seed)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2 if len(chosen) >= 50 else 1, sublinear_tf=True)
    features = vectorizer.fit_transform([train_texts[i] for i in chosen])
    labels = [train_labels[i] for i in chosen]
    validation = vectorizer.transform(texts["validation"][0])
    best = None
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=2000).fit(features, labels)
        accuracy = float((model.predict(validation) == np.asarray(texts["validation"][1])).mean())
        if best is None or accuracy > best[0]:
            best = (accuracy, c, model)
    accuracy, c, model = best
    predictions = model.predict(vectorizer.transform(texts["test"][0]))
    test = classification_report(texts["test"][1], predictions, num_classes)
    record = {"n_labels": len(chosen), "C": c, "validation_accuracy": accuracy, "accuracy": test["accuracy"],
              "macro_f1": test["macro_f1"], "confusion_matrix": test["confusion_matrix"],
              "seconds": time.perf_counter() - start}
    return (record, predictions) if return_predictions else record

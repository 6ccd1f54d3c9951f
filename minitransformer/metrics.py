"""Classification metrics from the confusion matrix C (C[i, j] = number of examples of true class i
predicted as class j), written out by hand (checked against scikit-learn in tests/train/test_metrics.py):

    accuracy     = Σ_i C[i, i] / Σ C
    precision_k  = C[k, k] / Σ_i C[i, k]      (0 when class k is never predicted)
    recall_k     = C[k, k] / Σ_j C[k, j]      (0 when class k never occurs)
    F1_k         = 2 precision_k recall_k / (precision_k + recall_k)   (0 when both are 0)
    macro-F1     = mean_k F1_k                (every class counts equally: honest on imbalanced sets)
"""

import numpy as np


def _as_labels(name, values):
    values = np.asarray(values)
    if values.size == 0:
        values = values.astype(np.int64)
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D sequence of integer class ids, got dtype {values.dtype}, "
                         f"shape {values.shape}")
    if values.size and values.min() < 0:
        raise ValueError(f"{name} has a negative class id {values.min()}")
    return values


def confusion_matrix(y_true, y_pred, num_classes=None):
    """(K, K) integer matrix; K = ``num_classes`` or 1 + the largest id seen."""
    y_true, y_pred = _as_labels("y_true", y_true), _as_labels("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}")
    if y_true.size == 0:
        raise ValueError("y_true is empty")
    seen = int(max(y_true.max(), y_pred.max())) + 1
    num_classes = seen if num_classes is None else num_classes
    if seen > num_classes:
        raise ValueError(f"a class id {seen - 1} is >= num_classes={num_classes}")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def _safe_divide(numerator, denominator):
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=np.float64),
                     where=denominator > 0)


def classification_report(y_true, y_pred, num_classes=None):
    """A dict: accuracy, per-class precision/recall/F1 (lists), macro precision/recall/F1, confusion matrix."""
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    true_positive = np.diag(matrix).astype(np.float64)
    precision = _safe_divide(true_positive, matrix.sum(axis=0).astype(np.float64))
    recall = _safe_divide(true_positive, matrix.sum(axis=1).astype(np.float64))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return {"accuracy": float(true_positive.sum() / matrix.sum()),
            "precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist(),
            "macro_precision": float(precision.mean()), "macro_recall": float(recall.mean()),
            "macro_f1": float(f1.mean()), "confusion_matrix": matrix.tolist()}

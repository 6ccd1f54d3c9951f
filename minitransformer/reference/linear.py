"""Linear layer and embedding lookup, forward and backward, in NumPy float64.

Linear  y = x W^T + b:   dx = dy W,   dW = sum over leading axes of dy^T x,   db = sum dy
Embedding  y = E[ids]:   dE[i] = sum of dy at the positions where ids == i   (one_hot(ids)^T dy)
"""

import numpy as np


def linear_forward(x, weight, bias=None):
    y = np.asarray(x, dtype=np.float64) @ np.asarray(weight, dtype=np.float64).T
    return y + bias if bias is not None else y


def linear_backward(x, weight, grad_y):
    """Return ``(dx, dweight, dbias)``."""
    x2 = np.asarray(x, dtype=np.float64).reshape(-1, x.shape[-1])
    grad2 = np.asarray(grad_y, dtype=np.float64).reshape(-1, grad_y.shape[-1])
    return grad_y @ weight, grad2.T @ x2, grad2.sum(axis=0)


def embedding_forward(ids, table):
    return np.asarray(table, dtype=np.float64)[ids]


def embedding_backward(ids, grad_y, num_embeddings):
    grad_table = np.zeros((num_embeddings, grad_y.shape[-1]))
    np.add.at(grad_table, np.asarray(ids).reshape(-1), grad_y.reshape(-1, grad_y.shape[-1]))
    return grad_table

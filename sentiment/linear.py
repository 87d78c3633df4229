"""Multinomial logistic regression on sparse rows, in numpy only (no scipy/scikit-learn at run time).

Rows are kept as COO triplets (row, col, value). Training is full-batch Adam from zero weights, so the same
data gives bit-identical weights on the same platform; `train` relies on that to reproduce the shipped file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Sparse:
    rows: np.ndarray  # int64, row of each non-zero
    cols: np.ndarray  # int64, column of each non-zero
    vals: np.ndarray  # float64
    n_rows: int
    n_cols: int

    @classmethod
    def build(cls, feature_dicts: list[dict[str, float]], index: dict[str, int]) -> "Sparse":
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for r, feats in enumerate(feature_dicts):
            for name, v in feats.items():
                j = index.get(name)
                if j is not None:
                    rows.append(r)
                    cols.append(j)
                    vals.append(v)
        return cls(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
                   np.asarray(vals, dtype=np.float64), len(feature_dicts), len(index))

    def dot(self, w: np.ndarray) -> np.ndarray:
        """X @ w for w of shape (n_cols, k)."""
        out = np.empty((self.n_rows, w.shape[1]))
        for k in range(w.shape[1]):
            out[:, k] = np.bincount(self.rows, weights=self.vals * w[self.cols, k], minlength=self.n_rows)
        return out

    def tdot(self, g: np.ndarray) -> np.ndarray:
        """X.T @ g for g of shape (n_rows, k)."""
        out = np.empty((self.n_cols, g.shape[1]))
        for k in range(g.shape[1]):
            out[:, k] = np.bincount(self.cols, weights=self.vals * g[self.rows, k], minlength=self.n_cols)
        return out


def _products(x: Sparse):
    """X @ w and X.T @ g for training: scipy's CSR products when scipy is installed (training only; about
    twice as fast as numpy's bincount on 40,000 rows), else the numpy ones. Both sum each output in a
    fixed order, so a given set-up gives the same weights run after run."""
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a declared dependency
        return x.dot, x.tdot
    m = sp.csr_matrix((x.vals, (x.rows, x.cols)), shape=(x.n_rows, x.n_cols))
    mt = m.T.tocsr()
    return m.__matmul__, mt.__matmul__


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_softmax(x: Sparse, y: np.ndarray, n_classes: int, sample_weight: np.ndarray | None = None,
                l2: float = 1e-4, epochs: int = 300, lr: float = 0.05,
                allowed: np.ndarray | None = None, offset: np.ndarray | None = None,
                basis: np.ndarray | None = None, basis_l2: list[float] | None = None) -> np.ndarray:
    """Weights (n_cols, n_classes) minimising weighted cross-entropy + l2/2 * |w|^2 (mean over weight).

    `allowed` (n_rows, n_classes) bool restricts a row's softmax to some classes: a 2-way row (positive vs
    negative) then says nothing about the neutral class instead of teaching "never neutral".
    `offset` (n_rows, n_classes) is added to every row's logits as it is (another model's logits to fit on top of).
    `basis` (k, n_classes) restricts the weights to w = v @ basis, with v (n_cols, k) penalised l2 * basis_l2[j]
    in column j: e.g. rows [0, 1, 0] and [-1, 0, 1] learn a neutral direction freely and a positive-vs-negative
    one only as far as a stronger penalty allows."""
    if allowed is not None:
        offset = np.where(allowed, 0.0, -1e9) if offset is None else offset + np.where(allowed, 0.0, -1e9)
    dot, tdot = _products(x)
    n = x.n_rows
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    sw = sw / sw.sum()
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), y] = 1.0
    if basis is None:
        basis = np.eye(n_classes)
    basis = np.asarray(basis, dtype=np.float64)
    pen = l2 * (np.ones(len(basis)) if basis_l2 is None else np.asarray(basis_l2, dtype=np.float64))
    w = np.zeros((x.n_cols, len(basis)))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, epochs + 1):
        z = dot(w @ basis)
        p = softmax(z if offset is None else z + offset)
        grad = tdot((p - onehot) * sw[:, None]) @ basis.T + pen * w
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        w -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return w @ basis

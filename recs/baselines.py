"""Non-neural baselines, scored with the same protocol as the model.

- `Popularity`: how often each item occurs in the training sequences.
- `CoOccurrence`: item-to-item; an item scores by how often it followed (and, with a
  smaller weight, preceded) the shopper's last few items within a short window of the
  training sequences, nearer steps and more recent history items counting more. Ties
  (items that never co-occurred) are broken by popularity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse


def _counts(train: Sequence[Sequence[int]], n_items: int) -> np.ndarray:
    flat = np.fromiter((i for seq in train for i in seq), dtype=np.int64)
    return np.bincount(flat, minlength=n_items + 1).astype(np.float64)


@dataclass(frozen=True)
class Popularity:
    """Scores every item by its training count; the same list for every shopper."""

    counts: np.ndarray

    @classmethod
    def fit(cls, train: Sequence[Sequence[int]], n_items: int) -> Popularity:
        """Count the items of the training sequences."""
        return cls(_counts(train, n_items))

    def __call__(self, histories: list[list[int]]) -> torch.Tensor:
        return torch.from_numpy(self.counts).repeat(len(histories), 1)


@dataclass(frozen=True)
class CoOccurrence:
    """Item-to-item co-occurrence within a window of the training sequences.

    Attributes:
        matrix: `[n_items + 1, n_items + 1]` CSR, row i = weight of each item after i.
        popularity: training counts, for tie-breaking.
        recent: how many of the shopper's last items are summed (weight 1/position).
    """

    matrix: sparse.csr_matrix
    popularity: np.ndarray
    recent: int = 3

    @classmethod
    def fit(
        cls,
        train: Sequence[Sequence[int]],
        n_items: int,
        window: int = 3,
        backward: float = 0.5,
        recent: int = 3,
    ) -> CoOccurrence:
        """Count, for every pair within `window` steps, `1/gap` for the later item
        after the earlier one and `backward/gap` the other way round."""
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for seq in train:
            arr = np.asarray(seq, dtype=np.int64)
            for gap in range(1, window + 1):
                if len(arr) <= gap:
                    break
                a, b = arr[:-gap], arr[gap:]
                w = np.full(len(a), 1.0 / gap)
                rows += [a, b]
                cols += [b, a]
                vals += [w, w * backward]
        size = n_items + 1
        if rows:
            matrix = sparse.coo_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(size, size),
            ).tocsr()
        else:
            matrix = sparse.csr_matrix((size, size))
        matrix.setdiag(0)
        matrix.eliminate_zeros()
        return cls(matrix=matrix, popularity=_counts(train, n_items), recent=recent)

    def __call__(self, histories: list[list[int]]) -> torch.Tensor:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for r, history in enumerate(histories):
            for back, item in enumerate(reversed(history[-self.recent :])):
                rows.append(r)
                cols.append(item)
                vals.append(1.0 / (back + 1))
        size = self.matrix.shape[0]
        weights = sparse.csr_matrix((vals, (rows, cols)), shape=(len(histories), size))
        scores = np.asarray((weights @ self.matrix).todense(), dtype=np.float64)
        # Popularity only orders items with equal co-occurrence (far below any real weight).
        scores += 1e-6 * self.popularity / (self.popularity.max() + 1.0)
        return torch.from_numpy(scores)

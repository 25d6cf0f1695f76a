"""Serving: load a trained artifact and rank items for one shopper's history (CPU).

>>> from recs import Recommender  # doctest: +SKIP
>>> rec = Recommender.load("models/recs")  # doctest: +SKIP
>>> rec.recommend(["1021", "88", "4410"], k=5, allowed=in_stock)  # doctest: +SKIP
[('311', 0.083), ('95', 0.041), ...]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from recs.artifact import WEIGHTS_FILE, RecsMeta
from recs.config import RecsConfig
from recs.data import ItemIndex, collapse_repeats
from recs.errors import ArtifactError
from recs.evaluation import Scorer
from recs.model import SASRec


def build_model(config: RecsConfig, n_items: int) -> SASRec:
    """The network for `config` over `n_items` items (untrained)."""
    return SASRec(
        n_items=n_items,
        hidden=config.hidden,
        blocks=config.blocks,
        heads=config.heads,
        dropout=config.dropout,
        max_len=config.max_len,
    )


def pad_left(histories: Sequence[Sequence[int]], max_len: int) -> torch.Tensor:
    """The last `max_len` items of each history, left-padded with 0 to a common length."""
    length = max(1, min(max_len, max((len(h) for h in histories), default=1)))
    out = torch.zeros(len(histories), length, dtype=torch.long)
    for row, history in enumerate(histories):
        tail = list(history[-length:])
        if tail:
            out[row, length - len(tail) :] = torch.tensor(tail, dtype=torch.long)
    return out


def model_scorer(model: SASRec) -> Scorer:
    """A `Scorer` over the model's own item indices (eval mode, no gradients)."""

    def score(histories: list[list[int]]) -> torch.Tensor:
        model.eval()
        with torch.inference_mode():
            states = model.last_state(pad_left(histories, model.max_len))
            scores = states @ model.item_emb.weight.T
            scores[:, 0] = -torch.inf
        return scores

    return score


class Recommender:
    """A trained SASRec with its item index: next-item recommendations for a shopper.

    Load once per process with `Recommender.load(dir)`; `recommend` is thread-safe
    and takes a few milliseconds for one shopper on one CPU core.
    """

    def __init__(self, model: SASRec, items: ItemIndex, meta: RecsMeta) -> None:
        self.model = model.eval()
        self.items = items
        self.meta = meta

    @classmethod
    def load(cls, directory: str | Path, *, num_threads: int | None = 1) -> Recommender:
        """Load an artifact written by `shopintent recs train` (CPU).

        Args:
            directory: the artifact folder.
            num_threads: torch CPU threads to set for this process (one shopper's
                ranking is fastest on one thread: several threads only wait on each
                other for such small matrices); None leaves torch's setting alone.

        Raises:
            NotAModelError: the folder is not a recommender artifact.
            ArtifactError: its files are damaged or do not fit together.
        """
        directory = Path(directory)
        meta = RecsMeta.load(directory)
        try:
            items = ItemIndex.from_mapping(meta.item_index)
            config = RecsConfig.from_dict(meta.config)
            model = build_model(config, items.n_items)
            state = torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except (ValueError, TypeError, KeyError, RuntimeError, OSError) as exc:
            raise ArtifactError(
                f"{directory}: expected {WEIGHTS_FILE} to match recs.json, found a mismatch or "
                f"damage ({type(exc).__name__}: {str(exc).splitlines()[0]}); retrain with "
                "`shopintent recs train`"
            ) from None
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        return cls(model, items, meta)

    @property
    def model_version(self) -> str:
        """The artifact's id: creation time plus training-data hash."""
        return self.meta.model_version

    def known(self, item: str) -> bool:
        """Whether the model saw `item` in training."""
        return item in self.items.index

    def recommend(
        self,
        history: Sequence[str],
        k: int = 10,
        exclude: Iterable[str] | None = None,
        allowed: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The `k` items most likely next after `history`, best first.

        Args:
            history: the shopper's item tokens, oldest first (product ids as strings).
                Items the model never saw are skipped; consecutive repeats count once.
            k: how many items to return (fewer when fewer are eligible).
            exclude: items never to return. Default (None): the items in `history`;
                pass an empty set to allow them.
            allowed: when given, return only these items (e.g. what is in stock).

        Returns:
            `(item token, probability)` pairs, probability under the model's softmax
            over the whole catalogue. Empty when no history item is known: the
            caller falls back to another recommender.
        """
        index = self.items.index
        seq = collapse_repeats(t for t in history if t in index)
        if not seq or k <= 0:
            return []
        excluded = set(history) if exclude is None else set(exclude)
        with torch.inference_mode():
            logits = self.model.item_logits(
                self.model.last_state(pad_left([[index[t] for t in seq]], self.model.max_len))
            )[0]
            probs = torch.softmax(logits, dim=0)
            scores = probs.clone()
            if allowed is not None:
                keep = torch.zeros_like(scores, dtype=torch.bool)
                ids = [index[t] - 1 for t in allowed if t in index]
                if ids:
                    keep[torch.tensor(ids)] = True
                scores[~keep] = -1.0
            ids = [index[t] - 1 for t in excluded if t in index]
            if ids:
                scores[torch.tensor(ids)] = -1.0
            top = torch.topk(scores, min(k, scores.numel()))
        return [
            (self.items.tokens[i], float(probs[i]))
            for s, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
            if s >= 0
        ]

    def scorer(self, tokens: Sequence[str]) -> Scorer:
        """A `Scorer` over another index's items (`tokens[j]` is that index's item j + 1).

        Histories are mapped to the model's indices (unknown items skipped); items the
        model never saw score lowest. Used to evaluate on data with its own index.
        """
        index = self.items.index
        to_model = torch.tensor([0] + [index.get(t, 0) for t in tokens], dtype=torch.long)
        unknown = to_model == 0
        inner = model_scorer(self.model)

        def score(histories: list[list[int]]) -> torch.Tensor:
            mapped = [[int(to_model[i]) for i in h if to_model[i] > 0] for h in histories]
            scores = inner(mapped)[:, to_model]
            scores[:, unknown] = -torch.inf
            empty = torch.tensor([not h for h in mapped])
            scores[empty] = torch.where(unknown, -torch.inf, 0.0)
            return scores

        return score

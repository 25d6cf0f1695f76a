"""Small synthetic interaction data where the right next item is known, and a model
trained on it once per session (a second or two on one CPU core)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from recs.config import RecsConfig
from recs.data import Interactions

N_ITEMS = 12


def successor(item: int) -> int:
    """In the synthetic data, item `i` is always followed by this item."""
    return (item * 5 + 3) % N_ITEMS


def synthetic_sequences(shoppers: int = 150, seed: int = 0) -> dict[str, list[str]]:
    """Every shopper walks the successor cycle from a random start (tokens `item<i>`)."""
    rng = random.Random(seed)
    out: dict[str, list[str]] = {}
    for s in range(shoppers):
        item = rng.randrange(N_ITEMS)
        seq = []
        for _ in range(rng.randint(4, 8)):
            seq.append(f"item{item}")
            item = successor(item)
        out[f"u{s}"] = seq
    return out


def tiny_config(**overrides: object) -> RecsConfig:
    settings: dict[str, object] = {
        "hidden": 16,
        "dropout": 0.0,
        "max_len": 10,
        "epochs": 25,
        "patience": 25,
        "learning_rate": 0.02,
        "batch_positions": 128,
        "num_threads": 1,
        "progress": False,
    }
    settings.update(overrides)
    return RecsConfig(**settings)  # type: ignore[arg-type]


def write_interactions(path: Path, sequences: dict[str, list[str]]) -> Path:
    """Write `user item` lines, interleaving shoppers as a real log would."""
    lines: list[str] = []
    longest = max(len(s) for s in sequences.values())
    for step in range(longest):
        for user, seq in sequences.items():
            if step < len(seq):
                lines.append(f"{user} {seq[step]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def synthetic() -> Interactions:
    return Interactions(synthetic_sequences(), source="synthetic")


@pytest.fixture(scope="session")
def trained_dir(synthetic: Interactions, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recs.training import train

    return train(synthetic, tiny_config(), tmp_path_factory.mktemp("recs") / "model")

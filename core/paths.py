"""Where things are by default, relative to the working directory, and the artifact's name."""

from __future__ import annotations

ARTIFACT_FILE = "shopintent.json"
"""The file that makes a folder a trained model: its metadata (labels, thresholds, files)."""

DEFAULT_MODEL_DIR = "models/default"
"""The model `shopintent train` writes and `shopintent serve` loads unless told otherwise."""

DEFAULT_DATA_DIR = "training_data"
"""The training data (Rasa YAML, with a held-out `test/` folder)."""

"""Fine-tuning: data -> transformer -> calibrated decision rule -> model artifact.

The pipeline is split into `load_data`, `build_model`, `fit_model` and
`calibrate`; `train` runs them in order. Training uses the Hugging Face `Trainer`,
so the same code runs on a laptop CPU and under `accelerate launch` / `torchrun`.
The rejection threshold and the temperature are chosen on a validation part
carved (stratified, seeded) from the training data, never on a test set.

Each step has its module: the data and its split in `nlu.training_data`, the model and
the `Trainer` in `nlu.fine_tuning`, calibration and saving in `nlu.training_artifact`;
their names are re-exported here, where callers import them.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

from nlu.calibration import refit_statistics
from nlu.config import TrainConfig
from nlu.errors import TrainDataError
from nlu.export import check_messages
from nlu.fine_tuning import AUTO_EPOCHS as AUTO_EPOCHS
from nlu.fine_tuning import HEAD_INIT_SCALE as HEAD_INIT_SCALE
from nlu.fine_tuning import HEAD_LR_SCALE as HEAD_LR_SCALE
from nlu.fine_tuning import MAX_AUTO_EPOCHS as MAX_AUTO_EPOCHS
from nlu.fine_tuning import BaseModelError as BaseModelError
from nlu.fine_tuning import DistributedSetupError as DistributedSetupError
from nlu.fine_tuning import (
    build_model,
    configure_threads,
    fit_model,
    set_seed_everywhere,
)
from nlu.fine_tuning import init_head_from_centroids as init_head_from_centroids
from nlu.fine_tuning import plan_steps as plan_steps
from nlu.fine_tuning import resolve_base_model as resolve_base_model
from nlu.training_artifact import STATS_PER_INTENT as STATS_PER_INTENT
from nlu.training_artifact import (
    calibrate,
    calibration_inputs,
    save_artifact,
)
from nlu.training_artifact import evaluate_decisions as evaluate_decisions
from nlu.training_artifact import export_to as export_to
from nlu.training_data import LabelledTexts as LabelledTexts
from nlu.training_data import TrainingData, load_data, prepare_data
from nlu.training_data import stratified_split as stratified_split

__all__ = ["TrainDataError", "load_data", "prepare_data", "train"]


def train(config: TrainConfig, data: TrainingData | None = None) -> Path:
    """Fine-tune, calibrate and save a model; return the artifact directory.

    Args:
        config: training settings.
        data: prepared data (default: `load_data(config)`).

    Returns:
        `config.output_dir` (on the main process; other processes of a distributed
        run return it too but write nothing).

    Raises:
        NluError: bad data, base model or settings.

    >>> train(TrainConfig(data=["training_data"], output_dir="models/default"))  # doctest: +SKIP
    PosixPath('models/default')
    """
    configure_threads(config.num_threads)
    set_seed_everywhere(config.seed)
    if data is None:
        data = load_data(config)
    started = time.perf_counter()
    model, tokenizer = build_model(config, data.labels)
    with tempfile.TemporaryDirectory(prefix="shopintent-train-") as workdir:
        trainer = fit_model(config, model, tokenizer, data, workdir)
    calibration = None
    if trainer.is_world_process_zero():
        # The Trainer fine-tunes `model` in place (`trainer.model` is the same object).
        inputs = calibration_inputs(
            model, tokenizer, data, config.max_length, seed=config.seed, pooling=config.pooling
        )
        calibration = calibrate(config, data, inputs)
    refit = should_refit(config, data)
    if refit:
        # Small data: the validation part has chosen the rule; now learn from it too.
        whole = data.with_validation_in_training()
        set_seed_everywhere(config.seed)
        model, tokenizer = build_model(config, data.labels)
        with tempfile.TemporaryDirectory(prefix="shopintent-refit-") as workdir:
            trainer = fit_model(config, model, tokenizer, whole, workdir)
        if calibration is not None:
            inputs = calibration_inputs(
                model, tokenizer, whole, config.max_length, seed=config.seed, pooling=config.pooling
            )
            index = {name: i for i, name in enumerate(data.labels)}
            calibration = refit_statistics(calibration, inputs, index.get(config.oos_label))
    if calibration is None:
        return Path(config.output_dir)
    elapsed = time.perf_counter() - started
    return save_artifact(
        config.output_dir,
        model,
        tokenizer,
        config,
        data,
        calibration,
        elapsed,
        train_steps=trainer.state.max_steps,
        refit=refit,
        check_texts=check_messages(data.validation.texts, data.train.texts, seed=config.seed),
    )


# Below this median number of examples per intent, holding out a validation part costs
# a noticeable share of the data (10-shot: one example in ten), so the model is trained
# again on everything once the rule is chosen.
REFIT_BELOW_MEDIAN = 50


def should_refit(config: TrainConfig, data: TrainingData) -> bool:
    """Whether to train again on train + validation after calibration."""
    if config.refit is not None:
        return config.refit
    if len(data.validation) == 0:
        return False
    counts = sorted(Counter(data.train.labels).values())
    return counts[len(counts) // 2] < REFIT_BELOW_MEDIAN

"""Reviewed turns -> Rasa NLU YAML (`training_data/annotated.yml`), ready for `shopintent retrain`.

The file is rewritten from the database on every export, so a changed verdict never
leaves a stale example behind. Each text appears once (the newest review wins), and a
text that the rest of the training data labels with another intent is left out and
listed: the reviewer decides which label is right before it can be trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.review.store import reviewed_annotations
from core.paths import DEFAULT_DATA_DIR
from nlu.data import Example, render_rasa_nlu
from nlu.importer import Conflict, MergePlan, merge_plan, read_existing

DEFAULT_OUT = Path("training_data/annotated.yml")
COMMENT = (
    "Reviewed bot turns, written by `shopintent review export`; rewritten on every export.\n"
    "Texts are PII-redacted. Edit verdicts on /review, not here."
)


@dataclass
class ExportResult:
    """What an export wrote and what it left out."""

    out: Path
    plan: MergePlan

    @property
    def written(self) -> int:
        """Examples written."""
        return len(self.plan.examples)

    @property
    def conflicts(self) -> list[Conflict]:
        """Reviewed texts the training data labels with another intent (not written)."""
        return self.plan.conflicts


def _examples(engine: Engine) -> list[Example]:
    return [
        Example(a["text"], a["intent"], (), f"turn {a['turn_id']}", a["turn_id"])
        for a in reviewed_annotations(engine)
    ]


def render_annotations(engine: Engine) -> str:
    """All reviewed turns as Rasa YAML, de-duplicated (no check against the training data)."""
    plan = merge_plan(_examples(engine), [])
    return render_rasa_nlu(plan.examples, comment=COMMENT)


def export_annotations(
    engine: Engine, out: Path = DEFAULT_OUT, *, training_data: Path | None = Path(DEFAULT_DATA_DIR)
) -> ExportResult:
    """Write the reviewed turns to `out`, skipping conflicts with the training data.

    Args:
        engine: The bot's database.
        out: The YAML file to (re)write.
        training_data: The data folder to check for conflicts (`out` itself excluded);
            None skips the check.

    Returns:
        The written file and the plan (examples, duplicates, conflicts).
    """
    out = Path(out)
    existing = read_existing(training_data, exclude=out) if training_data is not None else []
    plan = merge_plan(_examples(engine), existing)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render_rasa_nlu(plan.examples, comment=COMMENT), encoding="utf-8")
    tmp.replace(out)
    return ExportResult(out=out, plan=plan)

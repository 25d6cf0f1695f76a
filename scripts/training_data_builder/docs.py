"""The generated block of `docs/data.md`: counts per intent and what was dropped."""

from __future__ import annotations

from pathlib import Path

from .clinc import CLINC_EXCLUDED
from .report import BuildReport
from .writing import all_intents

DOC_START = "<!-- generated:counts:start -->"
DOC_END = "<!-- generated:counts:end -->"


def counts_markdown(report: BuildReport) -> str:
    """The generated part of docs/data.md: counts per intent and what was dropped."""
    lines = [
        "| intent | train | test | sources (before split and caps) |",
        "|---|---:|---:|---|",
    ]
    order = all_intents()
    for intent in order:
        src = ", ".join(f"{k} {v}" for k, v in sorted(report.sources.get(intent, {}).items()))
        lines.append(
            f"| `{intent}` | {report.train_counts.get(intent, 0)} | "
            f"{report.test_counts.get(intent, 0)} | {src} |"
        )
    lines.append(
        f"| **total ({len(order)} intents)** | **{sum(report.train_counts.values())}** | "
        f"**{sum(report.test_counts.values())}** | |"
    )
    lines += ["", "Bitext rows and entity annotations:", ""]
    lines += [f"- {k}: {v}" for k, v in sorted(report.bitext.items())]
    lines += ["", "Dropped before the split (examples):", ""]
    lines += [f"- {k}: {v}" for k, v in sorted(report.dropped.items())]
    lines += [
        "",
        f"CLINC150 intents excluded from out_of_scope ({len(CLINC_EXCLUDED)}):",
        "",
        "| CLINC intent | why it is excluded |",
        "|---|---|",
    ]
    lines += [f"| `{k}` | {v} |" for k, v in sorted(CLINC_EXCLUDED.items())]
    lines += ["", f"CLINC150 intents used for out_of_scope ({len(report.clinc_intents_used)}):", ""]
    lines.append(", ".join(f"`{i}`" for i in report.clinc_intents_used))
    return "\n".join(lines)


def update_docs(doc_path: Path, report: BuildReport) -> None:
    """Replace the generated block between the markers in docs/data.md."""
    if not doc_path.is_file():
        return
    text = doc_path.read_text(encoding="utf-8")
    if DOC_START not in text or DOC_END not in text:
        return
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    doc_path.write_text(
        f"{head}{DOC_START}\n{counts_markdown(report)}\n{DOC_END}{tail}", encoding="utf-8"
    )

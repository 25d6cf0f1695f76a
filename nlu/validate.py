"""Validate training data before training: every problem with its file and line.

Reads the data leniently (see ``nlu.data.read_splits``) so one run lists all
problems, then checks the rules a classifier needs: no empty or duplicate
examples, no text under two intents, enough examples per intent, no test text
leaking into training, intents consistent with ``domain.yml``.

>>> report = validate_path(Path("training_data"))  # doctest: +SKIP
>>> report.ok  # doctest: +SKIP
True
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu.data import Example, NluData, Problem, read_splits

# The loader's problems and the validator's issues are the same record.
Issue = Problem

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lowercase and collapse whitespace: the key under which texts count as equal."""
    return _SPACE.sub(" ", text).strip().lower()


@dataclass
class ValidationReport:
    """What ``validate_path`` found: the problems and the examples per intent."""

    path: Path
    issues: list[Issue] = field(default_factory=list)
    train_counts: dict[str, int] = field(default_factory=dict)
    test_counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        """The issues that make the data unfit for training."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """The issues worth a look that do not block training."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors


def validate_path(
    path: Path,
    *,
    min_examples: int = 20,
    test_dir_name: str = "test",
    text_column: str | None = None,
    label_column: str | None = None,
) -> ValidationReport:
    """Check a training data folder or file and list every problem found.

    Args:
        path: A data folder (like ``training_data``) or a single data file.
        min_examples: Least number of training examples each intent needs.
        test_dir_name: Name of the sub-folder that holds the test split.
        text_column: CSV column / JSONL key holding the text (auto-detected if None).
        label_column: CSV column / JSONL key holding the intent (auto-detected if None).

    Returns:
        The report; ``report.ok`` is False when any error was found.

    Raises:
        DataNotFoundError: If ``path`` does not exist or holds no data files.
        ValueError: If ``min_examples`` is below 1.
    """
    if min_examples < 1:
        raise ValueError(f"min_examples must be at least 1, found {min_examples}")
    path = Path(path)
    problems: list[Problem] = []
    splits = read_splits(
        path,
        text_column=text_column,
        label_column=label_column,
        test_dir_name=test_dir_name,
        problems=problems,
    )
    train, test = splits["train"], splits["test"]
    issues = list(problems)
    issues += _duplicates(train.examples)
    issues += _duplicates(test.examples)
    issues += _leaks(train.examples, test.examples)
    issues += _intent_counts(
        path, train, test, min_examples, any(p.severity == "error" for p in problems)
    )
    if path.is_dir() and (path / "domain.yml").is_file():
        issues += _domain_mismatch(path / "domain.yml", train.intents + test.intents)
    issues.sort(key=lambda i: (i.file, i.line, i.severity, i.message))
    return ValidationReport(
        path=path,
        issues=issues,
        train_counts=dict(sorted(Counter(e.intent for e in train.examples).items())),
        test_counts=dict(sorted(Counter(e.intent for e in test.examples).items())),
    )


def _where(example: Example) -> str:
    return f"{example.source}:{example.line}"


def _duplicates(examples: Iterable[Example]) -> list[Issue]:
    issues: list[Issue] = []
    first_by_intent: dict[str, dict[str, Example]] = defaultdict(dict)
    for ex in examples:
        seen = first_by_intent[normalise(ex.text)]
        if ex.intent in seen:
            issues.append(
                Issue(
                    "warning",
                    ex.source,
                    ex.line,
                    f"duplicate example {ex.text!r} in intent '{ex.intent}', first at "
                    f"{_where(seen[ex.intent])}; remove one",
                )
            )
            continue
        for other in seen.values():
            issues.append(
                Issue(
                    "error",
                    ex.source,
                    ex.line,
                    f"the same text {ex.text!r} is under intent '{ex.intent}' here and under "
                    f"intent '{other.intent}' at {_where(other)}; keep it under one intent",
                )
            )
        seen[ex.intent] = ex
    return issues


def _leaks(train: list[Example], test: list[Example]) -> list[Issue]:
    in_train: dict[str, Example] = {}
    for ex in train:
        in_train.setdefault(normalise(ex.text), ex)
    issues: list[Issue] = []
    for ex in test:
        twin = in_train.get(normalise(ex.text))
        if twin is not None:
            issues.append(
                Issue(
                    "error",
                    ex.source,
                    ex.line,
                    f"test example {ex.text!r} (intent '{ex.intent}') leaks into training: "
                    f"also at {_where(twin)} (intent '{twin.intent}'); remove it from one split",
                )
            )
    return issues


def _intent_counts(
    path: Path, train: NluData, test: NluData, min_examples: int, loader_failed: bool
) -> list[Issue]:
    """Too few examples per intent or intents overall, test intents unseen in training.

    With no intents at all because files failed to parse, the parse errors already
    say what is wrong, so the "at least 2 intents" error is left out.
    """
    issues: list[Issue] = []
    first: dict[str, Example] = {}
    for ex in train.examples:
        first.setdefault(ex.intent, ex)
    counts = Counter(ex.intent for ex in train.examples)
    for intent, count in sorted(counts.items()):
        if count < min_examples:
            ex = first[intent]
            issues.append(
                Issue(
                    "error",
                    ex.source,
                    ex.line,
                    f"intent '{intent}' has {count} training example{'s' * (count != 1)}, "
                    f"expected at least {min_examples}; add examples or lower --min-examples",
                )
            )
    if len(counts) < 2 and not (loader_failed and not counts):
        issues.append(
            Issue(
                "error",
                str(path),
                0,
                f"expected at least 2 intents in the training data, found {len(counts)} "
                f"{sorted(counts)}; a classifier needs at least two",
            )
        )
    reported: set[str] = set()
    for ex in test.examples:
        if ex.intent not in counts and ex.intent not in reported:
            reported.add(ex.intent)
            issues.append(
                Issue(
                    "error",
                    ex.source,
                    ex.line,
                    f"test intent '{ex.intent}' has no training examples; add training "
                    "examples or fix the intent name",
                )
            )
    return issues


def _domain_mismatch(domain: Path, nlu_intents: list[str]) -> list[Issue]:
    file = str(domain)
    try:
        root = yaml.compose(domain.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return [Issue("warning", file, line, f"cannot read the domain to compare intents: {exc}")]
    intents_key = next(
        (
            (k, v)
            for k, v in (root.value if isinstance(root, yaml.MappingNode) else [])
            if isinstance(k, yaml.ScalarNode) and k.value == "intents"
        ),
        None,
    )
    if intents_key is None or not isinstance(intents_key[1], yaml.SequenceNode):
        return []
    declared: dict[str, int] = {}
    for item in intents_key[1].value:
        if isinstance(item, yaml.ScalarNode):
            declared[str(item.value)] = item.start_mark.line + 1
        elif isinstance(item, yaml.MappingNode):
            for key, _ in item.value:
                declared[str(key.value)] = key.start_mark.line + 1
    used = set(nlu_intents)
    key_line = intents_key[0].start_mark.line + 1
    issues = [
        Issue(
            "warning",
            file,
            key_line,
            f"intent '{name}' has NLU examples but is not declared in the domain's "
            "'intents:'; add it there so the bot can handle it",
        )
        for name in sorted(used - set(declared))
    ]
    issues += [
        Issue(
            "warning",
            file,
            line,
            f"intent '{name}' is declared in the domain but has no NLU examples",
        )
        for name, line in declared.items()
        if name not in used
    ]
    return issues


def format_issue(issue: Issue) -> str:
    """Render an issue as ``file:line: severity: message`` (line left out when unknown)."""
    where = f"{issue.file}:{issue.line}" if issue.line else issue.file
    return f"{where}: {issue.severity}: {issue.message}"


def print_report(report: ValidationReport) -> None:
    """Print the intent and example counts table, then the problems, one per line.

    Args:
        report: What :func:`validate_path` returned.
    """
    intents = sorted(set(report.train_counts) | set(report.test_counts))
    total = f"total ({len(intents)} intents)"
    width = max([len(total), *(len(i) for i in intents)])
    print(f"Training data: {report.path}")
    print(f"{'intent':<{width}}  {'train':>6}  {'test':>6}")
    for intent in intents:
        train = report.train_counts.get(intent, 0)
        test = report.test_counts.get(intent, 0)
        print(f"{intent:<{width}}  {train:>6}  {test:>6}")
    print(
        f"{total:<{width}}  {sum(report.train_counts.values()):>6}  "
        f"{sum(report.test_counts.values()):>6}"
    )
    print()
    errors, warnings = len(report.errors), len(report.warnings)
    if not report.issues:
        print("No problems found.")
        return
    print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}:")
    for issue in report.issues:
        print(format_issue(issue))

"""`shopintent data ...`: validate and summarise training data (no torch import)."""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from core.paths import DEFAULT_DATA_DIR

DEFAULT_DATA = Path(DEFAULT_DATA_DIR)


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, found {number}")
    return number


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=DEFAULT_DATA,
        help="data folder or file (.yml/.yaml, .csv/.tsv, .jsonl); default: %(default)s",
    )
    parser.add_argument(
        "--test-dir",
        default="test",
        metavar="NAME",
        help="sub-folder whose YAML files form the test split (default: %(default)s)",
    )
    parser.add_argument(
        "--text-column", metavar="NAME", help="CSV column / JSONL key holding the text"
    )
    parser.add_argument(
        "--label-column", metavar="NAME", help="CSV column / JSONL key holding the intent"
    )


def register(sub: Any) -> None:
    """Add the `data` command group (validate, stats) to the `shopintent` subparsers."""
    data = sub.add_parser(
        "data",
        help="validate and summarise training data",
        description=(
            "Check and summarise intent training data: Rasa 3.x NLU YAML, CSV/TSV or JSONL. "
            "A folder loads every NLU YAML below it (YAML under test/ is the test split) "
            "and the CSV/TSV/JSONL files at its top level. See docs/data-format.md."
        ),
    )
    data.set_defaults(group_parser=data)
    commands = data.add_subparsers(dest="data_command", metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="list every problem in the data, with file and line",
        description=(
            "Validate training data: YAML syntax, malformed entity annotations, empty or "
            "duplicate examples, texts under two intents, intents with too few examples, "
            "test texts leaking into training, intents missing from domain.yml. "
            "Exit code 0 when there are no errors, 1 otherwise."
        ),
    )
    _add_data_options(validate)
    validate.add_argument(
        "--min-examples",
        type=_positive_int,
        default=20,
        metavar="N",
        help="least number of training examples per intent (default: %(default)s)",
    )
    validate.add_argument(
        "--strict", action="store_true", help="also exit 1 when there are only warnings"
    )
    validate.set_defaults(func=run_validate)

    stats = commands.add_parser(
        "stats",
        help="table of intents with train/test example counts and entities",
        description="Summarise training data: examples per intent and split, entities used.",
    )
    _add_data_options(stats)
    stats.set_defaults(func=run_stats)


def run_validate(args: argparse.Namespace) -> int:
    """Handle `shopintent data validate`; returns 0 when clean, 1 otherwise."""
    from nlu.validate import print_report, validate_path

    report = validate_path(
        args.path,
        min_examples=args.min_examples,
        test_dir_name=args.test_dir,
        text_column=args.text_column,
        label_column=args.label_column,
    )
    print_report(report)
    if not report.ok or (args.strict and report.issues):
        return 1
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """Handle `shopintent data stats`; prints the table and returns 0."""
    from nlu.data import Problem, read_splits

    problems: list[Problem] = []
    splits = read_splits(
        args.path,
        text_column=args.text_column,
        label_column=args.label_column,
        test_dir_name=args.test_dir,
        problems=problems,
    )
    train, test = splits["train"], splits["test"]
    train_counts = Counter(e.intent for e in train.examples)
    test_counts = Counter(e.intent for e in test.examples)
    entities: dict[str, Counter[str]] = defaultdict(Counter)
    for ex in [*train.examples, *test.examples]:
        entities[ex.intent].update(span.entity for span in ex.entities)

    intents = sorted(set(train_counts) | set(test_counts))
    total = f"total ({len(intents)} intents)"
    width = max([len(total), *(len(i) for i in intents)])
    print(f"{'intent':<{width}}  {'train':>6}  {'test':>6}  entities")
    for intent in intents:
        used = ", ".join(f"{name} ({n})" for name, n in sorted(entities[intent].items()))
        print(
            f"{intent:<{width}}  {train_counts[intent]:>6}  {test_counts[intent]:>6}  {used or '-'}"
        )
    all_entities: Counter[str] = Counter()
    for counter in entities.values():
        all_entities.update(counter)
    used = ", ".join(f"{name} ({n})" for name, n in sorted(all_entities.items()))
    print(
        f"{total:<{width}}  {sum(train_counts.values()):>6}  {sum(test_counts.values()):>6}  "
        f"{used or '-'}"
    )
    synonyms = {**train.synonyms, **test.synonyms}
    lookups = {**train.lookups, **test.lookups}
    regexes = {**train.regexes, **test.regexes}
    print()
    print(
        f"{len(synonyms)} synonyms, {len(lookups)} lookup tables "
        f"({sum(len(v) for v in lookups.values())} values), {len(regexes)} regexes"
    )
    if problems:
        print(
            f"{len(problems)} problems skipped while reading; run `shopintent data validate "
            f"{args.path}` to list them"
        )
    return 0

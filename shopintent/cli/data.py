"""`shopintent data validate|stats|import`: check, summarise and import training data.

No torch import: these commands read YAML, CSV and JSONL only.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from shopintent.cli.common import (
    DEFAULT_DATA,
    Subparsers,
    add_columns,
    add_command,
    add_group,
    add_training_data,
    positive_int,
)


def register(sub: Subparsers) -> None:
    """Validate and summarise training data.

    Check and summarise intent training data: Rasa 3.x NLU YAML, CSV/TSV or JSONL. A folder loads
    every NLU YAML below it (YAML under test/ is the test split) and the CSV/TSV/JSONL files at its
    top level. See docs/data-format.md.
    """
    commands = add_group(sub, "data", register.__doc__)
    validate = add_command(commands, run_validate)
    _add_source(validate)
    validate.add_argument(
        "--min-examples",
        type=positive_int,
        default=20,
        metavar="N",
        help="least number of training examples per intent (default: %(default)s)",
    )
    validate.add_argument(
        "--strict", action="store_true", help="also exit 1 when there are only warnings"
    )

    stats = add_command(commands, run_stats)
    _add_source(stats)
    _register_import(commands)


def _add_source(parser: argparse.ArgumentParser) -> None:
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
    add_columns(
        parser,
        text="CSV column / JSONL key holding the text",
        label="CSV column / JSONL key holding the intent",
    )


def _register_import(commands: Subparsers) -> None:
    p = add_command(commands, run_import)
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where to write (default: training_data/nlu/imported_<name>.yml)",
    )
    add_training_data(
        p, help="the project's data folder, checked for duplicates (default: %(default)s)"
    )
    add_columns(
        p, text="CSV column / JSONL key of the text", label="CSV column / JSONL key of the intent"
    )
    p.add_argument(
        "--min-examples",
        type=int,
        default=1,
        metavar="N",
        help="fewest examples per imported intent (default: %(default)s)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


def run_validate(args: argparse.Namespace) -> int:
    """List every problem in the data, with file and line.

    Validate training data: YAML syntax, malformed entity annotations, empty or duplicate examples,
    texts under two intents, intents with too few examples, test texts leaking into training,
    intents missing from domain.yml. Exit code 0 when there are no errors, 1 otherwise.
    """
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
    """Table of intents with train/test example counts and entities.

    Summarise training data: examples per intent and split, entities used.
    """
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


def run_import(args: argparse.Namespace) -> int:
    """Import another project's Rasa nlu.yml or a CSV into training_data.

    Import a Rasa NLU YAML, CSV/TSV or JSONL file into the training data as Rasa 3.1 YAML. Examples
    already in the data are dropped; texts the data labels with another intent are left out and
    listed; the result is validated and removed again if it has errors.
    """
    from nlu.importer import import_file

    result = import_file(
        args.file,
        args.out,
        training_data=args.training_data,
        text_column=args.text_column,
        label_column=args.label_column,
        overwrite=args.overwrite,
        min_examples=args.min_examples,
    )
    plan = result.plan
    print(
        f"wrote {result.written} examples of {len(result.intents)} intents to {result.out} "
        f"({len(plan.duplicates)} duplicates dropped, {len(plan.conflicts)} conflicts left out)"
    )
    for conflict in plan.conflicts:
        print(
            f"  conflict: {conflict.text!r} is {conflict.intent!r} in {args.file.name} but "
            f"{conflict.existing_intent!r} in the training data"
        )
    for warning in result.warnings:
        print(f"  {warning}")
    return 0

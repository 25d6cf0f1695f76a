"""Validating training data (every rule, with file and line) and the `data` CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nlu.data import DataNotFoundError
from nlu.validate import ValidationReport, normalise, print_report, validate_path
from shopintent.cli import main
from tests.nlu.conftest import line_of

FIXTURES = Path(__file__).parent / "fixtures"
CLEAN = FIXTURES / "validate" / "clean"
LEAK = FIXTURES / "validate" / "leak"
WARNINGS_ONLY = FIXTURES / "validate" / "warnings_only.yml"
INVALID = FIXTURES / "invalid"


def issues_at(report: ValidationReport, path: Path, line: int) -> list[str]:
    return [
        f"{i.severity}: {i.message}"
        for i in report.issues
        if i.file == str(path) and i.line == line
    ]


@pytest.fixture(scope="module")
def rules_report() -> ValidationReport:
    return validate_path(INVALID / "rules.yml", min_examples=3)


@pytest.fixture(scope="module")
def leak_report() -> ValidationReport:
    return validate_path(LEAK, min_examples=2)


def test_clean_data_has_no_issues_and_counts_examples_per_intent_and_split() -> None:
    report = validate_path(CLEAN, min_examples=3)
    assert report.issues == []
    assert report.ok
    assert report.train_counts == {"greet": 3, "track_order": 3}
    assert report.test_counts == {"greet": 1, "track_order": 1}


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("    -\n", r"^error: empty example in intent 'greet'"),
        (
            "- Hello",
            r"^warning: duplicate example 'Hello' in intent 'greet', first at .*rules\.yml:4",
        ),
        ("missing dash", r"^error: expected each line of 'examples' to start with '- '"),
        (
            "- Good morning",
            r"^error: the same text 'Good morning' is under intent 'bye' here and under intent "
            r"'greet' at .*rules\.yml:7; keep it under one intent",
        ),
        ("- bye", r"^error: intent 'bye' has 2 training examples, expected at least 3"),
        ("intent: thanks", r"^error: intent 'thanks' has no 'examples:'"),
    ],
)
def test_each_rule_is_reported_at_its_file_and_line(
    rules_report: ValidationReport, snippet: str, expected: str
) -> None:
    path = INVALID / "rules.yml"
    if snippet.endswith("\n"):
        lines = path.read_text(encoding="utf-8").splitlines()
        line = lines.index(snippet.rstrip("\n")) + 1
    else:
        line = line_of(path, snippet)
    found = issues_at(rules_report, path, line)
    assert any(re.search(expected, message) for message in found), found


def test_rules_report_lists_exactly_the_expected_problems(rules_report: ValidationReport) -> None:
    assert len(rules_report.errors) == 5
    assert len(rules_report.warnings) == 1
    assert not rules_report.ok


def test_yaml_syntax_error_is_reported_with_the_parser_line_and_no_follow_up_noise() -> None:
    path = INVALID / "syntax.yml"
    report = validate_path(path)
    assert [(i.line, i.severity) for i in report.issues] == [(7, "error")]
    assert report.issues[0].message.startswith("YAML syntax error: expected ',' or ']'")


def test_every_malformed_annotation_is_reported_in_one_run() -> None:
    path = INVALID / "annotations.yml"
    report = validate_path(path, min_examples=1)
    by_line = {i.line: i.message for i in report.errors if i.line}
    assert sorted(by_line) == [4, 5, 6, 7, 8, 9]
    assert by_line[4].startswith("unbalanced '['")
    assert by_line[5].startswith("unbalanced ']'")
    assert by_line[6].startswith("missing entity name in '[12]()'")
    assert by_line[7].startswith("bad JSON after '[12]'")
    assert by_line[8].startswith("missing entity name in the JSON")
    assert by_line[9].startswith("unbalanced '('")
    warning = next(i for i in report.warnings)
    assert (warning.line, warning.message[:10]) == (10, "'[urgent]'")


def test_test_texts_leaking_into_training_are_found_after_normalising(
    leak_report: ValidationReport,
) -> None:
    test_file = LEAK / "test" / "nlu.yml"
    leak = issues_at(leak_report, test_file, line_of(test_file, "Where  is my ORDER"))
    assert leak == [
        "error: test example 'Where  is my ORDER' (intent 'track_order') leaks into training: "
        f"also at {LEAK / 'nlu' / 'nlu.yml'}:4 (intent 'track_order'); remove it from one split"
    ]
    assert issues_at(leak_report, test_file, line_of(test_file, "hi   there"))


def test_test_intent_without_training_examples_is_an_error(leak_report: ValidationReport) -> None:
    test_file = LEAK / "test" / "nlu.yml"
    assert issues_at(leak_report, test_file, line_of(test_file, "this is awful")) == [
        "error: test intent 'complain' has no training examples; add training examples or "
        "fix the intent name"
    ]


def test_intents_not_matching_the_domain_are_warnings(leak_report: ValidationReport) -> None:
    domain = LEAK / "domain.yml"
    assert issues_at(leak_report, domain, line_of(domain, "- refund")) == [
        "warning: intent 'refund' is declared in the domain but has no NLU examples"
    ]
    assert any(
        "intent 'complain' has NLU examples but is not declared" in m
        for m in issues_at(leak_report, domain, line_of(domain, "intents:"))
    )


def test_min_examples_decides_which_intents_are_too_small() -> None:
    assert validate_path(CLEAN, min_examples=3).ok
    report = validate_path(CLEAN, min_examples=4)
    assert sorted(i.message.split(" has ")[0] for i in report.errors) == [
        "intent 'greet'",
        "intent 'track_order'",
    ]


def test_a_single_intent_is_too_few_to_train() -> None:
    report = validate_path(
        FIXTURES / "project" / "nlu" / "extra" / "greetings.yaml", min_examples=1
    )
    assert [i.message for i in report.errors] == [
        "expected at least 2 intents in the training data, found 1 ['greet']; a classifier "
        "needs at least two"
    ]


def test_warnings_alone_leave_the_report_ok() -> None:
    report = validate_path(WARNINGS_ONLY, min_examples=3)
    assert report.ok
    assert [i.line for i in report.warnings] == [5, 6]


def test_min_examples_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="min_examples must be at least 1, found 0"):
        validate_path(CLEAN, min_examples=0)


def test_missing_path_raises_data_not_found() -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        validate_path(FIXTURES / "nowhere")


@pytest.mark.parametrize(
    ("raw", "key"),
    [("Where  is my ORDER ", "where is my order"), ("hi\tthere", "hi there"), ("OK", "ok")],
)
def test_normalise_lowercases_and_collapses_whitespace(raw: str, key: str) -> None:
    assert normalise(raw) == key


def test_print_report_shows_the_counts_table_then_file_and_line_problems(
    rules_report: ValidationReport, capsys: pytest.CaptureFixture[str]
) -> None:
    print_report(rules_report)
    out = capsys.readouterr().out.splitlines()
    assert re.match(r"intent\s+train\s+test$", out[1])
    assert re.match(r"bye\s+2\s+0$", out[2])
    assert re.match(r"greet\s+3\s+0$", out[3])
    assert re.match(r"total \(2 intents\)\s+5\s+0$", out[4])
    assert "5 errors, 1 warning:" in out
    assert (
        f"{INVALID / 'rules.yml'}:5: error: empty example in intent 'greet'; remove the line or write the example"
        in out
    )


# --- CLI -------------------------------------------------------------------------------


def test_cli_validate_on_clean_data_exits_0_and_prints_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["data", "validate", str(CLEAN), "--min-examples", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"track_order\s+3\s+1", out)
    assert "No problems found." in out


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["data", "validate", str(INVALID / "rules.yml"), "--min-examples", "3"], 1),
        (["data", "validate", str(CLEAN)], 1),
        (["data", "validate", str(WARNINGS_ONLY), "--min-examples", "3"], 0),
        (["data", "validate", str(WARNINGS_ONLY), "--min-examples", "3", "--strict"], 1),
        (["data", "validate", str(FIXTURES / "nowhere")], 2),
        (["data", "stats", str(FIXTURES / "nowhere")], 2),
        (["up", "--data", str(INVALID / "rules.yml")], 1),
    ],
)
def test_cli_validate_exit_codes(argv: list[str], code: int) -> None:
    assert main(argv) == code


def test_cli_prints_user_errors_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "validate", str(FIXTURES / "tables" / "no_text.csv")]) == 1
    out = capsys.readouterr().out
    assert "no_text.csv:1: error: expected a text column named one of" in out
    assert main(["data", "validate", "no/such/dir"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data path 'no/such/dir' does not exist")
    assert "Traceback" not in err


def test_cli_data_without_subcommand_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data"]) == 2
    out = capsys.readouterr().out
    assert "usage: shopintent data" in out
    assert "validate" in out and "stats" in out


@pytest.mark.parametrize(
    "argv", [["data", "--help"], ["data", "validate", "--help"], ["data", "stats", "--help"]]
)
def test_cli_data_help_exits_0(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: shopintent data" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_cli_rejects_a_bad_min_examples(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["data", "validate", str(CLEAN), "--min-examples", value])
    assert info.value.code == 2
    assert "--min-examples" in capsys.readouterr().err


def test_cli_stats_prints_intents_counts_and_entities(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "stats", str(FIXTURES / "project")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert re.match(r"intent\s+train\s+test\s+entities$", out[0])
    assert re.match(r"cancel_order\s+3\s+0\s+item \(1\), order_id \(1\)$", out[1])
    assert re.match(r"greet\s+3\s+1\s+name \(1\)$", out[2])
    assert re.match(r"track_order\s+5\s+1\s+city \(2\), order_id \(5\)$", out[3])
    assert re.match(
        r"total \(3 intents\)\s+11\s+2\s+city \(2\), item \(1\), name \(1\), order_id \(6\)$",
        out[4],
    )
    assert "4 synonyms, 1 lookup tables (2 values), 1 regexes" in out


def test_cli_data_commands_do_not_import_torch_or_datasets() -> None:
    code = (
        "import sys\n"
        "from shopintent.cli import main\n"
        f"main(['data', 'validate', {str(CLEAN)!r}, '--min-examples', '3'])\n"
        f"main(['data', 'stats', {str(CLEAN)!r}])\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "HEAVY []" in result.stdout

"""The Rasa YAML writer and `shopintent data import`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlu.data import EntitySpan, Example, format_example, read_nlu, write_rasa_nlu
from nlu.importer import (
    DataImportError,
    ImportValidationError,
    import_file,
    merge_plan,
)
from shopintent.cli import main

EXISTING = """\
version: "3.1"
nlu:
- intent: track_order
  examples: |
    - where is my order
    - track my parcel please
- intent: get_refund
  examples: |
    - I want my money back
    - refund me please
"""


@pytest.fixture
def training_data(tmp_path: Path) -> Path:
    root = tmp_path / "training_data"
    (root / "nlu").mkdir(parents=True)
    (root / "nlu" / "base.yml").write_text(EXISTING, encoding="utf-8")
    return root


def test_written_yaml_reads_back_with_the_same_texts_intents_and_entities(
    tmp_path: Path,
) -> None:
    examples = [
        Example("where is order 123", "track_order", (EntitySpan("order_id", "123", 15, 18),)),
        Example(
            "send it to NYC", "change_shipping_address", (EntitySpan("city", "New York", 11, 14),)
        ),
        Example("my mail is [EMAIL](work) ok", "edit_account"),
        Example("  two\nlines\tand   tabs ", "greet"),
    ]
    path = write_rasa_nlu(tmp_path / "out.yml", examples, synonyms={"NYC": "New York"})

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    back = read_nlu(path)

    assert document["version"] == "3.1"
    assert [(e.text, e.intent) for e in back.examples] == [
        ("where is order 123", "track_order"),
        ("send it to NYC", "change_shipping_address"),
        ("my mail is [EMAIL] (work) ok", "edit_account"),
        ("two lines and tabs", "greet"),
    ]
    assert back.examples[0].entities == (EntitySpan("order_id", "123", 15, 18),)
    assert back.examples[1].entities == (EntitySpan("city", "New York", 11, 14),)
    assert back.synonyms == {"nyc": "New York"}  # Rasa matches synonyms lower-cased


def test_an_empty_example_list_still_writes_a_valid_rasa_file(tmp_path: Path) -> None:
    path = write_rasa_nlu(tmp_path / "empty.yml", [])

    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {"version": "3.1", "nlu": []}


def test_format_example_marks_each_entity_inline() -> None:
    example = Example("order 55 to Paris", "x", (EntitySpan("order_id", "55", 6, 8),))

    assert format_example(example) == "order [55](order_id) to Paris"


def test_merge_plan_drops_duplicates_and_lists_conflicts_case_insensitively() -> None:
    existing = [Example("Where is my order", "track_order")]
    new = [
        Example("where is  my order", "track_order"),
        Example("WHERE IS MY ORDER", "get_refund"),
        Example("new text", "greet"),
        Example("New text", "goodbye"),
    ]

    plan = merge_plan(new, existing)

    assert [e.text for e in plan.examples] == ["new text"]
    assert [e.text for e in plan.duplicates] == ["where is  my order"]
    assert [(c.intent, c.existing_intent) for c in plan.conflicts] == [
        ("get_refund", "track_order"),
        ("goodbye", "greet"),
    ]


def test_importing_a_csv_writes_rasa_yaml_without_duplicates_or_conflicts(
    training_data: Path, tmp_path: Path
) -> None:
    source = tmp_path / "other.csv"
    source.write_text(
        "text,label\n"
        "where is my order,track_order\n"
        "refund me please,track_order\n"
        "has my package shipped,track_order\n"
        "cancel it now,cancel_order\n",
        encoding="utf-8",
    )
    out = training_data / "nlu" / "imported.yml"

    result = import_file(source, out, training_data=training_data)

    assert result.written == 2
    assert result.intents == ["cancel_order", "track_order"]
    assert [e.text for e in result.plan.duplicates] == ["where is my order"]
    assert [(c.text, c.existing_intent) for c in result.plan.conflicts] == [
        ("refund me please", "get_refund")
    ]
    assert {(e.text, e.intent) for e in read_nlu(out).examples} == {
        ("has my package shipped", "track_order"),
        ("cancel it now", "cancel_order"),
    }


def test_importing_another_projects_rasa_file_keeps_its_lookups(
    training_data: Path, tmp_path: Path
) -> None:
    source = tmp_path / "nlu.yml"
    source.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello there\n'
        "- lookup: city\n  examples: |\n    - Paris\n    - Rome\n",
        encoding="utf-8",
    )

    result = import_file(source, training_data / "nlu" / "other.yml", training_data=training_data)

    assert read_nlu(result.out).lookups == {"city": ["Paris", "Rome"]}


def test_import_refuses_to_overwrite_an_existing_file(training_data: Path) -> None:
    with pytest.raises(DataImportError, match="pass --overwrite"):
        import_file(
            training_data / "nlu" / "base.yml",
            training_data / "nlu" / "base.yml",
            training_data=training_data,
        )


def test_import_that_fails_validation_leaves_no_file_behind(
    training_data: Path, tmp_path: Path
) -> None:
    source = tmp_path / "few.csv"
    source.write_text("text,intent\nhello,greet\nhi there,greet\n", encoding="utf-8")
    out = training_data / "nlu" / "few.yml"

    with pytest.raises(ImportValidationError, match="intent 'greet' has 2 training examples"):
        import_file(source, out, training_data=training_data, min_examples=5)

    assert not out.exists()


def test_data_import_command_reports_counts_and_conflicts(
    training_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "other.csv"
    source.write_text("text,intent\nrefund me please,cancel_order\nhello,greet\n", encoding="utf-8")
    out = tmp_path / "imported.yml"

    code = main(
        ["data", "import", str(source), "--out", str(out), "--training-data", str(training_data)]
    )

    printed = capsys.readouterr().out
    assert code == 0
    assert "wrote 1 examples of 1 intents" in printed
    assert "conflict: 'refund me please' is 'cancel_order'" in printed


def test_data_import_command_prints_a_clear_error_for_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["data", "import", str(tmp_path / "nope.csv")])

    assert code == 2
    assert "does not exist" in capsys.readouterr().err

"""Loading training data: Rasa YAML, folders and splits, CSV/TSV, JSONL, load_dataset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from datasets import DatasetDict

import nlu.data
import nlu.data.rasa_yaml
import nlu.importer
from nlu.data import (
    DataFormatError,
    DataNotFoundError,
    EntitySpan,
    Example,
    TooFewLabelsError,
    UnknownLabelError,
    find_data_files,
    load_dataset,
    parse_annotated,
    read_nlu,
    read_splits,
)
from tests.nlu.conftest import line_of

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = FIXTURES / "project"
TABLES = FIXTURES / "tables"
INVALID = FIXTURES / "invalid"


def by_text(examples: list[Example]) -> dict[str, Example]:
    return {e.text: e for e in examples}


# --- annotations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "plain", "spans"),
    [
        ("no entities here", "no entities here", ()),
        (
            "where is order [4411](order_id)?",
            "where is order 4411?",
            (EntitySpan("order_id", "4411", 15, 19),),
        ),
        (
            "ship to [NYC](city:New York) today",
            "ship to NYC today",
            (EntitySpan("city", "New York", 8, 11),),
        ),
        (
            '[12]{"entity": "order_id", "value": "0012"} shipped?',
            "12 shipped?",
            (EntitySpan("order_id", "0012", 0, 2),),
        ),
        (
            '[Paris]{"entity": "city", "role": "destination"}',
            "Paris",
            (EntitySpan("city", "Paris", 0, 5),),
        ),
        (
            '[red shoes][{"entity": "color", "value": "red"}, {"entity": "product"}]',
            "red shoes",
            (EntitySpan("color", "red", 0, 9), EntitySpan("product", "red shoes", 0, 9)),
        ),
        (
            "[a](x) and [b](y)",
            "a and b",
            (EntitySpan("x", "a", 0, 1), EntitySpan("y", "b", 6, 7)),
        ),
        ("[urgent] help (please)", "[urgent] help (please)", ()),
    ],
)
def test_parse_annotated_strips_markup_and_indexes_spans_into_plain_text(
    raw: str, plain: str, spans: tuple[EntitySpan, ...]
) -> None:
    text, found, _ = parse_annotated(raw)
    assert text == plain
    assert found == spans
    for span in found:
        assert text[span.start : span.end] in raw


def test_parse_annotated_notes_brackets_kept_as_plain_text() -> None:
    _, _, notes = parse_annotated("[urgent] where is my order")
    assert len(notes) == 1
    assert "'[urgent]' has no '(entity)'" in notes[0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("where is [order 12(order_id)", r"unbalanced '\[' at column 10"),
        ("where is order 12](order_id)", r"unbalanced '\]' at column 18"),
        ("[a [b](x)](y)", r"unbalanced '\['"),
        ("order [12]()", r"missing entity name in '\[12\]\(\)'"),
        ("order [12](:x)", "missing entity name"),
        ("order [12](order_id", r"unbalanced '\(' .* closing '\)'"),
        ('order [12]{"entity": order_id}', r"bad JSON after '\[12\]'"),
        ('order [12]{"value": "12"}', r'missing entity name in the JSON .* string "entity" key'),
        ("order [](order_id)", r"empty entity value '\[\]'"),
    ],
)
def test_parse_annotated_rejects_malformed_annotations(raw: str, message: str) -> None:
    with pytest.raises(DataFormatError, match=message):
        parse_annotated(raw)


# --- Rasa YAML -----------------------------------------------------------------------


def test_rasa_yaml_file_loads_examples_with_entities_source_and_line() -> None:
    path = PROJECT / "nlu" / "orders.yml"
    data = read_nlu(path)
    examples = by_text(data.examples)
    assert data.intents == ["cancel_order", "track_order"]
    assert len(data.examples) == 8
    ex = examples["track my parcel to NYC"]
    assert ex.intent == "track_order"
    assert ex.entities == (EntitySpan("city", "New York", 19, 22),)
    assert ex.source == str(path)
    assert ex.line == line_of(path, "track my parcel")
    assert examples["is London order 77 on its way"].entities == (
        EntitySpan("city", "London", 3, 9),
        EntitySpan("order_id", "77", 16, 18),
    )
    assert examples["has order 12 shipped"].entities == (EntitySpan("order_id", "12", 10, 12),)


def test_rasa_yaml_reads_synonyms_lookups_and_regexes() -> None:
    data = read_nlu(PROJECT / "nlu" / "orders.yml")
    assert data.synonyms == {
        "cc": "credit card",
        "creditcard": "credit card",
        "nyc": "New York",
        "my purchase": "purchase",
    }
    assert data.lookups == {"city": ["Paris", "Berlin"]}
    assert data.regexes == {"order_id": [r"\d{2,10}"]}


def test_rasa_yaml_accepts_the_list_of_texts_examples_form() -> None:
    path = PROJECT / "nlu" / "extra" / "greetings.yaml"
    examples = by_text(read_nlu(path).examples)
    assert set(examples) == {"hello there", "hi Ana", "good morning"}
    assert examples["hi Ana"].entities == (EntitySpan("name", "Ana", 3, 6),)
    assert examples["hello there"].line == line_of(path, "hello there")


def test_rasa_yaml_syntax_error_raises_with_the_parser_line() -> None:
    path = INVALID / "syntax.yml"
    with pytest.raises(DataFormatError, match=r"syntax\.yml:7: YAML syntax error") as info:
        read_nlu(path)
    assert info.value.file == str(path)
    assert info.value.line == 7


def test_malformed_annotation_raises_with_file_and_line() -> None:
    path = INVALID / "annotations.yml"
    with pytest.raises(DataFormatError, match=r"annotations\.yml:4: unbalanced '\['"):
        read_nlu(path)


def test_explicit_yaml_without_nlu_key_raises() -> None:
    with pytest.raises(DataFormatError, match=r"top-level 'nlu:' key, found keys \['intents'\]"):
        read_nlu(INVALID / "domain_only.yml")


# --- folders and splits --------------------------------------------------------------


def test_folder_loads_nlu_yaml_recursively_and_skips_domain_sources_and_nested_tables() -> None:
    splits = read_splits(PROJECT)
    train, test = splits["train"], splits["test"]
    assert train.intents == ["cancel_order", "greet", "track_order"]
    assert len(train.examples) == 11
    assert "from_sources" not in train.intents + test.intents
    assert "from_nested" not in train.intents
    assert {e.text for e in test.examples} == {"where's parcel 31", "hey"}
    assert all("/test/" in e.source for e in test.examples)


def test_find_data_files_assigns_the_test_split_by_folder_name() -> None:
    files = {p.relative_to(PROJECT).as_posix(): split for p, split in find_data_files(PROJECT)}
    assert files == {
        "domain.yml": "train",
        "nlu/orders.yml": "train",
        "nlu/extra/greetings.yaml": "train",
        "test/nlu.yml": "test",
    }


def test_loading_the_test_folder_itself_puts_its_examples_in_train() -> None:
    splits = read_splits(PROJECT / "test")
    assert len(splits["train"].examples) == 2
    assert splits["test"].examples == []


def test_read_nlu_merges_train_and_test_and_several_paths() -> None:
    data = read_nlu([PROJECT, TABLES / "default.csv"])
    assert len(data.examples) == 13 + 3
    assert data.intents == sorted(set(data.intents))


def test_missing_path_raises_data_not_found_naming_the_path() -> None:
    with pytest.raises(DataNotFoundError, match=r"'no/such/dir' does not exist: expected a folder"):
        read_nlu("no/such/dir")


def test_folder_without_data_raises_data_not_found() -> None:
    with pytest.raises(DataNotFoundError, match=r"no training data found in .*empty_folder"):
        read_nlu(FIXTURES / "empty_folder")


def test_unsupported_file_type_raises() -> None:
    with pytest.raises(DataFormatError, match=r"unsupported file type '\.txt'"):
        read_nlu(FIXTURES / "empty_folder" / "README.txt")


# --- CSV, TSV, JSONL -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        (
            "default.csv",
            {},
            [
                ("where is my order", "track_order"),
                ("cancel it, please", "cancel_order"),
                ("hello", "greet"),
            ],
        ),
        (
            "named.csv",
            {"text_column": "utterance_text", "label_column": "gold"},
            [("where is my order", "track_order"), ("hi", "greet")],
        ),
        (
            "bitext_like.csv",
            {},
            [
                ("how can I cancel purchase 1135?", "cancel_order"),
                ("track order 55", "track_order"),
            ],
        ),
        (
            "queries.tsv",
            {"label_column": "query_class"},
            [("salon chair", "search_product"), ("help", "handoff")],
        ),
    ],
)
def test_tables_load_text_and_label_columns(
    name: str, kwargs: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    data = read_nlu(TABLES / name, **kwargs)
    assert [(e.text, e.intent) for e in data.examples] == expected


def test_csv_examples_record_their_line() -> None:
    lines = [e.line for e in read_nlu(TABLES / "default.csv").examples]
    assert lines == [2, 3, 5]


def test_csv_without_a_text_column_names_expected_and_found_columns() -> None:
    with pytest.raises(
        DataFormatError,
        match=r"no_text\.csv:1: expected a text column named one of \['text', .*\], "
        r"found columns \['foo', 'label'\]; pass --text-column",
    ):
        read_nlu(TABLES / "no_text.csv")


def test_csv_with_a_missing_named_column_says_which_name_was_asked() -> None:
    with pytest.raises(DataFormatError, match=r"expected a label column named 'gold', found"):
        read_nlu(TABLES / "default.csv", label_column="gold")


def test_csv_row_without_label_raises_with_line() -> None:
    with pytest.raises(DataFormatError, match=r"empty_label\.csv:3: empty label in column 'label'"):
        read_nlu(TABLES / "empty_label.csv")


def test_jsonl_loads_intent_or_label_keys_and_entities() -> None:
    examples = read_nlu(TABLES / "examples.jsonl").examples
    assert [(e.text, e.intent, e.line) for e in examples] == [
        ("where is order 4411", "track_order", 1),
        ("hi", "greet", 3),
        ("I paid by cc", "payment", 4),
    ]
    assert examples[0].entities == (EntitySpan("order_id", "4411", 15, 19),)
    assert examples[2].entities == (EntitySpan("method", "credit card", 10, 12),)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad.jsonl", r"bad\.jsonl:2: bad JSON: .*one JSON object per line"),
        ("bad_entity.jsonl", r"bad_entity\.jsonl:1: expected each entity .* 0 <= start < end <= 2"),
    ],
)
def test_malformed_jsonl_raises_with_line(name: str, message: str) -> None:
    with pytest.raises(DataFormatError, match=message):
        read_nlu(TABLES / name)


# --- load_dataset --------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_dataset() -> DatasetDict:
    return load_dataset(PROJECT, min_labels=2)


def test_load_dataset_has_train_and_test_splits_with_the_contract_columns(
    project_dataset: DatasetDict,
) -> None:
    ds = project_dataset
    assert set(ds) == {"train", "test"}
    assert ds["train"].num_rows == 11
    assert ds["test"].num_rows == 2
    assert ds["train"].column_names == ["text", "label", "entities"]
    names = ds["train"].features["label"].names
    assert names == ["cancel_order", "greet", "track_order"]
    row = next(r for r in ds["train"] if r["text"] == "where is my order 4411?")
    assert names[row["label"]] == "track_order"
    assert row["entities"] == [{"entity": "order_id", "value": "4411", "start": 18, "end": 22}]


def test_load_dataset_without_test_files_has_only_train() -> None:
    ds = load_dataset(TABLES / "default.csv")
    assert list(ds) == ["train"]
    assert ds["train"]["entities"] == [[], [], []]


def test_load_dataset_uses_given_label_names_in_their_order() -> None:
    names = ["track_order", "greet", "cancel_order", "unused"]
    ds = load_dataset(TABLES / "default.csv", label_names=names)
    assert ds["train"].features["label"].names == names
    assert ds["train"]["label"] == [0, 2, 1]


def test_load_dataset_with_label_names_missing_an_intent_raises() -> None:
    with pytest.raises(
        UnknownLabelError,
        match=r"found unknown intents \['cancel_order'\] \(first at .*default\.csv:3\)",
    ):
        load_dataset(TABLES / "default.csv", label_names=["greet", "track_order"])


def test_load_dataset_with_fewer_intents_than_min_labels_raises() -> None:
    with pytest.raises(
        TooFewLabelsError, match=r"expected at least 2 distinct intents .* found 1 \['greet'\]"
    ):
        load_dataset(PROJECT / "nlu" / "extra" / "greetings.yaml", min_labels=2)


# --- the package ---------------------------------------------------------------------


def test_importing_nlu_data_loads_no_ml_library() -> None:
    code = (
        "import sys\nimport nlu.data, nlu.importer, nlu.validate\n"
        "heavy = {'torch', 'transformers', 'datasets'} & set(sys.modules)\n"
        "assert not heavy, f'import nlu.data loaded {sorted(heavy)}'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_the_rasa_yaml_writer_is_one_function_wherever_it_is_imported_from() -> None:
    for name in ("clean_text", "format_example", "render_rasa_nlu", "write_rasa_nlu"):
        assert getattr(nlu.data, name) is getattr(nlu.data.rasa_yaml, name)
        assert name not in nlu.importer.__all__  # one home: nlu.data


def test_the_spaced_writer_puts_a_blank_line_after_the_comment_and_each_item() -> None:
    examples = [nlu.data.Example("hi", "greet"), nlu.data.Example("bye", "goodbye")]
    lookups = {"brand": ["Apple"]}
    spaced = nlu.data.render_rasa_nlu(examples, lookups=lookups, comment="Made here.", spaced=True)
    assert spaced == (
        '# Made here.\n\nversion: "3.1"\n\nnlu:\n'
        "- intent: greet\n  examples: |\n    - hi\n\n"
        "- intent: goodbye\n  examples: |\n    - bye\n\n"
        "- lookup: brand\n  examples: |\n    - Apple\n"
    )
    plain = nlu.data.render_rasa_nlu(examples, lookups=lookups, comment="Made here.")
    assert plain == spaced.replace("\n\n-", "\n-").replace("here.\n\n", "here.\n")

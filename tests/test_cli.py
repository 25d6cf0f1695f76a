"""`shopintent.cli`: library errors gain the flags that fix them; `serve` settings skip the environment."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from actions.errors import InvalidOptionError
from actions.store import list_orders
from nlu.errors import NluError
from shopintent.cli import build_parser, main
from shopintent.cli.common import describe
from shopintent.cli.serve import serve_settings


def test_a_library_error_names_the_setting_and_the_command_line_names_its_flag() -> None:
    exc = NluError("expected a .yml output, found out.txt", options=("out", "min_examples"))
    args = argparse.Namespace(out=None)  # this command has --out but no --min-examples

    assert (
        describe(exc, args) == "expected a .yml output, found out.txt (--out on the command line)"
    )


def test_an_error_without_options_keeps_its_message() -> None:
    assert describe(NluError("broken"), argparse.Namespace(out=None)) == "broken"


def test_the_library_says_what_is_wrong_without_naming_flags(tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError, match="at least 1") as info:
        list_orders(f"sqlite:///{tmp_path / 'shop.db'}", limit=0)

    assert "--" not in str(info.value)
    assert info.value.options == ("limit",)


def test_db_orders_with_a_bad_limit_exits_2_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"

    assert main(["db", "orders", "--database-url", url, "--limit", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: expected the limit to be at least 1") and "--limit" in err


def test_recs_train_from_a_missing_file_names_the_database_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recs", "train", "--data", str(tmp_path / "nope.txt")]) == 2
    assert "(--database-url on the command line)" in capsys.readouterr().err


def test_serve_flags_override_the_environment_without_changing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPINTENT_MODEL_DIR", "from-env")
    monkeypatch.setenv("SHOPINTENT_ACTION_ENDPOINT", "http://env:1/webhook")
    monkeypatch.delenv("SHOPINTENT_WEBHOOK_TOKEN", raising=False)
    args = build_parser().parse_args(
        ["serve", "--model", str(tmp_path / "m"), "--token", "t0ken", "--database-url", "sqlite://"]
    )

    settings = serve_settings(args)

    assert settings.model_dir == tmp_path / "m"
    assert settings.webhook_token == "t0ken"
    assert settings.database_url == "sqlite://"
    assert settings.action_endpoint == "http://env:1/webhook"  # not given: the environment's
    assert os.environ["SHOPINTENT_MODEL_DIR"] == "from-env"
    assert "SHOPINTENT_WEBHOOK_TOKEN" not in os.environ


def test_data_import_is_a_command_of_the_data_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["data", "--help"])

    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "validate" in out and "stats" in out and "import" in out

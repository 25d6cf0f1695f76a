"""The settings field types every package shares read the environment the same way."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from core.settings import BlankIsNone, CommaList, settings_config


class _Example(BaseSettings):
    model_config = settings_config(frozen=True)

    example_token: BlankIsNone = None
    example_origins: CommaList = ["http://default"]


@pytest.mark.parametrize("value", ["", "   "])
def test_a_blank_token_in_the_environment_is_unset(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SHOPINTENT_EXAMPLE_TOKEN", value)
    assert _Example(_env_file=None).example_token is None


def test_a_token_in_the_environment_is_kept_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPINTENT_EXAMPLE_TOKEN", " secret ")
    assert _Example(_env_file=None).example_token == " secret "


def test_a_comma_list_in_the_environment_is_split_and_trimmed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPINTENT_EXAMPLE_ORIGINS", " http://a ,http://b,, ")
    assert _Example(_env_file=None).example_origins == ["http://a", "http://b"]


def test_settings_config_sets_only_the_options_asked_for() -> None:
    assert settings_config() == {"env_prefix": "SHOPINTENT_", "env_file": ".env", "extra": "ignore"}
    assert settings_config(frozen=True)["frozen"] is True
    assert settings_config(populate_by_name=True)["populate_by_name"] is True

"""Settings: every one is listed in .env.example, and that file loads as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, BotSettings
from tests.bot.conftest import REPO

ENV_EXAMPLE = REPO / ".env.example"


def test_env_example_lists_every_bot_setting() -> None:
    listed = set(re.findall(r"^#? ?SHOPINTENT_([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))
    missing = {name.upper() for name in BotSettings.model_fields} - listed
    assert missing == set()


def test_env_example_copied_to_env_loads_in_every_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.config import ActionsSettings
    from bot.review.settings import ReviewSettings
    from nlu.config import NluSettings

    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text())
    monkeypatch.chdir(tmp_path)
    bot = BotSettings()
    assert bot.webhook_token is None
    assert bot.database_url == DEFAULT_DATABASE_URL
    assert bot.cors_origins == ["http://localhost:5005", "http://127.0.0.1:5005"]
    ReviewSettings()
    ActionsSettings()
    NluSettings()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPINTENT_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("SHOPINTENT_WEBHOOK_TOKEN", "t0k")
    monkeypatch.setenv("SHOPINTENT_ACTION_TIMEOUT_S", "2.5")
    settings = BotSettings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.webhook_token == "t0k"
    assert settings.action_timeout_s == 2.5


def test_a_bad_setting_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("SHOPINTENT_ACTION_TIMEOUT_S", "-1")
    with pytest.raises(ValidationError, match="action_timeout_s"):
        BotSettings()

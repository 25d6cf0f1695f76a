"""Transcript review: the inbox pages and JSON API.

`install(app, settings)` adds the `/review` pages and the `/api/review` routes to the
bot's app. The model that follows the registry's `current` pointer is `bot.model`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.review.settings import ReviewSettings, get_review_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.settings import BotSettings

logger = logging.getLogger(__name__)


def review_settings(app: FastAPI) -> ReviewSettings:
    """The review settings the app uses (a test's dependency override wins)."""
    getter = app.dependency_overrides.get(get_review_settings, get_review_settings)
    settings: ReviewSettings = getter()
    return settings


def check_configuration(app: FastAPI, settings: BotSettings) -> None:
    """Say at start-up when review is locked by its settings (and why): a warning in the log."""
    from bot.review.auth import configuration_problem

    review = review_settings(app)
    problem = configuration_problem(review, settings.webhook_token)
    if problem is None:
        return
    if review.review_token is None:
        logger.info("%s", problem)
    else:
        logger.warning("%s", problem)


def install(app: FastAPI, settings: BotSettings) -> None:
    """Add the review pages (`/review`) and the review API (`/api/review`) to the bot's app."""
    from bot.review import api, pages

    app.state.bot_settings = settings
    app.include_router(api.router)
    app.include_router(pages.router)


__all__ = [
    "ReviewSettings",
    "check_configuration",
    "get_review_settings",
    "install",
    "load_model",
    "review_settings",
]

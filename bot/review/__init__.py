"""Transcript review: the inbox pages and JSON API.

`install(app)` adds the `/review` pages and the `/api/review` routes to the bot's app;
their dependencies (the one review-auth check among them) are in `bot.review.deps`. The
model that follows the registry's `current` pointer is `bot.model`.
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


def install(app: FastAPI) -> None:
    """Add the review pages (`/review`) and the review API (`/api/review`) to the bot's app.

    Also the answer to a request without review access (`ReviewAuthError`): JSON 401 on
    the API, the login form on the pages and the agent console.
    """
    from bot.review import api, pages
    from bot.review.auth import ReviewAuthError

    app.include_router(api.router)
    app.include_router(pages.router)
    app.exception_handler(ReviewAuthError)(pages.login_required)


__all__ = [
    "ReviewSettings",
    "check_configuration",
    "get_review_settings",
    "install",
    "load_model",
    "review_settings",
]

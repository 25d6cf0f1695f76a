"""Every `BotError` names its status and code in its class line, and answers with them."""

from __future__ import annotations

import json

import bot.handoff.errors
import bot.review.auth
import bot.review.pages
import bot.review.store
from bot.errors import ActionRejectedError, BotError, RateLimitedError, error_response


def _all_errors(cls: type[BotError] = BotError) -> list[type[BotError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_errors(sub)]
    return found


def test_error_classes_of_every_bot_module_are_found() -> None:
    modules = {cls.__module__ for cls in _all_errors()}
    assert {
        bot.handoff.errors.__name__,
        bot.review.auth.__name__,
        bot.review.pages.__name__,
        bot.review.store.__name__,
    } <= modules


def test_each_error_class_has_its_own_code_and_an_error_status() -> None:
    errors = _all_errors()
    codes = [cls.code for cls in errors]
    assert len(codes) == len(set(codes)), sorted(codes)
    assert all(400 <= cls.status_code <= 599 for cls in errors)


def test_a_subclass_inherits_what_its_class_line_leaves_out() -> None:
    assert (ActionRejectedError.status_code, ActionRejectedError.code) == (502, "action_rejected")

    class TeapotError(BotError, code="teapot"):
        """A test error that names only its code."""

    assert (TeapotError.status_code, TeapotError.code) == (500, "teapot")
    assert (BotError.status_code, BotError.code) == (500, "bot_error")


def test_error_response_is_the_code_and_message_with_the_status() -> None:
    response = error_response(RateLimitedError("slow down", retry_after_s=7))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert json.loads(response.body) == {"error": "rate_limited", "message": "slow down"}

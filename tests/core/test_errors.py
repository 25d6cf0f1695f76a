"""`core.errors`: every library's base error is one `ShopintentError`, with its `options`."""

from __future__ import annotations

import pytest

from actions.errors import ActionsError, InvalidOptionError
from core.errors import ShopintentError
from nlu.errors import NluError, TrainDataError
from recs.errors import RecsError, TooLittleDataError


@pytest.mark.parametrize(
    ("kind", "base"),
    [
        (TrainDataError, NluError),
        (InvalidOptionError, ActionsError),
        (TooLittleDataError, RecsError),
    ],
)
def test_each_package_error_is_a_shopintent_error_with_its_options(
    kind: type[ShopintentError], base: type[ShopintentError]
) -> None:
    exc = kind("expected at least 1, found 0", options=("limit",))

    assert isinstance(exc, base) and isinstance(exc, ShopintentError)
    assert str(exc) == "expected at least 1, found 0"
    assert exc.options == ("limit",)
    assert kind("no options").options == ()

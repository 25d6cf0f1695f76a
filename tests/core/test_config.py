"""The settings dataclasses of `nlu` and `recs` check and list their values one way."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from core.config import field_defaults, field_names, value_checker


class _ExampleError(ValueError):
    """What the example's check raises."""


_check = value_checker(_ExampleError)


@dataclass
class _Example:
    rate: float = 0.5
    data: list[str] = field(default_factory=lambda: ["training_data"])

    def __post_init__(self) -> None:
        _check(0 < self.rate < 1, "rate", self.rate, "a number in (0, 1)")


@pytest.mark.parametrize("rate", [0.0, 1.5, float("nan")])
def test_a_bad_value_raises_the_packages_error_naming_expected_and_found(rate: float) -> None:
    with pytest.raises(_ExampleError, match=r"^rate: expected a number in \(0, 1\), found "):
        _Example(rate=rate)


def test_defaults_and_names_come_from_the_fields() -> None:
    assert field_defaults(_Example) == {"rate": 0.5, "data": ["training_data"]}
    assert field_names(_Example) == {"rate", "data"}

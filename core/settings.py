"""How every package reads its settings: one environment prefix, one `.env`, shared field types.

The bot, the review pages, the action server, `nlu` and `recs` each keep their own
`BaseSettings` class (and its cached getter) in their package; they share what a
setting *is* here, so `SHOPINTENT_WEBHOOK_TOKEN=""` means "unset" to each of them:

>>> from pydantic_settings import BaseSettings
>>> class Example(BaseSettings):
...     model_config = settings_config()
...     token: BlankIsNone = None
...     origins: CommaList = []
>>> Example(token="  ", origins="http://a, http://b,").model_dump()
{'token': None, 'origins': ['http://a', 'http://b']}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode, SettingsConfigDict

ENV_PREFIX = "SHOPINTENT_"
"""What every setting's environment variable starts with (`model_dir`: `SHOPINTENT_MODEL_DIR`)."""


def settings_config(*, frozen: bool = False, populate_by_name: bool = False) -> SettingsConfigDict:
    """The `model_config` of a package's settings.

    Read from `SHOPINTENT_*` variables and `.env`; names of other packages' settings
    (which share both) are ignored.

    Args:
        frozen: The settings cannot be changed after they are read.
        populate_by_name: The settings accept their field names as well as their aliases.
    """
    config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")
    # Only what is asked for is set: pydantic's defaults stay its own.
    if frozen:
        config["frozen"] = True
    if populate_by_name:
        config["populate_by_name"] = True
    return config


def blank_is(default: object) -> Callable[[object], object]:
    """A before-validator that reads an empty or all-blank string as `default`.

    Other values pass unchanged (and are validated as the field's type).

    >>> blank_is(None)(" "), blank_is("sqlite://")(""), blank_is(None)("x")
    (None, 'sqlite://', 'x')
    """

    def validate(value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return default
        return value

    return validate


def split_commas(value: object) -> object:
    """A before-validator that reads `"a, b,,c"` as `["a", "b", "c"]`; other values pass."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


BlankIsNone = Annotated[str | None, BeforeValidator(blank_is(None))]
"""An optional text setting (a secret, a URL) where empty or blank means unset."""

CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_commas)]
"""A list setting written comma separated in the environment (not as JSON)."""

"""Settings of the action server and its store (environment prefix `SHOPINTENT_`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings

from core.settings import BlankIsNone, settings_config

# The catalog copies ship with the repository, next to the packages.
_REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG_DIR = _REPO_ROOT / "training_data" / "sources" / "dummyjson-catalog"
DEFAULT_SQLITE_FILE = "shopintent.db"


class ActionsSettings(BaseSettings):
    """Configuration read from `SHOPINTENT_*` environment variables (or `.env`).

    Attributes:
        database_url: SQLAlchemy URL of the store. Empty means an SQLite file
            `shopintent.db` in the working directory.
        catalog_dir: Folder holding DummyJSON `products.json` and `carts.json`.
        auto_seed: Create and seed the store on first use when it is empty.
        seed: Random seed of the derived demo order history (same seed, same orders).
        sqlite_busy_timeout_ms: How long SQLite waits on a locked database.
        actions_secret: HMAC secret every `/webhook` call must be signed with
            (`X-Shopintent-Signature`); None accepts unsigned calls (development).
        max_lookup_failures: Failed order lookups in one conversation before order
            questions go to a person.
        max_client_lookup_failures: Failed order lookups per client address per hour.
        retention_days: Days ticket texts and lookup counters are kept (purged at
            start and daily).
        recs_dir: The personal recommender (`shopintent recs train`); missing: the
            shop-wide recommendations.
    """

    model_config = settings_config(frozen=True)

    database_url: str = ""
    catalog_dir: Path = DEFAULT_CATALOG_DIR
    auto_seed: bool = True
    seed: int = 20240601
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    actions_secret: BlankIsNone = None
    max_lookup_failures: int = Field(default=5, ge=1)
    max_client_lookup_failures: int = Field(default=20, ge=1)
    retention_days: int = Field(default=90, ge=1)
    recs_dir: Path = Path("models/recs")

    @property
    def resolved_database_url(self) -> str:
        """The database URL to use, with the SQLite default filled in."""
        if self.database_url.strip():
            return self.database_url.strip()
        return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"


@lru_cache(maxsize=1)
def get_settings() -> ActionsSettings:
    """Return the process-wide settings, read once from the environment."""
    return ActionsSettings()

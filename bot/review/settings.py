"""Settings of the review pages and of model hot-reload (prefix `SHOPINTENT_`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings

from core.settings import BlankIsNone, settings_config


class ReviewSettings(BaseSettings):
    """What the review pages, the review API and the model reloader read from the environment."""

    model_config = settings_config()

    review_token: BlankIsNone = Field(
        default=None,
        description="secret of the review pages and API (Bearer or login); unset disables review",
    )
    registry_dir: Path = Field(
        default=Path("models"), description="model registry the bot serves from"
    )
    model_reload_s: float = Field(
        default=2.0, ge=0, description="seconds between two looks at the registry's current pointer"
    )
    review_page_size: int = Field(default=50, ge=1, le=500, description="turns per inbox page")
    review_session_idle_s: float = Field(
        default=8 * 3600, gt=0, description="a review login ends after this many idle seconds"
    )
    review_login_max_failures: int = Field(
        default=5, ge=1, description="failed logins per client address before it must wait"
    )
    review_login_window_s: float = Field(
        default=600,
        gt=0,
        description="seconds without a failed login after which an address's failures are forgotten",
    )

    def follows_registry(self, model_dir: Path) -> bool:
        """Whether a bot configured with `model_dir` should serve the registry's current model.

        It does when `SHOPINTENT_REGISTRY_DIR` is set explicitly, or when the model folder
        lies inside the registry folder (the default `models/default` inside `models/`);
        a bot pointed at some other folder serves exactly that folder.
        """
        if "registry_dir" in self.model_fields_set:
            return True
        return Path(model_dir).resolve().is_relative_to(self.registry_dir.resolve())


@lru_cache(maxsize=1)
def get_review_settings() -> ReviewSettings:
    """Return the cached review settings (read from the environment on first use).

    Tests override this dependency with `app.dependency_overrides[get_review_settings]`.
    """
    return ReviewSettings()

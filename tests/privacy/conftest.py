"""The action tests' seeded shop stores, for the tests of the address and ticket plumbing."""

from __future__ import annotations

from tests.actions.conftest import fresh_shop, fresh_url, seeded_url, shop

__all__ = ["fresh_shop", "fresh_url", "seeded_url", "shop"]

"""The in-process moving window: counts, forgets what left the window, frees idle keys."""

from __future__ import annotations

import time

import pytest
from limits import parse

from bot.ratelimit import LocalWindows


def test_a_key_gets_its_limit_then_waits_for_the_oldest_hit_to_leave_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    windows = LocalWindows()
    item = parse("3/minute")

    assert [windows.hit(item, "a") for _ in range(3)] == [None, None, None]
    refused_until = windows.hit(item, "a")
    assert refused_until is not None
    assert refused_until - time.time() == pytest.approx(60.0, abs=1.0)
    assert windows.hit(item, "b") is None  # another key counts on its own

    clock[0] += 30
    assert windows.hit(item, "a") is not None  # refused hits are not counted
    clock[0] += 30.5
    assert windows.hit(item, "a") is None  # the first three left the window


def test_keys_whose_hits_all_expired_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    windows = LocalWindows()
    item = parse("5/second")
    for i in range(LocalWindows.SWEEP_EVERY - 1):
        windows.hit(item, f"shopper-{i}")
    clock[0] += 2.0

    windows.hit(item, "last")  # the sweep runs on this hit

    assert len(windows._hits) == 1

"""`shopintent serve`, `chat` and `up`: help is fast, mistakes exit 2 without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.bot.conftest import REPO
from tests.conftest import free_port


def shopintent(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopintent", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", [["serve"], ["chat"], ["up"]])
def test_each_command_has_help(command: list[str]) -> None:
    result = shopintent(*command, "--help")
    assert result.returncode == 0
    assert "usage: shopintent" in result.stdout


def test_serve_without_a_model_says_how_to_train_one(tmp_path: Path) -> None:
    result = shopintent("serve", "--model", str(tmp_path / "none"))
    assert result.returncode == 2
    assert "shopintent train" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_a_missing_domain_names_the_setting(tmp_path: Path) -> None:
    result = shopintent("serve", "--domain", str(tmp_path / "domain.yml"))
    assert result.returncode == 2
    assert "SHOPINTENT_DOMAIN_PATH" in result.stderr


@pytest.mark.slow
def test_up_starts_both_servers_and_ctrl_c_stops_them(
    tiny_model: Path, seeded_database: str, tmp_path: Path
) -> None:
    port, actions_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopintent", "up", "--model", str(tiny_model),
         "--port", str(port), "--actions-port", str(actions_port)],
        cwd=REPO,
        env={
            **os.environ,
            "SHOPINTENT_DATABASE_URL": seeded_database,
            "SHOPINTENT_WEBHOOK_TOKEN": "tok",
            "SHOPINTENT_RECS_DIR": str(tmp_path / "recs"),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "shopintent is up" in line:
                break
        assert any(f"http://localhost:{port}/" in line for line in lines), "".join(lines)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        assert httpx.post(url, json={"sender": "up", "message": "hi"}).status_code == 401
        answer = httpx.post(
            url, json={"sender": "up", "message": "hi"}, headers={"Authorization": "Bearer tok"}
        )
        assert answer.status_code == 200 and answer.json()[0]["text"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    for p in (port, actions_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{p}/health", timeout=2)

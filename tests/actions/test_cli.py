"""`shopintent db init|seed|orders` and `shopintent actions --help`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shopintent.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_db_init_seed_and_orders_work_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "init", "--database-url", url]) == 0
    assert main(["db", "seed", "--database-url", url]) == 0
    assert "seeded 194 products" in capsys.readouterr().out
    assert (
        main(
            ["db", "orders", "--database-url", url, "--status", "shipped", "--limit", "2", "--json"]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2
    assert {r["status"] for r in rows} == {"shipped"}
    assert set(rows[0]) == {
        "id",
        "status",
        "customer_id",
        "email",
        "customer",
        "total",
        "placed_at",
    }
    assert re.fullmatch(r"SI\d{10}", rows[0]["id"])
    assert rows[0]["customer_id"].isdigit() and "@" in rows[0]["email"]


def test_db_orders_prints_a_table(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "orders", "--database-url", seeded_url, "--limit", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["order", "status", "placed", "customer", "total"]
    assert len(lines) == 4
    assert all(re.match(r"SI\d{10}  ", line) for line in lines[1:])


def test_db_seed_twice_is_a_clean_error(
    seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "seed", "--database-url", seeded_url]) == 2
    err = capsys.readouterr().err
    assert "--reset" in err and "Traceback" not in err


def test_db_orders_on_an_empty_database_says_to_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "orders", "--database-url", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    assert "shopintent db init" in capsys.readouterr().err


def test_db_without_subcommand_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db"]) == 2
    assert "init" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv", [["db", "--help"], ["db", "orders", "--help"], ["actions", "--help"]]
)
def test_help_is_fast_and_imports_no_server(argv: list[str]) -> None:
    code = (
        "import sys\nfrom shopintent.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "assert 'actions.store' not in sys.modules and 'rasa_sdk' not in sys.modules, 'heavy'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "usage: shopintent" in done.stdout

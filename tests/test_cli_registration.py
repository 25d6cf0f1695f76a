"""`shopintent.cli.common`: a command's name, help line and description come from its handler."""

from __future__ import annotations

import argparse

import pytest

from shopintent.cli.common import add_command, add_group, help_of


def run_list_versions(args: argparse.Namespace) -> int:
    """List the versions, newest last.

    Every version of the registry, with its metrics, oldest first.

    Returns:
        0.
    """
    return 0


def serve_forever(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    return 0


def new_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser = argparse.ArgumentParser(prog="shopintent")
    return parser, parser.add_subparsers(dest="command", metavar="COMMAND")


def help_lines(sub: argparse._SubParsersAction) -> dict[str, str | None]:
    """What `shopintent --help` lists: each command's name and help line."""
    return {action.dest: action.help for action in sub._get_subactions()}


def test_a_command_is_named_after_its_handler_and_helped_by_its_docstring() -> None:
    parser, sub = new_parser()
    command = add_command(sub, run_list_versions)

    assert command.prog == "shopintent list-versions"
    assert command.description == "Every version of the registry, with its metrics, oldest first."
    assert help_lines(sub) == {"list-versions": "list the versions, newest last"}
    assert parser.parse_args(["list-versions"]).func is run_list_versions


def test_a_handler_not_named_run_needs_an_explicit_name() -> None:
    _, sub = new_parser()
    with pytest.raises(ValueError, match=r"expected a handler named run_<command>.*name="):
        add_command(sub, serve_forever)

    assert add_command(sub, serve_forever, name="serve").description is None


def test_a_group_takes_its_help_from_the_docstring_it_is_given() -> None:
    _, sub = new_parser()
    group = add_group(sub, "models", "Inspect model versions.\n\n    The model registry.")

    assert help_lines(sub) == {"models": "inspect model versions"}
    assert sub.choices["models"].description == "The model registry."
    assert group.dest == "models_command"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("Show one version.", ("show one version", None)),
        ("HTTP checks of the bot.", ("HTTP checks of the bot", None)),
        (
            "A table of intents.\n\n    Counts.\n\n    Args:\n        x: y.",
            ("a table of intents", "Counts."),
        ),
        (
            "Train on the data\n    and the reviews.\n\n    More.",
            ("train on the data and the reviews", "More."),
        ),
    ],
)
def test_the_help_line_drops_the_capital_and_full_stop_and_sections_stay_out(
    doc: str, expected: tuple[str, str | None]
) -> None:
    assert help_of(doc, "a handler") == expected


def test_a_handler_without_a_docstring_is_refused() -> None:
    with pytest.raises(ValueError, match="expected a docstring on the handler 'f', found none"):
        help_of(None, "the handler 'f'")

"""What every command module shares: registration, repeated options, error handling.

A command module declares its commands with `add_group` and `add_command`, takes its
options from the `add_*` helpers below when another command has the same option, and
leaves turning a library error into `error: ...` and exit code 2 to `run`.

Registration reads what it needs off the handler, as click and typer do: the handler
`run_validate` is the command `validate` (pass `name=` only where the command is
called otherwise), the first paragraph of its docstring is the command's help line in
`shopintent --help`, and the rest, up to an `Args:`/`Returns:`/`Raises:` section, is
the description its own `--help` shows. argparse re-flows the description, so the
docstring keeps its line breaks; the help line loses its full stop and its first
capital (unless it starts with an acronym), so the docstring keeps its sentence case:
`List the versions, newest last.` reads `list the versions, newest last`. A group
takes its help line and description the same way from the docstring of the function
that declares it, `add_group(sub, "data", register.__doc__)`. So a command module
reads:

    def register(sub: Subparsers) -> None:
        (docstring: "Validate and summarise training data." and a description)
        commands = add_group(sub, "data", register.__doc__)
        validate = add_command(commands, run_validate)
        validate.add_argument("--strict", action="store_true", help="also fail on warnings")
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, Protocol

from core.errors import ShopintentError
from core.paths import DEFAULT_DATA_DIR, DEFAULT_MODEL_DIR

Handler = Callable[[argparse.Namespace], int]
Subparsers = Any  # argparse's `_SubParsersAction`, which it does not export


class Options(Protocol):
    """What takes options: a parser, or one of its (mutually exclusive) groups."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action: ...


DEFAULT_DATA = Path(DEFAULT_DATA_DIR)
DEFAULT_MODEL = Path(DEFAULT_MODEL_DIR)
DEFAULT_RECS = Path("models/recs")
DEFAULT_REGISTRY = Path("models")
DEFAULT_ANNOTATIONS = Path("training_data/annotated.yml")
STORE_URL_HELP = "SQLAlchemy URL (default: SHOPINTENT_DATABASE_URL, else ./shopintent.db)"

# Flag spelling where it differs from the option's destination (`--` + dest with dashes).
FLAG_NAMES = {"output_dir": "--output"}
# Where the description in a handler's docstring ends.
GOOGLE_SECTION = re.compile(r"^(?:Args|Returns|Raises|Examples?):$", re.MULTILINE)


# -- registration ----------------------------------------------------------------------


def add_group(sub: Subparsers, name: str, doc: str | None) -> Subparsers:
    """Add a command group (`shopintent NAME COMMAND`) and return its subparsers.

    `shopintent NAME` without a command prints the group's help and exits with 2.

    Args:
        sub: The subparsers to add the group to.
        name: The group's name on the command line.
        doc: The docstring of the function that declares the group: its help line, then
            its description (see the module docstring).
    """
    help_line, description = help_of(doc, f"the group {name!r}")
    group = sub.add_parser(name, help=help_line, description=description)
    group.set_defaults(group_parser=group)
    return group.add_subparsers(dest=f"{name}_command", metavar="COMMAND")


def add_command(
    sub: Subparsers, func: Handler, *, name: str | None = None, description: str | None = None
) -> argparse.ArgumentParser:
    """Add the command handled by `func` and return its parser for the options.

    Args:
        sub: The subparsers (of the program or of a group) to add the command to.
        func: The handler, `run_<name>`; its docstring gives the help and description.
        name: The command's name where it is not the handler's name without `run_`.
        description: The description, where it is kept elsewhere than in the docstring.

    Raises:
        ValueError: The handler is not named `run_<name>` and no `name` is given, or
            it has no docstring.
    """
    if name is None:
        if not func.__name__.startswith("run_"):
            raise ValueError(
                f"expected a handler named run_<command>, found {func.__name__!r}; "
                "rename it or pass name= to add_command"
            )
        name = func.__name__.removeprefix("run_").replace("_", "-")
    help_line, doc_description = help_of(func.__doc__, f"the handler {func.__name__!r}")
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_line, description=description or doc_description
    )
    parser.set_defaults(func=func)
    return parser


def help_of(doc: str | None, owner: str) -> tuple[str, str | None]:
    """The one-line help and the description (None when there is none) in a docstring.

    Args:
        doc: The docstring: a summary paragraph, optionally a description, optionally
            Google-style sections, which are left out.
        owner: What the docstring belongs to, for the error message.

    Raises:
        ValueError: There is no docstring.
    """
    text = inspect.cleandoc(doc or "")
    if not text:
        raise ValueError(
            f"expected a docstring on {owner}, found none; its first paragraph is the "
            "command's help line, so write one"
        )
    summary, _, rest = text.partition("\n\n")
    help_line = " ".join(summary.split()).removesuffix(".")
    if not help_line[1:2].isupper():  # an acronym (`HTTP ...`) stays as it is
        help_line = help_line[:1].lower() + help_line[1:]
    description = GOOGLE_SECTION.split(rest, maxsplit=1)[0].strip()
    return help_line, description or None


# -- options more than one command has --------------------------------------------------


def add_database_url(parser: Options, help: str = STORE_URL_HELP, **kwargs: Any) -> None:
    """`--database-url`: the SQLAlchemy URL of the store (default: from the settings)."""
    parser.add_argument("--database-url", help=help, **kwargs)


def add_json(parser: argparse.ArgumentParser, help: str) -> None:
    """`--json`: print JSON instead of the human-readable output."""
    parser.add_argument("--json", action="store_true", help=help)


def add_model(
    parser: argparse.ArgumentParser,
    help: str = "model directory (default: models/default)",
    **kwargs: Any,
) -> None:
    """`--model`: a model folder; None (the settings' folder) unless `default` is given."""
    kwargs.setdefault("default", None)
    parser.add_argument("--model", type=Path, help=help, **kwargs)


def add_data_paths(parser: argparse.ArgumentParser, help: str, default: Any = None) -> None:
    """`--data PATH ...`: one or more training or labelled data files or folders."""
    parser.add_argument("--data", nargs="+", default=default, metavar="PATH", help=help)


def add_columns(
    parser: argparse.ArgumentParser, text: str, label: str, metavar: bool = True
) -> None:
    """`--text-column` and `--label-column`: where CSV/JSONL files keep the text and intent."""
    extra: dict[str, Any] = {"metavar": "NAME"} if metavar else {"default": None}
    parser.add_argument("--text-column", help=text, **extra)
    parser.add_argument("--label-column", help=label, **extra)


def add_training_data(parser: argparse.ArgumentParser, help: str) -> None:
    """`--training-data DIR`: the project's data folder, checked against (default: training_data)."""
    parser.add_argument(
        "--training-data", type=Path, default=DEFAULT_DATA, metavar="DIR", help=help
    )


def add_registry(parser: argparse.ArgumentParser) -> None:
    """`--registry DIR`: the model registry folder."""
    parser.add_argument(
        "--registry",
        type=Path,
        default=DEFAULT_REGISTRY,
        metavar="DIR",
        help="model registry folder (default: %(default)s)",
    )


def add_dataclass_flags(
    parser: argparse.ArgumentParser,
    config: type[Any],
    defaults: Mapping[str, Any],
    *,
    skip: frozenset[str] = frozenset(),
) -> None:
    """Add one flag per field of the settings dataclass `config`, each defaulting to None.

    The help is the field's `help` metadata plus its default; booleans get `--no-` forms,
    lists take one or more paths. A flag left out stays None, so the dataclass (or a
    JSON file of settings) supplies the value.
    """
    for f in fields(config):
        if f.name in skip:
            continue
        kind = str(f.type)
        kwargs: dict[str, Any] = {
            "dest": f.name,
            "default": None,
            "help": f.metadata.get("help", "")
            + ("" if defaults[f.name] is None else f" (default: {defaults[f.name]})"),
        }
        if kind.startswith("list["):
            kwargs.update(nargs="+", metavar="PATH")
        elif kind.startswith("bool"):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind.startswith("int"):
            kwargs["type"] = int
        elif kind.startswith("float"):
            kwargs["type"] = float
        else:
            kwargs["type"] = str
        parser.add_argument(flag_of(f.name), **kwargs)


def given(args: argparse.Namespace, config: type[Any]) -> dict[str, Any]:
    """The fields of the dataclass `config` whose flags were given, by field name."""
    values = {f.name: getattr(args, f.name, None) for f in fields(config)}
    return {name: value for name, value in values.items() if value is not None}


def positive_int(value: str) -> int:
    """An argparse `type`: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, found {number}")
    return number


# -- running a command ----------------------------------------------------------------


def flag_of(option: str) -> str:
    """The command-line flag of the setting `option` (`database_url` -> `--database-url`)."""
    return FLAG_NAMES.get(option, "--" + option.replace("_", "-"))


def user_errors() -> tuple[type[Exception], ...]:
    """The libraries' errors that mean bad input or state: a message, not a traceback.

    `nlu`, `actions` and `recs` derive theirs from `ShopintentError`; the bot's errors
    carry an HTTP status instead and have a base of their own.
    """
    from bot.errors import BotError

    return (ShopintentError, BotError)


def describe(exc: Exception, args: argparse.Namespace) -> str:
    """The error's message, plus the flags of this command that set what it names.

    A library error may list the settings that fix it in `exc.options` (its own
    parameter names); the command line names the flags it has for them.
    """
    message = str(exc)
    flags = [flag_of(name) for name in getattr(exc, "options", ()) if name in vars(args)]
    flags = [flag for flag in flags if flag not in message]
    if not flags:
        return message
    return f"{message} ({' / '.join(flags)} on the command line)"


def run(func: Handler, args: argparse.Namespace) -> int:
    """Run a command's handler; a library error becomes `error: ...` on stderr and exit 2.

    Returns:
        The handler's exit code; 2 after a library error, 130 after Ctrl-C.
    """
    try:
        return int(func(args) or 0)
    except user_errors() as exc:
        print(f"error: {describe(exc, args)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

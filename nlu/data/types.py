"""The records and errors of `nlu.data`: what every reader returns and raises.

:class:`Example`, :class:`EntitySpan` and :class:`NluData` are what the readers
(``rasa_yaml``, ``tables``) build and :func:`nlu.data.read_splits` returns;
:class:`Problem` is one finding of a lenient read. :class:`ProblemSink` is how a
reader reports a malformed line: it raises in strict mode and collects in lenient
mode, so the readers never branch on the mode themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from nlu.errors import NluError

Split = Literal["train", "test"]
Severity = Literal["error", "warning"]


class DataNotFoundError(NluError):
    """A data path does not exist, or a folder holds no training data."""


class DataFormatError(NluError):
    """A data file is malformed; carries the file and the 1-based line when known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")


class UnknownLabelError(NluError):
    """The data holds an intent missing from the label names the caller fixed."""


class TooFewLabelsError(NluError):
    """The training split has fewer distinct intents than the caller needs."""


@dataclass(frozen=True)
class EntitySpan:
    """One entity in an example; ``start``/``end`` index into the plain text."""

    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    """One training utterance: plain text (annotations stripped) and its intent."""

    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()
    source: str = ""
    line: int = 0


@dataclass
class NluData:
    """Examples plus the Rasa side tables (synonyms, lookups, regexes) of one split."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        """Sorted unique intent names."""
        return sorted({e.intent for e in self.examples})

    def extend(self, other: NluData) -> None:
        """Append ``other``'s examples and merge its side tables into this one."""
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        for name, values in other.lookups.items():
            self.lookups.setdefault(name, []).extend(values)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)


@dataclass(frozen=True)
class Problem:
    """A problem found while reading leniently (see ``problems`` in :func:`read_splits`)."""

    severity: Severity
    file: str
    line: int
    message: str


class ProblemSink:
    """Raises on the first error (strict) or collects every problem (lenient).

    Internal to the readers of this package; callers pass a ``problems`` list to
    :func:`nlu.data.read_splits` instead.
    """

    def __init__(self, problems: list[Problem] | None) -> None:
        self.problems = problems

    def error(self, message: str, file: str, line: int) -> None:
        """Report a malformed line: raise :class:`DataFormatError`, or record it when lenient."""
        if self.problems is None:
            raise DataFormatError(message, file=file, line=line)
        self.problems.append(Problem("error", file, line, message))

    def warning(self, message: str, file: str, line: int) -> None:
        """Record a warning when lenient; a strict read ignores warnings."""
        if self.problems is not None:
            self.problems.append(Problem("warning", file, line, message))

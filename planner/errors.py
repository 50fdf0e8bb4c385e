"""The error tree.

``InputError`` is for problems the user can fix (a CRS, a column, a date, a plan key); it carries every
problem found in a file so that one run reports them all. ``DataIOError`` is for files that cannot be read
at all. Anything else escaping the library is a bug in Primum, not in the user's data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MAX_LISTED_ROWS = 8


def rows_text(rows: Iterable[object], label: str = "row") -> str:
    """'lines 3, 7, 12' with long lists shortened, for messages."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:MAX_LISTED_ROWS])
    more = f" and {len(rows) - MAX_LISTED_ROWS} more" if len(rows) > MAX_LISTED_ROWS else ""
    return f"{label if len(rows) == 1 else label + 's'} {shown}{more}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, said so that a user can find and fix it.

    ``where`` names the row, key or feature (``row 12``, ``layers.idp.population``); ``fix`` says what to do.
    """

    source: str
    where: str
    message: str
    fix: str = ""
    # The rows of the file the problem is about (CSV lines, feature numbers), when it is about rows: a layer
    # whose only problems are a few such rows is read without them (see ``max_bad_rows``).
    rows: tuple[int, ...] = ()

    def __str__(self) -> str:
        place = f"{self.source}: {self.where}: " if self.where else f"{self.source}: "
        tail = f" Fix: {self.fix}" if self.fix else ""
        return f"{place}{self.message}.{tail}"


class PlannerError(Exception):
    """Root of every error Primum raises on purpose."""


class InputError(PlannerError, ValueError):
    """One or more problems in the user's inputs, each naming the file, the row or key, and the fix."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        if not self.problems:
            raise ValueError("an InputError needs at least one problem")
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    @classmethod
    def single(cls, source: str | Path, where: str, message: str, fix: str = "") -> InputError:
        return cls(Problem(str(source), where, message, fix))


class DataIOError(PlannerError, OSError):
    """A file that exists in the plan or layer set but cannot be opened or decoded."""


class DataQualityWarning(UserWarning):
    """Data that is usable but weakens the estimate (stale, coarse, town-level locations)."""


class Collector:
    """Gathers problems while a file is checked, then raises them together.

    Validation collects every problem and raises once, so a user fixes a file in one pass
    rather than one error per run.
    """

    def __init__(self, source: str | Path, skip_rows: frozenset[int] = frozenset()) -> None:
        self.source = str(source)
        self.problems: list[Problem] = []
        # Rows an earlier reading found unreadable and the layer is read without (listed as dropped).
        self.skip_rows = skip_rows
        self.rows_read = 0  # rows the file holds, as its reader found them

    def add(self, where: str, message: str, fix: str = "", rows: tuple[int, ...] = ()) -> None:
        self.problems.append(Problem(self.source, where, message, fix, rows))

    def add_rows(self, rows: Iterable[object], label: str, message: str, fix: str = "") -> None:
        """A problem of some rows of the file (``label`` is how they are counted: 'line' or 'feature')."""
        numbers = tuple(int(r) for r in rows)  # type: ignore[call-overload]
        self.add(rows_text(numbers, label), message, fix, numbers)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)


class RecordError(PlannerError):
    """Something the user asked of the record that it refuses, said so they know what to do."""

"""The error tree.

``InputError`` is for problems the user can fix (a CRS, a column, a date, a plan key); it carries every
problem found in a file so that one run reports them all. ``DataIOError`` is for files that cannot be read
at all. Anything else escaping the library is a bug in Primum, not in the user's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, said so that a user can find and fix it.

    ``where`` names the row, key or feature (``row 12``, ``layers.idp.population``); ``fix`` says what to do.
    """

    source: str
    where: str
    message: str
    fix: str = ""

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

    def __init__(self, source: str | Path) -> None:
        self.source = str(source)
        self.problems: list[Problem] = []

    def add(self, where: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(self.source, where, message, fix))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)

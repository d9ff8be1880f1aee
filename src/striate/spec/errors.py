"""Spec problems located by file, line and column, collected and raised together."""

from __future__ import annotations

from dataclasses import dataclass

from striate.layers.errors import StriateError


@dataclass(frozen=True)
class Problem:
    """One mistake in a spec: where it is (1-based line and column) and what it is."""

    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if not self.source:
            return self.message
        if self.line <= 0:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class SpecError(StriateError, ValueError):
    """A spec (or model file) has one or more problems; ``problems`` lists each of them.

    ``str(err)`` gives one ``file:line:col: message`` line per problem.
    """

    def __init__(self, problems: list[Problem] | str, where: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem("", 0, 0, problems)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems), where)


class Problems:
    """Collects problems while a spec is checked, so that all are reported at once."""

    def __init__(self, source: str, limit: int = 200) -> None:
        self.source = source
        self.items: list[Problem] = []
        self.limit = limit
        self.dropped = 0

    def add(self, pos: tuple[int, int] | None, message: str) -> None:
        """Record ``message`` at ``pos`` = (line, column), both 1-based (None: no position)."""
        line, col = pos if pos else (0, 0)
        if len(self.items) < self.limit:
            self.items.append(Problem(self.source, line, col, message))
        else:
            self.dropped += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        """Raise one SpecError listing every problem found so far, sorted by position."""
        if self.items:
            items = sorted(self.items, key=lambda p: (p.line, p.column))
            if self.dropped:
                items.append(Problem(self.source, 0, 0, f"… and {self.dropped} more problems"))
            raise SpecError(items)

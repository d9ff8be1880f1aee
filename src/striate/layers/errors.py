"""The errors striate raises for a user's mistake.

Every message is one line: where (a layer name, ``file:line`` or ``--option``), what went
wrong with the numbers, and how to fix it. The code that knows *where* adds it with
:meth:`StriateError.at`, so formulas can raise without knowing the layer's name.
"""

from __future__ import annotations


class StriateError(Exception):
    """Base class of every error caused by user input (a spec, a shape, an option, a file).

    The CLI prints ``striate: error: <message>`` and exits with status 2 for these.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def at(self, where: str) -> StriateError:
        """Return a copy of this error located at ``where`` (kept if already located)."""
        if self.where:
            return self
        clone = type(self).__new__(type(self))
        StriateError.__init__(clone, self.message, where)
        clone.__dict__.update({k: v for k, v in self.__dict__.items() if k != "where"})
        clone.where = where
        return clone

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ShapeError(StriateError, ValueError):
    """A layer cannot accept the shape it was given (a window that does not fit, a dense
    layer that expected another size, merged branches that disagree)."""


class ConfigError(StriateError, ValueError):
    """A layer, block or model option is invalid (a zero channel count, an unknown kind)."""

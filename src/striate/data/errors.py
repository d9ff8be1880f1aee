"""The errors raised for bad data: a missing, truncated or corrupt file, labels that do not
match the images, an unknown data set name.

Each message is one line naming the file (or the data set) and the fix.
"""

from __future__ import annotations

from striate.layers.errors import StriateError


class DataError(StriateError, ValueError):
    """A data set or data file is invalid (truncated, corrupt, inconsistent, unknown)."""


class MissingFileError(DataError, FileNotFoundError):
    """A file a data set needs is not there and could not be downloaded."""

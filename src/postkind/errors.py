"""Exceptions and warnings raised by postkind.

Library functions raise these; only the command line turns them into exit codes.
"""

from __future__ import annotations

from os import PathLike

__all__ = ["PostkindError", "DataError", "ModelError", "ModelVersionWarning"]


class PostkindError(Exception):
    """Base class of every error postkind raises on purpose."""


class DataError(PostkindError, ValueError):
    """Input data that cannot be used: names the file, row and column at fault.

    Parameters
    ----------
    message : str
        What is wrong and how to fix it.
    path : str or PathLike, optional
        The file at fault.
    row : int, optional
        1-based data row (the first row below a header is row 1).
    line : int, optional
        1-based line of the file, where rows cannot be counted (undecodable bytes).
    column : str, optional
        The column at fault.

    Examples
    --------
    >>> str(DataError("label is 'spam'", path="posts.csv", row=7, column="label"))
    "posts.csv, row 7, column 'label': label is 'spam'"
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        row: int | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.row = row
        self.line = line
        self.column = column
        self.message = message
        where = [
            part
            for part in (
                self.path,
                None if row is None else f"row {row}",
                None if line is None else f"line {line}",
                None if column is None else f"column {column!r}",
            )
            if part
        ]
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ModelError(PostkindError):
    """A model file that is missing, corrupt or not a postkind model."""


class ModelVersionWarning(UserWarning):
    """The model was saved by a different scikit-learn (or postkind) version."""

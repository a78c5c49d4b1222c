"""The terminal labeller behind ``postkind label``: one post at a time, one key per answer.

It shows each post of a file written by ``postkind sample`` with its position and the model's
guess, and reads one key: ``b`` broadcast, ``c`` conversational, ``s`` skip, ``u`` undo,
``q`` quit, ``?`` help. After every answer the file is rewritten atomically (a temporary file
renamed over it), so an interrupted session loses nothing and the next one resumes at the
first post without a label. Skipped posts get the label ``skip``, which ``postkind train``
ignores, as it ignores empty labels.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import stat
import sys
import tempfile
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import pandas as pd

from postkind.data import SKIP_LABEL, detect_format, read_table
from postkind.errors import DataError
from postkind.labels import BROADCAST, CONVERSATIONAL

__all__ = ["KEYS", "HELP", "label_file"]

#: The answer each key gives.
KEYS = {"b": BROADCAST, "c": CONVERSATIONAL, "s": SKIP_LABEL}
PROMPT = "[b]roadcast [c]onversational [s]kip [u]ndo [q]uit [?]help > "
HELP = """\
  b  broadcast       one-way: published to an audience, complete without an answer
  c  conversational  two-way: takes part in or opens an exchange with particular people
  s  skip            not sure, or not a post; training ignores skipped rows
  u  undo            clear the last answer and show that post again
  q  quit            stop; every answer is already saved, run again to resume
  ?  help            this list (the codebook: ../shared/CODEBOOK.md)
"""
_QUIT = ("q", "\x04")  # q or Ctrl-D
_GUESS, _CONFIDENCE = "postkind_guess", "postkind_confidence"


class _Keys:
    """Single keys from a terminal in cbreak mode, else the first character of each line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        try:
            self.fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        self.tty = self.fd is not None and os.isatty(self.fd)
        self._saved: Any = None

    def __enter__(self) -> _Keys:
        if self.tty:
            import termios
            import tty

            assert self.fd is not None
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._saved is not None:
            import termios

            assert self.fd is not None
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def __iter__(self) -> Iterator[str]:
        while True:
            if not self.tty:
                line = self.stream.readline()
                if not line:
                    return  # end of input: quit
                yield line.strip()[:1]
                continue
            assert self.fd is not None
            raw = os.read(self.fd, 1)
            if not raw:
                return
            if raw == b"\x1b":  # an arrow or function key: drop its escape sequence
                while select.select([self.fd], [], [], 0.02)[0]:
                    os.read(self.fd, 16)
                yield "\x1b"
                continue
            while raw[0] >= 0xC0 and len(raw) < 4:  # rest of a UTF-8 character
                try:
                    raw.decode("utf-8")
                    break
                except UnicodeDecodeError:
                    raw += os.read(self.fd, 1)
            yield raw.decode("utf-8", errors="replace")


def _save(frame: pd.DataFrame, path: Path, sep: str) -> None:
    """Rewrite ``path`` atomically: a temporary file in the same folder, then a rename."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False, sep=sep)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _next_unlabelled(labels: list[str], start: int) -> int | None:
    """The first row without a label from ``start`` on, else from the top, else ``None``."""
    order = list(range(start, len(labels))) + list(range(min(start, len(labels))))
    return next((i for i in order if not labels[i]), None)


class _Screen:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def say(self, text: str = "", end: str = "\n") -> None:
        try:
            self.out.write(text + end)
        except UnicodeEncodeError:  # a terminal that cannot show emoji
            encoding = getattr(self.out, "encoding", None) or "ascii"
            self.out.write((text + end).encode(encoding, "replace").decode(encoding))
        self.out.flush()

    def post(self, frame: pd.DataFrame, i: int, text_column: str, done: int) -> None:
        width = max(40, min(shutil.get_terminal_size((100, 24)).columns, 100)) - 4
        row = frame.iloc[i]
        self.say("\n" + f"--- {i + 1}/{len(frame)}  ({done} labelled) ".ljust(width, "-"))
        for paragraph in str(row[text_column]).splitlines() or [""]:
            self.say(
                textwrap.fill(paragraph, width, initial_indent="  ", subsequent_indent="  ") or "  "
            )
        if _GUESS in frame.columns and row[_GUESS]:
            confidence = row.get(_CONFIDENCE, "")
            shown = f" ({float(confidence):.2f})" if str(confidence).strip() else ""
            self.say(f"  model's guess: {row[_GUESS]}{shown}")
        self.say(PROMPT, end="")


def _counts(labels: list[str]) -> dict[str, int]:
    return {name: labels.count(name) for name in (BROADCAST, CONVERSATIONAL, SKIP_LABEL)}


def label_file(
    path: str | os.PathLike[str],
    *,
    text_column: str = "text",
    label_column: str = "label",
    keys: Iterable[str] | None = None,
    out: TextIO | None = None,
) -> dict[str, Any]:
    """Label the posts of a CSV file one by one, saving after every answer.

    Parameters
    ----------
    path : path
        A CSV (or TSV) file with a text column, such as ``postkind sample`` writes. A
        missing label column is added. Rows whose label is empty are the ones to label.
    text_column, label_column : str
        Column names.
    keys : iterable of str, optional
        The keys pressed, for scripts and tests; by default single keys from standard input
        when it is a terminal, else the first character of each line it gives.
    out : text stream, optional
        Where posts and prompts go (default standard output).

    Returns
    -------
    dict
        ``total`` rows, ``remaining`` without a label, counts of ``broadcast``,
        ``conversational`` and ``skip``, and ``quit`` (stopped before the end).

    Raises
    ------
    DataError
        The file cannot be read, is not CSV/TSV, or has no text column.
    KeyboardInterrupt
        Ctrl-C; every answer given so far is saved, and the terminal is restored.

    Examples
    --------
    >>> import io, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "to_label.csv"
    >>> _ = path.write_text("text,label\\nlol same,\\nNew post: http://x.co,\\nhi?,\\n")
    >>> result = label_file(path, keys="cbuq", out=io.StringIO())
    >>> result["conversational"], result["remaining"], result["quit"]
    (1, 2, True)
    >>> result = label_file(path, keys="bs", out=io.StringIO())  # resumes at row 2
    >>> path.read_text().splitlines()[1:]
    ['lol same,conversational', 'New post: http://x.co,broadcast', 'hi?,skip']
    """
    path = Path(path)
    fmt = detect_format(path, exports=False)
    if fmt not in ("csv", "tsv"):
        raise DataError(
            "postkind label edits CSV or TSV files; write the sample as .csv", path=path
        )
    frame = read_table(path, fmt=fmt)
    if text_column not in frame.columns:
        raise DataError(
            f"has no text column {text_column!r} (columns: "
            f"{', '.join(map(str, frame.columns))}); name it with --text-column",
            path=path,
        )
    if label_column not in frame.columns:
        frame[label_column] = ""
    labels = [str(v).strip() for v in frame[label_column]]
    sep = "\t" if fmt == "tsv" else ","
    screen = _Screen(out or sys.stdout)
    history: list[int] = []
    i = _next_unlabelled(labels, 0)
    quit_early = False
    reader = _Keys(sys.stdin) if keys is None else None
    with reader if reader is not None else contextlib.nullcontext():
        pressed = iter(reader if reader is not None else keys or "")
        while i is not None:
            screen.post(frame, i, text_column, sum(1 for v in labels if v))
            key = next(pressed, "q").lower()
            if key in KEYS:
                labels[i] = KEYS[key]
                frame[label_column] = labels
                _save(frame, path, sep)
                history.append(i)
                screen.say(f"{key} -> {KEYS[key]}")
                i = _next_unlabelled(labels, i + 1)
            elif key == "u":
                before = [j for j in range(i) if labels[j]]
                j = history.pop() if history else (before[-1] if before else None)
                if j is None:
                    screen.say("u: nothing to undo")
                    continue
                screen.say(f"u: undo {j + 1}/{len(frame)} (was {labels[j]})")
                labels[j] = ""
                frame[label_column] = labels
                _save(frame, path, sep)
                i = j
            elif key in _QUIT:
                screen.say("q")
                quit_early = True
                break
            elif key == "?":
                screen.say("?\n" + HELP, end="")
            else:
                screen.say(f"{key!r}: not a key here; press ? for help")
    remaining = sum(1 for v in labels if not v)
    return {
        "path": str(path),
        "total": len(labels),
        "remaining": remaining,
        **_counts(labels),
        "quit": quit_early and remaining > 0,
    }

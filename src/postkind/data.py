"""Reading posts from CSV, TSV, JSON Lines and Parquet files, with validation.

Every problem is raised as a :class:`~postkind.errors.DataError` naming the file, the row or
line, and the column at fault.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from postkind.errors import DataError
from postkind.exports import EXPORT_FORMATS, detect_export, iter_export
from postkind.labels import LABELS

__all__ = [
    "FORMATS",
    "WRITE_FORMATS",
    "TEXT_COLUMNS",
    "MIN_PER_LABEL",
    "SKIP_LABEL",
    "detect_format",
    "find_text_column",
    "iter_table",
    "read_table",
    "read_posts",
    "file_sha256",
]

#: File formats postkind reads, chosen by content, name and extension or by ``--format``:
#: the generic tables, then the platform exports of :mod:`postkind.exports`.
FORMATS = ("csv", "tsv", "jsonl", "parquet", *EXPORT_FORMATS)
#: The formats postkind writes.
WRITE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: Column names taken as the post text when exactly one of them is present (case-insensitive).
TEXT_COLUMNS = (
    "text",
    "full_text",
    "content",
    "message",
    "body",
    "post",
    "sharecommentary",
    "tweet",
    "status",
    "caption",
    "comment",
)
#: Fewest posts of each label that training accepts.
MIN_PER_LABEL = 10
#: The label ``postkind label`` gives a skipped post; with ``drop_unlabelled`` such rows and
#: rows with an empty label are left out of training.
SKIP_LABEL = "skip"
_SNIFF = 8192


def detect_format(
    path: str | os.PathLike[str], fmt: str | None = None, *, exports: bool = True
) -> str:
    """Return the format of ``path``: ``fmt`` when given, else a platform export recognised
    by :func:`postkind.exports.detect_export` (content first, then name), else the format
    its extension names.

    Pass ``exports=False`` for a path about to be written: only the extension decides.

    Examples
    --------
    >>> detect_format("posts.JSONL")
    'jsonl'
    >>> detect_format("-")
    'csv'
    >>> detect_format("archive/data/tweets.js")
    'x-archive'
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise DataError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    if str(path) == "-":
        return "csv"
    export = detect_export(path) if exports else None
    if export is not None:
        return export
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst", ".zip") and len(suffixes) > 1:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext not in _EXTENSIONS:
        raise DataError(
            f"cannot tell the format from the extension {ext or '(none)'!r}; "
            f"use --format with one of {', '.join(FORMATS)}",
            path=path,
        )
    return _EXTENSIONS[ext]


def find_text_column(columns: Sequence[str], *, path: str | os.PathLike[str] | None = None) -> str:
    """Pick the text column among ``columns`` when one obvious candidate exists.

    Examples
    --------
    >>> find_text_column(["id", "user", "Text"])
    'Text'
    """
    by_name = {str(c).strip().lower(): str(c) for c in columns}
    for name in TEXT_COLUMNS:
        if name in by_name:
            return by_name[name]
    raise DataError(
        f"no text column found among {list(columns)}; name it with --text-column",
        path=path,
    )


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_file(path: str | os.PathLike[str]) -> None:
    if str(path) == "-":
        return
    p = Path(path)
    if not p.exists():
        raise DataError("file not found; check the path", path=path)
    if p.is_dir():
        raise DataError("is a folder, not a file", path=path)
    if p.stat().st_size == 0:
        raise DataError("file is empty; it needs a header row and at least one post", path=path)


def _check_text_bytes(path: str | os.PathLike[str], head: bytes) -> None:
    if b"\x00" in head:
        raise DataError(
            "looks like a binary file (it holds NUL bytes), not CSV/TSV/JSON Lines text; "
            "pass a text file or use --format parquet for Parquet",
            path=path,
        )


def _bad_utf8_line(path: str | os.PathLike[str]) -> int:
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _utf8_error(path: str | os.PathLike[str], exc: UnicodeDecodeError) -> DataError:
    line = _bad_utf8_line(path) if str(path) != "-" else None
    return DataError(
        f"is not valid UTF-8 ({exc.reason} at byte {exc.object[exc.start : exc.end]!r}); "
        "re-save the file as UTF-8 (or read a CSV that Excel saved in Windows-1252 with "
        "--format excel-csv)",
        path=path,
        line=line or None,
    )


def _parser_error(path: str | os.PathLike[str], exc: Exception) -> DataError:
    msg = str(exc)
    match = re.search(r"line (\d+)", msg)
    detail = msg.split("C error:")[-1].strip()
    return DataError(
        f"malformed row: {detail}; quote fields that contain the delimiter, quotes or newlines",
        path=path,
        line=int(match.group(1)) if match else None,
    )


def _open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    if str(path) == "-":
        stream: Any = sys.stdin.buffer
        return stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    return open(path, "rb")


def iter_table(
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    chunk_size: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Yield a file's rows as DataFrames of strings, ``chunk_size`` rows at a time.

    Every column is read as text (CSV cells exactly as written, empty cells as ``""``), so
    rows can be written back unchanged. ``path`` may be ``"-"`` for standard input (CSV, or
    the given ``fmt``). Each chunk keeps a ``RangeIndex`` counting data rows from 0 across
    the whole file. Platform exports (see :mod:`postkind.exports`) give records: ``id``,
    ``created_at``, ``text``, the booleans ``is_reply`` and ``is_share``, then the
    export's own fields.

    Raises
    ------
    DataError
        Missing, empty, binary, non-UTF-8 or malformed input.
    """
    fmt = detect_format(path, fmt)
    _check_file(path)
    if fmt in EXPORT_FORMATS:
        start = 0
        for chunk in iter_export(path, fmt, chunk_size=chunk_size):
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            yield chunk
        return
    if fmt == "parquet":
        yield from _iter_parquet(path, chunk_size)
        return
    fh = _open_binary(path)
    try:
        head = fh.peek(_SNIFF)[:_SNIFF] if hasattr(fh, "peek") else b""
        _check_text_bytes(path, head)
        done = 0  # rows read by pyarrow, which pandas then skips
        if (
            fmt in ("csv", "tsv")
            and str(path) != "-"
            and Path(path).suffix.lower()
            in (
                ".csv",
                ".tsv",
                ".tab",
            )
        ):
            try:
                for chunk in _iter_csv_arrow(path, "\t" if fmt == "tsv" else ",", chunk_size):
                    yield chunk
                    done += len(chunk)
                return
            except _NeedsPandas:
                pass
        reader: Iterator[pd.DataFrame] | None = None
        start = 0
        columns: list[str] = []
        while True:
            try:
                if reader is None:
                    reader = _text_reader(fh, fmt, chunk_size)
                chunk = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError as exc:
                raise _utf8_error(path, exc) from exc
            except pd.errors.EmptyDataError as exc:
                raise DataError(
                    "has no header row; the first line must name the columns", path=path
                ) from exc
            except (pd.errors.ParserError, ValueError) as exc:
                raise _parser_error(path, exc) from exc
            if fmt == "jsonl":
                chunk = chunk.astype(object).where(chunk.notna(), "").astype(str)
                columns = columns or _jsonl_columns(path, chunk, chunk_size)
                columns += [str(c) for c in chunk.columns if str(c) not in columns]  # keep all
                chunk = chunk.reindex(columns=columns, fill_value="")
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            if start <= done:
                continue
            if start - len(chunk) < done:
                chunk = chunk.iloc[done - (start - len(chunk)) :]
            yield chunk
    finally:
        if fh is not getattr(sys.stdin, "buffer", None):
            fh.close()


def _jsonl_columns(path: str | os.PathLike[str], chunk: pd.DataFrame, chunk_size: int) -> list[str]:
    """The columns of every chunk of a JSON Lines file, so that rows written one chunk after
    another line up: records may carry different keys, so when the file holds more than one
    chunk, all its keys in order of appearance, found by one pass over it. Standard input
    cannot be read twice: there, the first chunk's keys."""
    if len(chunk) < chunk_size or str(path) == "-":
        return [str(c) for c in chunk.columns]
    import json

    seen: dict[str, None] = {}
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise DataError(
                    f"malformed JSON record ({exc}); each line must be one JSON object",
                    path=path,
                    line=number,
                ) from exc
            if isinstance(record, dict):
                seen.update(dict.fromkeys(map(str, record)))
    return list(seen) or [str(c) for c in chunk.columns]


def _text_reader(fh: IO[bytes], fmt: str, chunk_size: int) -> Iterator[pd.DataFrame]:
    if fmt == "jsonl":
        return iter(
            pd.read_json(fh, lines=True, chunksize=chunk_size, dtype=False, encoding="utf-8-sig")
        )
    return iter(
        pd.read_csv(
            fh,
            sep="\t" if fmt == "tsv" else ",",
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            index_col=False,
            encoding="utf-8-sig",
            chunksize=chunk_size,
        )
    )


class _NeedsPandas(Exception):
    """pyarrow stopped at something that pandas reads (or reports) differently."""


def _iter_csv_arrow(
    path: str | os.PathLike[str], sep: str, chunk_size: int
) -> Iterator[pd.DataFrame]:
    """Read a CSV or TSV file with pyarrow's reader (about twice as fast as pandas's), in
    frames of ``chunk_size`` rows equal to those of :func:`_text_reader`.

    Anything pyarrow reads differently from pandas stops it with :class:`_NeedsPandas`:
    rows with too few or too many fields, white-space-only lines, invalid UTF-8, empty or
    repeated column names. :func:`iter_table` then goes on with pandas (which also names the
    line of a malformed row) after the rows already given.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse = pacsv.ParseOptions(delimiter=sep, newlines_in_values=True)
    # Small blocks on one thread: tagging keeps both cores busy, and a block stays alive while
    # any chunk cut from it is in flight (4 MB blocks: 600 MB peak on 1M rows, 512 kB: 430 MB).
    read = pacsv.ReadOptions(block_size=1 << 19, use_threads=False)
    try:
        with pacsv.open_csv(path, read_options=read, parse_options=parse) as probe:
            names = probe.schema.names
    except (pa.ArrowInvalid, OSError) as exc:
        raise _NeedsPandas from exc
    if len(set(names)) != len(names) or not all(names):
        raise _NeedsPandas  # pandas renames them ("id.1", "Unnamed: 2")
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names}, strings_can_be_null=False
    )
    pending: list[pa.RecordBatch] = []
    held = start = 0

    def frame(table: pa.Table) -> pd.DataFrame:
        nonlocal start
        out = table.to_pandas()
        out.index = pd.RangeIndex(start, start + len(out))
        start += len(out)
        return out

    try:
        with pacsv.open_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        ) as reader:
            for batch in reader:
                pending.append(batch)
                held += batch.num_rows
                while held >= chunk_size:
                    table = pa.Table.from_batches(pending)
                    yield frame(table.slice(0, chunk_size))
                    rest = table.slice(chunk_size)
                    pending, held = rest.to_batches(), rest.num_rows
    except pa.ArrowInvalid as exc:
        raise _NeedsPandas from exc
    if held or not start:  # a file with a header only gives one empty frame, as pandas does
        schema = pa.schema([(name, pa.string()) for name in names])
        yield frame(pa.Table.from_batches(pending, schema=schema))


def _iter_parquet(path: str | os.PathLike[str], chunk_size: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"is not a readable Parquet file ({exc})", path=path) from exc
    start = 0
    for batch in parquet.iter_batches(batch_size=chunk_size):
        frame = batch.to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame))
        start += len(frame)
        yield frame


def read_table(path: str | os.PathLike[str], *, fmt: str | None = None) -> pd.DataFrame:
    """Read a whole file as a DataFrame of strings (see :func:`iter_table`).

    Raises
    ------
    DataError
        As :func:`iter_table`, and when the file has a header but no rows.
    """
    chunks = list(iter_table(path, fmt=fmt, chunk_size=100_000))
    if not chunks or sum(len(c) for c in chunks) == 0:
        raise DataError("has a header but no rows; add posts below the header", path=path)
    return pd.concat(chunks) if len(chunks) > 1 else chunks[0]


def _require_column(frame: pd.DataFrame, column: str, path: Any, what: str, flag: str) -> None:
    if column not in frame.columns:
        raise DataError(
            f"has no {what} column {column!r} (columns: {', '.join(map(str, frame.columns))}); "
            f"name the right one with {flag}",
            path=path,
        )


def _list_rows(rows: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def read_posts(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    text_column: str = "text",
    label_column: str = "label",
    fmt: str | None = None,
    min_per_label: int = 0,
    drop_unlabelled: bool = False,
) -> pd.DataFrame:
    """Read and validate labelled posts from one or more files.

    Parameters
    ----------
    paths : path or list of paths
        CSV, TSV, JSON Lines or Parquet files with a text and a label column.
    text_column, label_column : str
        Column names in every file.
    fmt : str, optional
        Force a format instead of guessing it from each extension.
    min_per_label : int
        Fewest posts of each label required across the files (training needs
        ``MIN_PER_LABEL``).
    drop_unlabelled : bool
        Leave out rows whose label is empty or ``skip`` (a file from ``postkind sample``
        that ``postkind label`` has filled in part) instead of raising. How many were left
        out per file is in ``frame.attrs["unlabelled"]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``text``, ``label``, ``source_file`` and ``source_row`` (1-based data row),
        plus any other columns of the files.

    Raises
    ------
    DataError
        Missing columns, empty texts, labels other than ``broadcast``/``conversational``
        (the rows are listed), or fewer than ``min_per_label`` posts of a label.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "posts.csv").write_text("text,label\\n@ana thanks!,conversational\\n")
    >>> read_posts(folder / "posts.csv")[["text", "label"]].values.tolist()
    [['@ana thanks!', 'conversational']]
    >>> _ = (folder / "to_label.csv").write_text("text,label\\nhi all,skip\\nlol,conversational\\n")
    >>> posts = read_posts(folder / "to_label.csv", drop_unlabelled=True)
    >>> len(posts), posts.attrs["unlabelled"][str(folder / "to_label.csv")]
    (1, 1)
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    frames = []
    unlabelled: dict[str, int] = {}
    for path in paths:
        frame = read_table(path, fmt=fmt)
        _require_column(frame, text_column, path, "text", "--text-column")
        _require_column(frame, label_column, path, "label", "--label-column")
        labels = frame[label_column].astype(str).str.strip().str.lower()
        if drop_unlabelled:
            keep = ~labels.isin(("", SKIP_LABEL, "nan", "none"))
            unlabelled[str(path)] = int((~keep).sum())
            frame, labels = frame[keep], labels[keep]
        bad = [int(i) + 1 for i in frame.index[~labels.isin(LABELS)]]
        if bad:
            values = sorted(set(frame.loc[[b - 1 for b in bad[:10]], label_column].astype(str)))
            raise DataError(
                f"labels must be {' or '.join(LABELS)}; found {values} in rows {_list_rows(bad)}",
                path=path,
                row=bad[0],
                column=label_column,
            )
        texts = frame[text_column].astype(str)
        empty = [int(i) + 1 for i in frame.index[texts.str.strip() == ""]]
        if empty:
            raise DataError(
                f"empty post text in rows {_list_rows(empty)}; fill or remove those rows",
                path=path,
                row=empty[0],
                column=text_column,
            )
        out = frame.rename(columns={text_column: "text", label_column: "label"})
        out["text"] = texts.values
        out["label"] = labels.values
        out["source_file"] = str(path)
        out["source_row"] = frame.index + 1
        frames.append(out)
    posts = pd.concat(frames, ignore_index=True)
    if drop_unlabelled:
        posts.attrs["unlabelled"] = unlabelled
    counts = posts["label"].value_counts()
    for label in LABELS:
        if counts.get(label, 0) < min_per_label:
            raise DataError(
                f"has {counts.get(label, 0)} posts labelled {label!r}; training needs at least "
                f"{min_per_label} of each label",
                path=", ".join(map(str, paths)),
                column=label_column,
            )
    return posts

"""Prediction: labels for posts in Python, and streaming batch tagging of files."""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import IO, Any, overload

import numpy as np
import pandas as pd

from postkind.data import WRITE_FORMATS, detect_format, find_text_column, iter_table
from postkind.errors import DataError
from postkind.labels import CONVERSATIONAL, UNCERTAIN
from postkind.model import Model, load_model

__all__ = [
    "DEFAULT_MODEL",
    "LABEL_COLUMN",
    "CONFIDENCE_COLUMN",
    "predict",
    "predict_proba",
    "resolve_model",
    "tag",
    "tag_frame",
    "tag_file",
]

#: Where the model is looked for when neither an argument nor ``POSTKIND_MODEL`` names one.
DEFAULT_MODEL = Path("models") / "postkind.joblib"
LABEL_COLUMN = "postkind_label"
CONFIDENCE_COLUMN = "postkind_confidence"

_cache: dict[tuple[str, float], Model] = {}


def _model_path(model: str | os.PathLike[str] | None) -> Path:
    return Path(model or os.environ.get("POSTKIND_MODEL") or DEFAULT_MODEL).resolve()


def resolve_model(model: Model | str | os.PathLike[str] | None = None) -> Model:
    """Return a fitted model: ``model`` itself, the file it names, ``$POSTKIND_MODEL``, or
    ``models/postkind.joblib``. Files are loaded once and cached until they change.
    """
    if isinstance(model, Model):
        return model
    path = _model_path(model)
    key = (str(path), path.stat().st_mtime if path.exists() else -1.0)
    if key not in _cache:
        _cache.clear()
        _cache[key] = load_model(path)
    return _cache[key]


@overload
def predict(  # type: ignore[overload-overlap]
    texts: str, *, model: Model | str | os.PathLike[str] | None = None
) -> str: ...
@overload
def predict(
    texts: Iterable[str], *, model: Model | str | os.PathLike[str] | None = None
) -> list[str]: ...
def predict(
    texts: str | Iterable[str], *, model: Model | str | os.PathLike[str] | None = None
) -> str | list[str]:
    """Label one post (a string) or many (any iterable of strings).

    Examples
    --------
    >>> predict("@sam thanks, see you tomorrow!", model=MODEL)
    'conversational'
    >>> predict(["New blog post: 10 tips for spring gardening https://t.co/xyz"], model=MODEL)
    ['broadcast']
    """
    fitted = resolve_model(model)
    if isinstance(texts, str):
        return fitted.predict([texts])[0]
    return fitted.predict([str(t) for t in texts])


@overload
def predict_proba(  # type: ignore[overload-overlap]
    texts: str, *, model: Model | str | os.PathLike[str] | None = None
) -> float: ...
@overload
def predict_proba(
    texts: Iterable[str], *, model: Model | str | os.PathLike[str] | None = None
) -> np.ndarray: ...
def predict_proba(
    texts: str | Iterable[str], *, model: Model | str | os.PathLike[str] | None = None
) -> float | np.ndarray:
    """Probability that each post is ``conversational`` (a float for a string).

    Examples
    --------
    >>> p = predict_proba("@sam thanks, see you tomorrow!", model=MODEL)
    >>> 0.5 < p <= 1.0
    True
    """
    fitted = resolve_model(model)
    if isinstance(texts, str):
        return float(fitted.predict_proba([texts])[0])
    return fitted.predict_proba([str(t) for t in texts])


def tag_frame(
    frame: pd.DataFrame,
    text_column: str,
    *,
    model: Model | str | os.PathLike[str] | None = None,
    min_confidence: float | None = None,
) -> pd.DataFrame:
    """Return ``frame`` with ``postkind_label`` and ``postkind_confidence`` appended.

    Empty or missing texts get an empty label and no confidence; rows are never dropped.
    Rows whose confidence is below ``min_confidence`` get the label ``uncertain``.
    """
    fitted = resolve_model(model)
    texts = frame[text_column]
    present = texts.notna().to_numpy() & (texts.astype(str).str.strip() != "").to_numpy()
    labels = np.full(len(frame), "", dtype=object)
    confidence = np.full(len(frame), np.nan)
    if present.any():
        proba = fitted.predict_proba(texts[present].astype(str).tolist())
        chosen = np.asarray(fitted.labels_for(proba), dtype=object)
        conf = np.where(chosen == CONVERSATIONAL, proba, 1.0 - proba)
        if min_confidence is not None:
            chosen[conf < min_confidence] = UNCERTAIN
        labels[present] = chosen
        confidence[present] = conf
    out = frame.copy()
    out[LABEL_COLUMN] = labels
    out[CONFIDENCE_COLUMN] = confidence
    return out


def tag(
    rows: Iterable[dict[str, Any]],
    *,
    text_column: str = "text",
    model: Model | str | os.PathLike[str] | None = None,
    min_confidence: float | None = None,
    chunk_size: int = 10_000,
) -> Iterator[dict[str, Any]]:
    """Tag an iterable of row dicts lazily, yielding each row with the two label fields.

    Examples
    --------
    >>> rows = [{"id": 1, "text": "@sam thanks, see you tomorrow!"}, {"id": 2, "text": ""}]
    >>> [(r["id"], r["postkind_label"]) for r in tag(rows, model=MODEL)]
    [(1, 'conversational'), (2, '')]
    """
    fitted = resolve_model(model)
    batch: list[dict[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        frame = tag_frame(
            pd.DataFrame(batch), text_column, model=fitted, min_confidence=min_confidence
        )
        records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
        for record in records:
            if record[CONFIDENCE_COLUMN] != record[CONFIDENCE_COLUMN]:  # NaN: no text
                record[CONFIDENCE_COLUMN] = None
            yield record

    for row in rows:
        batch.append(dict(row))
        if len(batch) >= chunk_size:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


# --- batch tagging of files -------------------------------------------------------------------

_worker_model: Model | None = None


def _init_worker(model: Model | str) -> None:
    global _worker_model
    _worker_model = resolve_model(model)


def _tag_chunk(
    frame: pd.DataFrame, text_column: str, min_confidence: float | None, fmt: str, header: bool
) -> tuple[bytes | pd.DataFrame, int, int]:
    assert _worker_model is not None
    return _tag_encoded(frame, text_column, min_confidence, _worker_model, fmt, header)


def _tag_encoded(
    frame: pd.DataFrame,
    text_column: str,
    min_confidence: float | None,
    model: Model,
    fmt: str,
    header: bool,
) -> tuple[bytes | pd.DataFrame, int, int]:
    """Tag one chunk and encode it for the output: the payload, its rows and tagged rows."""
    out = tag_frame(frame, text_column, model=model, min_confidence=min_confidence)
    return _encode(out, fmt, header), len(out), int((out[LABEL_COLUMN] != "").sum())


def _encode(frame: pd.DataFrame, fmt: str, header: bool) -> bytes | pd.DataFrame:
    """The bytes that ``frame`` adds to a CSV, TSV or JSON Lines output (a Parquet output
    takes the frame itself)."""
    if fmt == "parquet":
        return frame
    if fmt == "jsonl":
        return _jsonl_bytes(frame)
    sep = "\t" if fmt == "tsv" else ","
    fast = _csv_bytes(frame, sep, header)
    if fast is not None:
        return fast
    return frame.to_csv(index=False, header=header, sep=sep, na_rep="").encode("utf-8")


def _jsonl_bytes(frame: pd.DataFrame) -> bytes:
    """JSON Lines as ``to_json`` writes them, but with confidences written in full (``to_json``
    keeps 10 digits), so that they equal :func:`predict_proba`'s."""
    if not len(frame):
        return b""
    if frame.columns[-1] != CONFIDENCE_COLUMN or frame[CONFIDENCE_COLUMN].dtype != np.float64:
        return frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    rest = frame.iloc[:, :-1].to_json(orient="records", lines=True, force_ascii=False)
    key = json.dumps(CONFIDENCE_COLUMN)
    values = ["null" if c != c else repr(c) for c in frame[CONFIDENCE_COLUMN].tolist()]
    lines = rest.rstrip("\n").split("\n")
    return "".join(
        f"{line[:-1]},{key}:{value}}}\n" for line, value in zip(lines, values, strict=True)
    ).encode("utf-8")


@functools.lru_cache(maxsize=4)
def _quoting_class(sep: str) -> str:
    """A regular expression matching the characters that make ``to_csv`` quote a field
    (Python's csv module decides, and its rules have changed between versions, so it is
    asked), for one pass per column."""
    candidates = [
        sep,
        '"',
        "\n",
        "\r",
        "\x0b",
        "\x0c",
        "\x1c",
        "\x1d",
        "\x1e",
        "\x85",
        "\u2028",
        "\u2029",
        " ",
        "'",
        ",",
        "\t",
        ";",
    ]
    found = tuple(
        c
        for c in dict.fromkeys(candidates)
        if pd.DataFrame({"a": [f"x{c}y"], "b": ["z"]})
        .to_csv(index=False, header=False, sep=sep)
        .startswith('"')
    )
    # to_csv leaves a lone carriage return unquoted, and every CSV reader (pandas's and
    # pyarrow's included) then ends the row there: quote it so rows read back whole.
    chars = found if "\r" in found else (*found, "\r")
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"


def _csv_bytes(frame: pd.DataFrame, sep: str, header: bool) -> bytes | None:
    """``frame.to_csv(index=False, header=header, sep=sep, na_rep="")``, byte for byte, built
    with pyarrow's vectorised kernels (about 10 times faster), except that a field holding a
    carriage return is quoted; ``None`` for a frame with anything but text columns without
    missing values and float columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(frame) == 0 or len(frame.columns) < 2:
        return None
    string = pa.large_string()
    quote, empty = pa.scalar('"', string), pa.scalar("", string)
    fields = []
    for name in frame.columns:
        column = frame[name]
        if column.dtype == np.float64:
            values = column.to_numpy()
            finite = np.abs(values[np.isfinite(values)])
            if np.isinf(values).any() or ((finite < 1e-4) | (finite >= 1e15)).any():
                return None  # exponents: pandas and pyarrow write them differently
            text = pc.cast(pa.array(values), string)
            fix = np.isnan(values) | (values == np.floor(values))
            if fix.any():  # pyarrow writes 1.0 as "1" and NaN as "nan"
                patched = text.to_numpy(zero_copy_only=False).astype(object)
                patched[fix] = values[fix].astype(str)
                patched[np.isnan(values)] = ""
                text = pa.array(patched, type=string)
        elif pd.api.types.is_string_dtype(column) and not column.isna().any():
            text = pa.array(
                column.array
                if isinstance(column.dtype, pd.StringDtype)
                else column.to_numpy(dtype=object),
                type=string,
            )
        else:
            return None
        if isinstance(text, pa.ChunkedArray):  # pyarrow-backed strings read in blocks
            text = text.combine_chunks()
        if column.dtype == np.float64:
            fields.append(text)  # digits, "." and "-" only: never quoted
            continue
        special = pc.match_substring_regex(text, _quoting_class(sep))
        if pc.any(special).as_py():
            quoted = pc.binary_join_element_wise(
                quote, pc.replace_substring(text, '"', '""'), quote, empty
            )
            text = pc.if_else(special, quoted, text)
        fields.append(text)
    lines = pc.binary_join_element_wise(
        pc.binary_join_element_wise(*fields, pa.scalar(sep, string)), empty, pa.scalar("\n", string)
    )
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    body = lines.buffers()[2].to_pybytes()[
        offsets[lines.offset] : offsets[lines.offset + len(lines)]
    ]
    if not header:
        return body
    return frame.iloc[:0].to_csv(index=False, sep=sep).encode("utf-8") + body


class _Writer:
    """Writes tagged chunks to a temporary file, renamed over the output when complete."""

    def __init__(self, output: str | os.PathLike[str], fmt: str) -> None:
        self.fmt = fmt
        self.to_stdout = str(output) == "-"
        self.rows = 0
        self.started = False
        self._parquet: Any = None
        if self.to_stdout:
            self.path = None
            self.tmp = None
            self.fh: IO[bytes] = sys.stdout.buffer
        else:
            self.path = Path(output)
            fd, tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent
            )
            self.tmp = Path(tmp)
            self.fh = os.fdopen(fd, "wb")

    def write(self, frame: pd.DataFrame) -> None:
        self.write_encoded(_encode(frame, self.fmt, header=not self.started), len(frame))

    def write_encoded(self, payload: bytes | pd.DataFrame, rows: int) -> None:
        """Append what :func:`_encode` made of a chunk of ``rows`` rows."""
        if isinstance(payload, pd.DataFrame):
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(payload, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.fh, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        else:
            self.fh.write(payload)
        self.started = True
        self.rows += rows

    def commit(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self.to_stdout:
            self.fh.flush()
            return
        self.fh.close()
        assert self.tmp is not None and self.path is not None
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self.to_stdout:
            return
        try:
            self.fh.close()
        finally:
            assert self.tmp is not None
            self.tmp.unlink(missing_ok=True)


def _check_output(input_path: str | os.PathLike[str], output: str | os.PathLike[str]) -> None:
    if str(output) == "-":
        return
    out = Path(output)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(
            f"output folder {str(folder)!r} does not exist; create it first", path=output
        )
    if not os.access(folder, os.W_OK):
        raise DataError(f"output folder {str(folder)!r} is not writable", path=output)
    if str(input_path) != "-" and out.exists() and out.resolve() == Path(input_path).resolve():
        raise DataError("output path is the input file; write to another file", path=output)
    if out.is_dir():
        raise DataError("output path is a folder; give a file name", path=output)


def tag_file(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    model: Model | str | os.PathLike[str] | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    min_confidence: float | None = None,
    chunk_size: int = 5_000,
    jobs: int | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Tag every row of a file, streaming it in chunks, and write the rows in input order.

    All input columns are kept; ``postkind_label`` and ``postkind_confidence`` (probability
    of the chosen label) are appended. Output goes to a temporary file in the output folder
    that is renamed into place only when every row is written, so a failed run leaves no
    partial file. ``"-"`` reads standard input or writes standard output.

    Parameters
    ----------
    input_path, output_path : path or "-"
        Files to read and write (CSV, TSV, JSON Lines or Parquet, chosen by extension).
    text_column : str, optional
        Column holding the post; detected when one obvious candidate exists.
    model : Model or path, optional
        See :func:`resolve_model`.
    input_format, output_format : str, optional
        Override the format given by the extension.
    min_confidence : float, optional
        Rows below this confidence get the label ``uncertain``.
    chunk_size : int
        Rows per chunk; memory use grows with it, not with the file (5,000: ~470 MB peak
        for the process with two threads on real posts, against ~530 MB for 20,000).
    jobs : int, optional
        Worker threads (processes for a model the fast path cannot score); default all
        cores. ``1`` tags in this thread.
    progress : bool, optional
        Show a progress bar; by default only when standard error is a terminal.

    Returns
    -------
    dict
        ``rows``, ``tagged`` (rows with a text), ``text_column``, ``output``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "in.csv").write_text("id,message\\n1,@sam thanks!\\n2,\\n")
    >>> tag_file(folder / "in.csv", folder / "out.csv", model=MODEL, jobs=1)["rows"]
    2
    >>> print((folder / "out.csv").read_text().splitlines()[2])
    2,,,
    """
    in_fmt = detect_format(input_path, input_format)
    out_fmt = detect_format(output_path, output_format, exports=False)
    if out_fmt not in WRITE_FORMATS:
        raise DataError(
            f"cannot write format {out_fmt!r}; choose one of {', '.join(WRITE_FORMATS)}",
            path=output_path,
        )
    _check_output(input_path, output_path)
    fitted = resolve_model(model)
    jobs = max(1, jobs or os.cpu_count() or 1)
    chunks = iter_table(input_path, fmt=in_fmt, chunk_size=chunk_size)
    first = next(chunks, None)
    if first is None or len(first.columns) == 0:
        raise DataError("has no header row; the first line must name the columns", path=input_path)
    column = text_column or find_text_column(list(first.columns), path=input_path)
    if column not in first.columns:
        raise DataError(
            f"has no column {column!r} (columns: {', '.join(map(str, first.columns))})"
            "; name the text column with --text-column",
            path=input_path,
        )
    show = sys.stderr.isatty() if progress is None else progress
    writer = _Writer(output_path, out_fmt)
    tagged = 0

    def all_chunks() -> Iterator[pd.DataFrame]:
        # Rows are written under the first chunk's header: every chunk gets its columns.
        yield first
        for chunk in chunks:
            if list(chunk.columns) != list(first.columns):
                extra = [str(c) for c in chunk.columns if c not in first.columns]
                if extra:
                    raise DataError(
                        f"has columns that the rows before it lack ({', '.join(extra[:5])}); "
                        "give every row the same columns",
                        path=input_path,
                        row=int(chunk.index[0]) + 1,
                    )
                chunk = chunk.reindex(columns=first.columns, fill_value="")
            yield chunk

    from tqdm import tqdm

    bar = tqdm(unit=" posts", disable=not show, file=sys.stderr, smoothing=0.1)
    try:
        for payload, rows, chunk_tagged in _map_ordered(
            all_chunks(), column, min_confidence, fitted, model, jobs, out_fmt
        ):
            writer.write_encoded(payload, rows)
            tagged += chunk_tagged
            bar.update(rows)
        if not writer.started:
            writer.write(tag_frame(first, column, model=fitted))  # header only: keep header
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    return {
        "rows": writer.rows,
        "tagged": tagged,
        "text_column": column,
        "output": str(output_path),
    }


def _map_ordered(
    frames: Iterator[pd.DataFrame],
    column: str,
    min_confidence: float | None,
    fitted: Model,
    model: Model | str | os.PathLike[str] | None,
    jobs: int,
    fmt: str,
) -> Iterator[tuple[bytes | pd.DataFrame, int, int]]:
    """Tag and encode frames on ``jobs`` processes, yielding them in input order, with a
    bounded number of chunks in flight so memory stays flat."""
    if jobs == 1:
        for index, frame in enumerate(frames):
            yield _tag_encoded(frame, column, min_confidence, fitted, fmt, index == 0)
        return
    from postkind.scoring import cached_scorer

    pending: deque[Future[tuple[bytes | pd.DataFrame, int, int]]] = deque()
    pool: Executor
    if cached_scorer(fitted) is not None:
        # The compiled scorer, pyarrow and the CSV parser release the GIL: threads share one
        # model in one process, with no copies of chunks or model between processes.
        pool = ThreadPoolExecutor(jobs)
        work: Callable[..., tuple[bytes | pd.DataFrame, int, int]] = partial(
            _tag_encoded, model=fitted
        )
    else:
        # scikit-learn's analyzers hold the GIL: processes, each loading the model once from
        # its file, or unpickling it once from initargs.
        source: Model | str = model if isinstance(model, Model) else str(_model_path(model))
        pool = ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(source,))
        work = _tag_chunk
    with pool:
        for index, frame in enumerate(frames):
            pending.append(
                pool.submit(work, frame, column, min_confidence, fmt=fmt, header=index == 0)
            )
            if len(pending) >= jobs + 1:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

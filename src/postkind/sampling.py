"""Sampling posts to label: the ones the model is least sure about, spread over the input.

This is the first step of the labelling loop: ``postkind sample`` picks posts, ``postkind
label`` lets a person label them, and ``postkind train --data data/posts.csv --data
to_label.csv`` retrains with those labels weighted in.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from postkind.data import find_text_column, iter_table, read_table
from postkind.errors import DataError
from postkind.labels import CONVERSATIONAL
from postkind.model import Model
from postkind.prediction import _check_output, resolve_model

__all__ = [
    "GUESS_COLUMN",
    "CONFIDENCE_COLUMN",
    "ID_COLUMNS",
    "sample",
    "find_id_column",
    "check_sample_output",
    "write_sample",
]

#: The model's label for each sampled post.
GUESS_COLUMN = "postkind_guess"
#: The probability of that label.
CONFIDENCE_COLUMN = "postkind_confidence"
#: Column names taken as the post id, in order of preference (case-insensitive).
ID_COLUMNS = ("id", "post_id", "tweet_id", "status_id", "message_id", "uri")
#: Two sampled posts whose TF-IDF cosine similarity reaches this are near-duplicates.
DUPLICATE_COSINE = 0.8


def find_id_column(columns: Sequence[str]) -> str | None:
    """Return the id column among ``columns``, or ``None`` when there is none.

    Examples
    --------
    >>> find_id_column(["Post_ID", "text"])
    'Post_ID'
    >>> find_id_column(["text", "label"]) is None
    True
    """
    by_name = {str(c).strip().lower(): str(c) for c in columns}
    return next((by_name[name] for name in ID_COLUMNS if name in by_name), None)


def _frames(
    frame_or_path: pd.DataFrame | str | os.PathLike[str], fmt: str | None, chunk_size: int
) -> Iterator[pd.DataFrame]:
    if isinstance(frame_or_path, pd.DataFrame):
        frame = frame_or_path.reset_index(drop=True)
        for start in range(0, len(frame), chunk_size):
            yield frame.iloc[start : start + chunk_size]
        return
    yield from iter_table(frame_or_path, fmt=fmt, chunk_size=chunk_size)


def _score_pool(
    frames: Iterator[pd.DataFrame],
    text_column: str | None,
    fitted: Model,
    pool_size: int,
    where: str | os.PathLike[str] | None,
) -> tuple[pd.DataFrame, str, str | None, int]:
    """Score every row and keep the ``pool_size`` distinct texts nearest the threshold.

    Memory holds one chunk and the pool, never the whole input.
    """
    pool = pd.DataFrame()
    column: str | None = text_column
    id_column: str | None = None
    rows = 0
    for chunk in frames:
        if column is None:
            column = find_text_column(list(chunk.columns), path=where)
        if column not in chunk.columns:
            raise DataError(
                f"has no column {column!r} (columns: "
                f"{', '.join(map(str, chunk.columns))}); name the text column "
                "with --text-column",
                path=where,
            )
        if id_column is None:
            id_column = find_id_column([c for c in chunk.columns if c != column])
        rows += len(chunk)
        texts = chunk[column].fillna("").astype(str)
        present = (texts.str.strip() != "").to_numpy()
        if not present.any():
            continue
        part = pd.DataFrame(
            {
                "id": chunk[id_column].astype(str).to_numpy()[present] if id_column else None,
                "text": texts.to_numpy()[present],
                "source_row": chunk.index.to_numpy()[present] + 1,
            }
        )
        part["p"] = fitted.predict_proba(part["text"].tolist())
        part["margin"] = np.abs(part["p"] - fitted.threshold)
        pool = pd.concat([pool, part], ignore_index=True) if len(pool) else part
        pool["key"] = pool["text"].str.strip().str.lower().str.split().str.join(" ")
        pool = (
            pool.sort_values(["margin", "source_row"], kind="stable")
            .drop_duplicates("key")
            .head(pool_size)
            .reset_index(drop=True)
        )
    if column is None:
        raise DataError("has no rows; nothing to sample", path=where)
    return pool, column, id_column, rows


def _diverse(pool: pd.DataFrame, n: int, seed: int) -> list[int]:
    """Pick up to ``n`` rows of ``pool`` (sorted most uncertain first): cluster their TF-IDF
    vectors into ``n`` groups, take the most uncertain row of each group, and drop any row
    that is a near-duplicate of one already taken; top up from the pool in uncertainty order.
    """
    if len(pool) <= 1:
        return list(range(len(pool)))
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.exceptions import ConvergenceWarning

    from postkind.features import build_features

    vectors = build_features().fit_transform(pool["text"].tolist())
    k = min(n, len(pool))
    if vectors.shape[1] == 0 or k == len(pool):
        clusters = np.arange(len(pool))
    else:
        kmeans = MiniBatchKMeans(
            n_clusters=k, random_state=seed, n_init=3, batch_size=max(1024, 3 * k)
        )
        with warnings.catch_warnings():  # fewer distinct posts than clusters is fine here
            warnings.simplefilter("ignore", ConvergenceWarning)
            clusters = kmeans.fit_predict(vectors)
    # Pool order is most uncertain first, so the first row seen of a cluster is its best.
    first_of_cluster = [int(i) for i in pd.Series(clusters).drop_duplicates().index]
    taken = set(first_of_cluster)
    rest = [i for i in range(len(pool)) if i not in taken]
    chosen: list[int] = []
    for i in first_of_cluster + rest:
        if len(chosen) == n:
            break
        if chosen and (vectors[chosen] @ vectors[i].T).max() >= DUPLICATE_COSINE:
            continue
        chosen.append(i)
    return sorted(chosen)


def sample(
    frame_or_path: pd.DataFrame | str | os.PathLike[str],
    n: int,
    *,
    model: Model | str | os.PathLike[str] | None = None,
    text_column: str | None = None,
    seed: int = 0,
    pool_size: int | None = None,
    fmt: str | None = None,
    chunk_size: int = 20_000,
) -> pd.DataFrame:
    """Pick ``n`` posts for a person to label: the least certain, diverse, not near-duplicates.

    Every row is scored, streaming a file in chunks; the ``pool_size`` distinct posts whose
    probability of ``conversational`` lies nearest the model's threshold form the pool. The
    pool's TF-IDF vectors are clustered into ``n`` groups (MiniBatchKMeans) and the most
    uncertain post of each group is taken, skipping near-duplicates (cosine >=
    ``DUPLICATE_COSINE``) of posts already taken, so the sample spreads over the kinds of
    posts the model hesitates on instead of repeating one.

    Parameters
    ----------
    frame_or_path : DataFrame or path
        Posts: a DataFrame, or a CSV, TSV, JSON Lines, Parquet file or platform export.
    n : int
        How many posts to pick (fewer when the input has fewer distinct posts).
    model : Model or path, optional
        See :func:`postkind.prediction.resolve_model`.
    text_column : str, optional
        Column holding the post; detected when one obvious candidate exists.
    seed : int
        Seed of the clustering; the same input, model and seed give the same sample.
    pool_size : int, optional
        How many of the least certain posts to choose among; default ``max(5 * n, 100)``.
    fmt : str, optional
        Force the input format instead of guessing it.
    chunk_size : int
        Rows scored at a time.

    Returns
    -------
    pandas.DataFrame
        One row per picked post, most uncertain first, with the columns: the input's id
        column under its own name (when it has one, see ``ID_COLUMNS``), ``text``,
        ``postkind_guess``, ``postkind_confidence`` (probability of the guess), an empty
        ``label`` and
        ``source_row`` (1-based data row of the input).

    Raises
    ------
    DataError
        Unreadable input, no text column, or ``n`` below 1.

    Examples
    --------
    >>> posts = pd.DataFrame({"text": ["lol same", "lol same!", "Shop now: 20% off", "hi?"]})
    >>> picked = sample(posts, 2, model=MODEL)
    >>> list(picked.columns)
    ['text', 'postkind_guess', 'postkind_confidence', 'label', 'source_row']
    >>> len(picked), set(picked["label"])
    (2, {''})
    """
    if n < 1:
        raise DataError(f"cannot sample {n} posts; ask for at least 1")
    fitted = resolve_model(model)
    where = None if isinstance(frame_or_path, pd.DataFrame) else frame_or_path
    pool, _, id_column, _ = _score_pool(
        _frames(frame_or_path, fmt, chunk_size),
        text_column,
        fitted,
        pool_size or max(5 * n, 100),
        where,
    )
    picked = pool.iloc[_diverse(pool, n, seed)].reset_index(drop=True)
    guess = np.asarray(fitted.labels_for(picked["p"].to_numpy()), dtype=object)
    out = pd.DataFrame({id_column: picked["id"].to_numpy()} if id_column else {})
    out["text"] = picked["text"].to_numpy()
    out[GUESS_COLUMN] = guess
    out[CONFIDENCE_COLUMN] = np.round(
        np.where(guess == CONVERSATIONAL, picked["p"], 1.0 - picked["p"]), 3
    )
    out["label"] = ""
    out["source_row"] = picked["source_row"].to_numpy().astype(int)
    return out


def check_sample_output(input_path: str | os.PathLike[str], output: str | os.PathLike[str]) -> None:
    """Raise :class:`DataError` unless ``output`` can take a sample of ``input_path``: a
    ``.csv`` name (``postkind label`` edits CSV) in a writable folder, not the input, and not
    an existing file that already holds labels (a person's work is never overwritten).

    Examples
    --------
    >>> check_sample_output("posts.jsonl", "to_label.parquet")
    Traceback (most recent call last):
    ...
    postkind.errors.DataError: to_label.parquet: postkind label edits CSV; name the sample *.csv
    """
    if not str(output).lower().endswith(".csv"):
        raise DataError("postkind label edits CSV; name the sample *.csv", path=output)
    _check_output(input_path, output)
    if Path(output).is_file() and Path(output).stat().st_size > 0:
        labels = read_table(output).get("label")
        if labels is not None and (labels.astype(str).str.strip() != "").any():
            raise DataError(
                "exists and holds labels; choose another name, or move it away "
                "first if you mean to start again",
                path=output,
            )


def write_sample(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a sample as CSV atomically (a temporary file renamed into place)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would create it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

"""Streaming tagging gives exactly what predict() gives, whatever the chunking and job count."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import TEXTS
from postkind.labels import CONVERSATIONAL
from postkind.prediction import (
    CONFIDENCE_COLUMN,
    LABEL_COLUMN,
    _csv_bytes,
    predict,
    predict_proba,
    tag,
    tag_file,
)

POSTS = (
    TEXTS
    + [
        'multi\nline, with "quotes" and\ttabs 🎉',
        "  ",
        "RT @cnn: Storm hits http://x.co/1, 3rd time",
        "ΑΣ İstanbul &amp; friends?",
        "lol same",
    ]
    * 3
)


def expected(model_path, texts: list[str]) -> tuple[list[str], list[float]]:
    """Labels and confidences as predict() and predict_proba() give them; "" for no text."""
    present = [t for t in texts if t.strip()]
    labels = iter(predict(present, model=model_path))
    proba = iter(predict_proba(present, model=model_path))
    out_labels, out_conf = [], []
    for text in texts:
        if not text.strip():
            out_labels.append("")
            out_conf.append(float("nan"))
            continue
        label, p = next(labels), float(next(proba))
        out_labels.append(label)
        out_conf.append(p if label == CONVERSATIONAL else 1.0 - p)
    return out_labels, out_conf


def read_back(path, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False, precise_float=True)
    return pd.read_csv(path, dtype=str, keep_default_na=False, sep="\t" if fmt == "tsv" else ",")


def write_input(frame: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")


@pytest.mark.parametrize(("chunk_size", "jobs"), [(1, 1), (7, 1), (1000, 1), (5, 2), (1000, 2)])
def test_tag_file_equals_predict_for_any_chunking_and_jobs(model_path, tmp_path, chunk_size, jobs):
    frame = pd.DataFrame({"id": [str(i) for i in range(len(POSTS))], "text": POSTS})
    write_input(frame, tmp_path / "in.csv", "csv")
    tag_file(
        tmp_path / "in.csv",
        tmp_path / "out.csv",
        model=model_path,
        jobs=jobs,
        chunk_size=chunk_size,
    )
    out = read_back(tmp_path / "out.csv", "csv")
    labels, confidence = expected(model_path, POSTS)
    assert out["id"].tolist() == frame["id"].tolist()
    assert out["text"].tolist() == POSTS
    assert out[LABEL_COLUMN].tolist() == labels
    written = [float(c) if c else float("nan") for c in out[CONFIDENCE_COLUMN]]
    np.testing.assert_array_equal(written, confidence)


@pytest.mark.parametrize(
    ("src", "dst"), [("jsonl", "parquet"), ("parquet", "tsv"), ("tsv", "jsonl"), ("csv", "jsonl")]
)
def test_every_format_in_and_out_gives_the_same_tags(model_path, tmp_path, src, dst):
    frame = pd.DataFrame({"id": [str(i) for i in range(len(POSTS))], "text": POSTS})
    write_input(frame, tmp_path / f"in.{src}", src)
    tag_file(
        tmp_path / f"in.{src}", tmp_path / f"out.{dst}", model=model_path, jobs=2, chunk_size=9
    )
    out = read_back(tmp_path / f"out.{dst}", dst)
    labels, confidence = expected(model_path, POSTS)
    assert out[LABEL_COLUMN].fillna("").tolist() == labels
    written = pd.to_numeric(out[CONFIDENCE_COLUMN].replace("", np.nan)).to_numpy(dtype=float)
    np.testing.assert_array_equal(written, confidence)


@pytest.mark.parametrize("chunk_size", [1, 4, 10_000])
def test_tag_rows_equals_predict_for_any_chunk_size(model_path, chunk_size):
    rows = ({"n": i, "text": text} for i, text in enumerate(POSTS))
    tagged = list(tag(rows, model=model_path, chunk_size=chunk_size))
    labels, confidence = expected(model_path, POSTS)
    assert [r["n"] for r in tagged] == list(range(len(POSTS)))
    assert [r[LABEL_COLUMN] for r in tagged] == labels
    written = [np.nan if r[CONFIDENCE_COLUMN] is None else r[CONFIDENCE_COLUMN] for r in tagged]
    np.testing.assert_array_equal(written, confidence)


CELLS = st.text(alphabet=st.sampled_from(list("ab ,;\"\n\r\t'\x0b\x85\u2028é🎉")), max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            CELLS, CELLS, st.one_of(st.floats(0.5, 1.0), st.just(float("nan")), st.just(1.0))
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from([",", "\t"]),
    st.booleans(),
)
def test_fast_csv_writer_writes_what_pandas_writes(rows, sep, header):
    frame = pd.DataFrame(rows, columns=["id", "text", CONFIDENCE_COLUMN])
    frame["id"] = frame["id"].astype("str")
    fast = _csv_bytes(frame, sep, header)
    assert fast is not None
    if not any("\r" in cell for row in rows for cell in row[:2]):
        assert fast == frame.to_csv(index=False, header=header, sep=sep, na_rep="").encode()
    if header:  # and, unlike to_csv's output with a lone "\r", it reads back row for row
        back = pd.read_csv(io.BytesIO(fast), sep=sep, dtype=str, keep_default_na=False)
        assert back[["id", "text"]].values.tolist() == frame[["id", "text"]].values.tolist()


def test_fast_csv_writer_leaves_other_frames_to_pandas():
    assert _csv_bytes(pd.DataFrame({"a": ["x"], "n": [1]}), ",", True) is None
    assert _csv_bytes(pd.DataFrame({"a": ["x", None], "b": ["y", "z"]}), ",", True) is None
    assert _csv_bytes(pd.DataFrame({"a": ["x"], "f": [1e-7]}), ",", True) is None


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_jsonl_records_with_different_keys_are_tagged_in_their_own_columns(
    tmp_path, tiny_model, suffix
):
    import json

    from postkind.prediction import tag_file

    records = [{"id": str(i), "text": f"@ana thanks for post {i}!"} for i in range(7)]
    records[5]["subreddit"] = "news"
    source = tmp_path / "posts.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / f"tagged.{suffix}"
    tag_file(source, out, model=tiny_model, chunk_size=2, jobs=2)
    if suffix == "csv":
        frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    else:
        frame = pd.read_parquet(out)
    assert list(frame.columns) == ["id", "text", "subreddit", LABEL_COLUMN, CONFIDENCE_COLUMN]
    assert frame["subreddit"].tolist() == ["", "", "", "", "", "news", ""]
    assert frame[LABEL_COLUMN].tolist() == tiny_model.predict([r["text"] for r in records])


def test_a_column_first_met_after_the_header_is_written_is_an_error_naming_the_row(
    tmp_path, tiny_model, monkeypatch
):
    import io
    import json
    import sys

    from postkind.errors import DataError
    from postkind.prediction import tag_file

    records = [{"id": str(i), "text": f"post {i}"} for i in range(4)]
    records.append({"id": "4", "text": "late", "subreddit": "news"})
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(body))))
    out = tmp_path / "tagged.csv"
    with pytest.raises(DataError, match=r"row 5.*subreddit"):
        tag_file("-", out, input_format="jsonl", model=tiny_model, chunk_size=2, jobs=1)
    assert not out.exists()

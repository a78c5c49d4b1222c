import numpy as np
import pandas as pd
import pytest

from conftest import TEXTS
from postkind.cli import main
from postkind.errors import DataError
from postkind.sampling import sample

from .conftest import write

STORM = "Breaking: storm closes schools across the county https://t.co/{}"


def posts() -> pd.DataFrame:
    """The tiny corpus plus near-duplicates of one headline, with ids."""
    texts = TEXTS + [STORM.format(f"x{i}") for i in range(6)] + ["", "   "]
    return pd.DataFrame({"id": [f"p{i}" for i in range(len(texts))], "text": texts})


def test_columns_and_rows_point_back_to_the_input(tiny_model):
    frame = posts()
    picked = sample(frame, 8, model=tiny_model)
    assert list(picked.columns) == [
        "id",
        "text",
        "postkind_guess",
        "postkind_confidence",
        "label",
        "source_row",
    ]
    assert len(picked) == 8 and (picked["label"] == "").all()
    assert set(picked["postkind_guess"]) <= {"broadcast", "conversational"}
    assert picked["postkind_confidence"].between(0, 1).all()
    for _, row in picked.iterrows():
        source = frame.iloc[row["source_row"] - 1]
        assert (source["id"], source["text"]) == (row["id"], row["text"])


def test_picks_the_least_certain(tiny_model):
    frame = posts()
    margin = np.abs(tiny_model.predict_proba(frame["text"]) - tiny_model.threshold)
    picked = sample(frame, 4, model=tiny_model, pool_size=10)
    picked_margin = np.abs(tiny_model.predict_proba(picked["text"]) - tiny_model.threshold)
    nonempty = frame["text"].str.strip() != ""
    tenth = np.sort(margin[nonempty.to_numpy()])[9]
    assert (picked_margin <= tenth + 1e-12).all()
    # most uncertain first
    assert list(picked_margin) == sorted(picked_margin)


def test_drops_near_duplicates_and_empty_texts(tiny_model):
    picked = sample(posts(), 40, model=tiny_model)
    assert picked["text"].str.startswith("Breaking: storm").sum() == 1
    assert (picked["text"].str.strip() != "").all()
    # 44 tiny posts, the storm headline already among them: 44 distinct posts at most
    assert len(picked) <= len(TEXTS)


def test_streaming_a_file_gives_the_same_sample(tiny_model, tmp_path):
    frame = posts()
    path = tmp_path / "posts.csv"
    frame.to_csv(path, index=False)
    in_memory = sample(frame, 6, model=tiny_model, seed=1)
    streamed = sample(path, 6, model=tiny_model, seed=1, chunk_size=5)
    pd.testing.assert_frame_equal(in_memory, streamed)


def test_id_column_keeps_its_name_and_jsonl_is_read(tiny_model, tmp_path):
    path = tmp_path / "posts.jsonl"
    frame = pd.DataFrame({"post_id": range(len(TEXTS)), "body": TEXTS})
    frame.to_json(path, orient="records", lines=True)
    picked = sample(path, 3, model=tiny_model)
    assert list(picked.columns)[:2] == ["post_id", "text"]


def test_bad_requests_raise_data_errors(tiny_model, tmp_path):
    with pytest.raises(DataError, match="at least 1"):
        sample(posts(), 0, model=tiny_model)
    with pytest.raises(DataError, match="text-column"):
        sample(write(tmp_path / "a.csv", "id,user\n1,a\n"), 3, model=tiny_model)


def test_cli_sample_writes_a_csv_to_label(model_path, tmp_path, capsys):
    src = tmp_path / "in.csv"
    posts().to_csv(src, index=False)
    out = tmp_path / "to_label.csv"
    assert main(["sample", str(src), "-n", "5", "-o", str(out), "--model", str(model_path)]) == 0
    assert "postkind label" in capsys.readouterr().err
    written = pd.read_csv(out, keep_default_na=False)
    assert len(written) == 5 and (written["label"] == "").all()
    assert (
        main(["sample", str(src), "-o", str(tmp_path / "x.parquet"), "--model", str(model_path)])
        == 2
    )
    assert "*.csv" in capsys.readouterr().err
    assert main(["sample", "--help"]) == 0 and main(["label", "--help"]) == 0


def test_cli_sample_never_overwrites_labels(model_path, tmp_path, capsys):
    src = tmp_path / "in.csv"
    posts().to_csv(src, index=False)
    out = write(tmp_path / "to_label.csv", "text,label\nlol same,conversational\nhi,\n")
    args = ["sample", str(src), "-n", "3", "-o", str(out), "--model", str(model_path)]
    assert main(args) == 2
    assert "holds labels" in capsys.readouterr().err
    assert out.read_text() == "text,label\nlol same,conversational\nhi,\n"
    write(out, "text,label\nlol same,\n")  # no labels yet: a new sample may replace it
    assert main(args) == 0 and len(pd.read_csv(out)) == 3
    assert not list(tmp_path.glob(".*.part"))

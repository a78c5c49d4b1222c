import numpy as np
import pandas as pd
import pytest

from conftest import TEXTS
from postkind.errors import DataError, ModelError
from postkind.prediction import predict, predict_proba, resolve_model, tag, tag_file

from .conftest import write


def test_predict_returns_a_label_for_a_string_and_a_list_for_an_iterable(tiny_model):
    assert predict("@sam thanks, see you tomorrow!", model=tiny_model) == "conversational"
    labels = predict(iter(["Shop now: 20% off all shoes", "lol same"]), model=tiny_model)
    assert labels == ["broadcast", "conversational"]
    assert predict([], model=tiny_model) == []


def test_predict_proba_is_the_probability_of_conversational(tiny_model):
    one = predict_proba("lol same", model=tiny_model)
    many = predict_proba(["lol same", "Shop now: 20% off"], model=tiny_model)
    assert isinstance(one, float) and one == pytest.approx(many[0])
    assert many[0] > 0.5 > many[1]


def test_model_is_found_from_path_then_environment(model_path, monkeypatch, tmp_path):
    assert predict("lol same", model=model_path) == "conversational"
    monkeypatch.setenv("POSTKIND_MODEL", str(model_path))
    assert predict("lol same") == "conversational"
    monkeypatch.delenv("POSTKIND_MODEL")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="make train"):
        resolve_model()


def test_loaded_model_is_cached(model_path):
    assert resolve_model(model_path) is resolve_model(str(model_path))


def test_tag_file_keeps_columns_order_and_empty_rows(tiny_model, tmp_path):
    src = write(
        tmp_path / "in.csv",
        'id,message,likes\n1,@sam thanks!,3\n2,,0\n3,"multi\nline 🎉 news http://x.co",7\n',
    )
    result = tag_file(src, tmp_path / "out.csv", model=tiny_model, jobs=1)
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert result == {
        "rows": 3,
        "tagged": 2,
        "text_column": "message",
        "output": str(tmp_path / "out.csv"),
    }
    assert out.columns.tolist() == [
        "id",
        "message",
        "likes",
        "postkind_label",
        "postkind_confidence",
    ]
    assert out["id"].tolist() == ["1", "2", "3"]
    assert out["message"][2] == "multi\nline 🎉 news http://x.co"
    assert out["postkind_label"][1] == "" and out["postkind_confidence"][1] == ""
    assert float(out["postkind_confidence"][0]) >= 0.5


def test_min_confidence_marks_uncertain_rows(tiny_model, tmp_path):
    src = write(tmp_path / "in.csv", "text\nlol same\nsomething neutral\n")
    tag_file(src, tmp_path / "out.csv", model=tiny_model, jobs=1, min_confidence=0.999)
    out = pd.read_csv(tmp_path / "out.csv")
    assert set(out["postkind_label"]) == {"uncertain"}


@pytest.mark.parametrize("ext", ["jsonl", "parquet", "tsv"])
def test_tag_file_reads_and_writes_other_formats(tiny_model, tmp_path, ext):
    frame = pd.DataFrame({"id": ["a", "b"], "text": ["lol same", "Shop now: 20% off"]})
    src = tmp_path / f"in.{ext}"
    if ext == "jsonl":
        frame.to_json(src, orient="records", lines=True)
    elif ext == "parquet":
        frame.to_parquet(src)
    else:
        frame.to_csv(src, sep="\t", index=False)
    tag_file(src, tmp_path / f"out.{ext}", model=tiny_model, jobs=1)
    if ext == "jsonl":
        out = pd.read_json(tmp_path / "out.jsonl", lines=True)
    elif ext == "parquet":
        out = pd.read_parquet(tmp_path / "out.parquet")
    else:
        out = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert out["postkind_label"].tolist() == ["conversational", "broadcast"]


def test_output_errors_name_the_problem_and_leave_nothing(tiny_model, tmp_path):
    src = write(tmp_path / "in.csv", "text\nhello\n")
    with pytest.raises(DataError, match="does not exist"):
        tag_file(src, tmp_path / "missing" / "out.csv", model=tiny_model)
    with pytest.raises(DataError, match="is the input file"):
        tag_file(src, src, model=tiny_model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_failure_midway_leaves_no_partial_output(tiny_model, tmp_path):
    rows = "".join(f"post {i}\n" for i in range(50))
    src = write(tmp_path / "in.csv", "text\n" + rows + "a,b,c\n")  # malformed last row
    with pytest.raises(DataError, match="malformed"):
        tag_file(src, tmp_path / "out.csv", model=tiny_model, chunk_size=10, jobs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_tag_over_rows_matches_predict(tiny_model):
    rows = [{"text": t, "n": i} for i, t in enumerate(TEXTS)]
    tagged = list(tag(rows, model=tiny_model, chunk_size=7))
    assert [r["n"] for r in tagged] == list(range(len(TEXTS)))
    assert [r["postkind_label"] for r in tagged] == predict(TEXTS, model=tiny_model)


def test_parallel_jobs_give_the_same_output_as_one(model_path, tmp_path):
    frame = pd.DataFrame({"text": TEXTS * 5})
    frame.to_csv(tmp_path / "in.csv", index=False)
    tag_file(tmp_path / "in.csv", tmp_path / "one.csv", model=model_path, jobs=1, chunk_size=9)
    tag_file(tmp_path / "in.csv", tmp_path / "two.csv", model=model_path, jobs=2, chunk_size=9)
    one = pd.read_csv(tmp_path / "one.csv")
    two = pd.read_csv(tmp_path / "two.csv")
    pd.testing.assert_frame_equal(one, two)
    expected = predict_proba(frame["text"], model=model_path)
    conf = np.where(one["postkind_label"] == "conversational", expected, 1 - expected)
    np.testing.assert_allclose(one["postkind_confidence"], conf)

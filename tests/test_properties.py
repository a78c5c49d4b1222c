"""Properties that hold for any input (hypothesis)."""

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postkind.labels import LABELS
from postkind.model import load_model, save_model
from postkind.prediction import predict, tag_file

posts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)


@settings(max_examples=200, deadline=None)
@given(posts)
def test_any_string_gets_one_of_the_two_labels(tiny_model, text):
    assert predict(text, model=tiny_model) in LABELS


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(posts, min_size=1, max_size=40))
def test_tagging_keeps_row_count_and_order(tiny_model, tmp_path, texts):
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts})
    frame.to_parquet(tmp_path / "in.parquet")
    tag_file(
        tmp_path / "in.parquet", tmp_path / "out.parquet", model=tiny_model, jobs=1, chunk_size=7
    )
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["id"].tolist() == frame["id"].tolist()
    assert out["text"].tolist() == texts


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(posts, min_size=1, max_size=30))
def test_save_load_gives_identical_predictions(tiny_model, tmp_path, texts):
    loaded = load_model(save_model(tiny_model, tmp_path / "m.joblib"))
    assert loaded.predict_proba(texts).tolist() == tiny_model.predict_proba(texts).tolist()

"""Checks of the model that `make train` ships, on real posts when ../shared is present."""

import csv

import pandas as pd
import pytest

from postkind.evaluation import baselines, score
from postkind.prediction import tag_file

from .conftest import SHARED, SHIPPED_MODEL

needs_model = pytest.mark.skipif(
    not SHIPPED_MODEL.exists(), reason="models/postkind.joblib absent: run `make train`"
)
needs_shared = pytest.mark.skipif(
    not (SHARED / "eval").exists(), reason="../shared (real labelled posts) is absent"
)


@needs_model
@needs_shared
def test_default_model_beats_every_trivial_rule_on_real_posts():
    from postkind.model import load_model

    model = load_model(SHIPPED_MODEL)
    rows = list(csv.DictReader(open(SHARED / "eval" / "dev_labelled.csv", encoding="utf-8")))
    texts = [r["text"] for r in rows]
    truth = [r["label"] for r in rows]
    ours = score(truth, model.predict(texts))["macro_f1"]
    best_rule = max(score(truth, pred)["macro_f1"] for pred in baselines(texts).values())
    assert ours > best_rule + 0.05


@needs_model
@needs_shared
def test_tag_nps_chat_without_naming_the_column_keeps_every_row(tmp_path):
    source = SHARED / "corpora" / "nps_chat.csv"
    result = tag_file(source, tmp_path / "tagged.csv", model=SHIPPED_MODEL)
    original = pd.read_csv(source, dtype=str, keep_default_na=False)
    tagged = pd.read_csv(tmp_path / "tagged.csv", dtype=str, keep_default_na=False)
    assert result["rows"] == len(original) == len(tagged) == 7037
    assert result["text_column"] == "text"
    pd.testing.assert_frame_equal(tagged[original.columns], original)
    has_text = original["text"].str.strip() != ""
    assert (tagged.loc[has_text, "postkind_label"] != "").all()

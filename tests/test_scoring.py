"""The compiled fast path gives the scikit-learn pipeline's probabilities, text for text."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import LABELS, TEXTS
from postkind import scoring
from postkind.labels import CONVERSATIONAL
from postkind.model import Model, build_pipeline, load_model, save_model
from postkind.text import normalise, tokenize

from .conftest import SHARED, SHIPPED_MODEL

TOLERANCE = 1e-9
#: Texts that exercise every rule of normalise and tokenize, and some that break them.
TRICKY = [
    "@Ana  Sooooo good!!! https://t.co/x1 &amp; 100 likes",
    "RT @cnn: Storm hits http://x.co/1 WWW.Foo.COM/path e.coli x.community cnn.it/x 3rd 1.5x",
    "@a @b.c@d.e-f #tag xurlx  ",
    "  \t@jo #only https://x.io  ",
    "HTTPS:// https://  ok.co/ 12abc 1,000,000th 2nd! 7K 8) :-) <3 ^_^ xD X-D >:( ;p",
    "ΑΣ Σ ΣΑ İstanbul ſ K ﬃ ǅ",
    "don't’t 'quoted' “hi” «no» ???!!! ... email@x.com @@user #8 a#8 …‘’–—",
    "",
    "   ",
    "\n\n\n aaa\r\r\r\x1c\x1c\u2028\u00a0x",
    "&#10;&lt;3 &#x1F600; &nosuch; &amp",
    "a" * 300 + " " + "ab" * 200,
    "👍🏽👍🏽👍🏽 🇬🇧 e\u0301 \ud800 \x00 tab\there",
    "Thanks @user_1! See www.example.org/a?b=c, or mail.google.com. #1 #fb 100k 2m 3s",
]


def fitted(classifier: str, chars: tuple[int, int] | None) -> Model:
    """A pipeline of each family fitted on the tiny corpus."""
    strength = {"logreg": 10.0, "svm": 1.0, "sgd": 1e-4, "cnb": 0.3}[classifier]
    pipeline = build_pipeline(classifier, strength, char_ngrams=chars)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings on 44 posts
        pipeline.fit(TEXTS, LABELS)
    return Model(pipeline=pipeline)


def sklearn_proba(model: Model, texts: list[str]) -> np.ndarray:
    proba = model.pipeline.predict_proba(texts)
    return proba[:, list(model.pipeline.classes_).index(CONVERSATIONAL)]


@pytest.mark.parametrize("chars", [None, (2, 5), (1, 3)], ids=["words", "words+chars", "c13"])
@pytest.mark.parametrize("classifier", ["logreg", "svm", "sgd", "cnb"])
def test_fast_path_equals_sklearn_for_every_family_and_feature_set(classifier, chars):
    model = fitted(classifier, chars)
    assert scoring.cached_scorer(model) is not None
    texts = TEXTS + TRICKY
    np.testing.assert_allclose(
        model.predict_proba(texts), sklearn_proba(model, texts), rtol=0, atol=TOLERANCE
    )


@pytest.fixture(scope="module")
def union_model() -> Model:
    return fitted("logreg", (2, 5))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(), max_size=5))
def test_fast_path_equals_sklearn_on_any_text(union_model, texts):
    np.testing.assert_allclose(
        union_model.predict_proba(texts or [""]),
        sklearn_proba(union_model, texts or [""]),
        rtol=0,
        atol=TOLERANCE,
    )


PIECES = list("aAeEhHtTpPsSwWcCoOmMkK.:/@#-_0123459 \t\n&;!?'’\"“<>=8()[]dDxX^3ſİΣ😀…,") + [
    "http",
    "https://",
    "www.",
    ".com",
    ".co",
    ".it",
    "@user",
    "xurlx",
    "&amp;",
    ".social",
    "th",
]
POSTISH = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(POSTISH, st.text()), min_size=1, max_size=8))
def test_normalise_many_equals_normalise(texts):
    assert scoring.normalise_many(texts) == [normalise(t) for t in texts]


@settings(max_examples=400, deadline=None)
@given(st.one_of(POSTISH, st.text()))
def test_compiled_tokeniser_equals_tokenize(text):
    flags = scoring._tables()[0]
    spans = scoring._token_spans(scoring._cps(text).copy(), flags)
    assert [text[i:j] for i, j in spans] == tokenize(text)


def test_scorer_travels_with_the_model_and_is_rebuilt_after_refit(union_model):
    first = scoring.cached_scorer(union_model)
    assert scoring.cached_scorer(union_model) is first
    copy = pickle.loads(pickle.dumps(union_model))
    assert "pipeline" not in copy.__dict__, "the pipeline stays pickled until it is read"
    saved = scoring.cached_scorer(copy)
    assert saved is not None and saved is not first
    np.testing.assert_allclose(
        copy.predict_proba(TEXTS), union_model.predict_proba(TEXTS), rtol=0, atol=0
    )
    assert "pipeline" not in copy.__dict__, "scoring must not unpickle the pipeline"
    copy.pipeline.fit(TEXTS[:30] + TEXTS[-10:], LABELS[:30] + LABELS[-10:])
    assert scoring.cached_scorer(copy) is not saved
    np.testing.assert_allclose(
        copy.predict_proba(TRICKY), sklearn_proba(copy, TRICKY), rtol=0, atol=TOLERANCE
    )


def test_model_saved_by_an_older_scorer_format_is_recompiled(union_model, monkeypatch):
    blob = pickle.dumps(union_model)
    monkeypatch.setattr(scoring, "SCORER_FORMAT", scoring.SCORER_FORMAT + 1)
    copy = pickle.loads(blob)
    assert copy._scorer is None
    np.testing.assert_allclose(
        copy.predict_proba(TRICKY), union_model.predict_proba(TRICKY), rtol=0, atol=0
    )


def test_tagging_with_a_model_file_does_not_import_sklearn(union_model, tmp_path):
    save_model(union_model, tmp_path / "m.joblib")
    code = (
        "import sys, postkind\n"
        f"m = postkind.load_model({str(tmp_path / 'm.joblib')!r})\n"
        "print(postkind.predict(['@ana yes, see you there'], model=m)[0])\n"
        "print(sorted(k for k in ('sklearn', 'scipy.sparse') if k in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == [union_model.predict(["@ana yes, see you there"])[0], "[]"]


def test_unsupported_pipeline_is_scored_by_sklearn():
    model = fitted("logreg", None)
    model.pipeline.named_steps["features"].set_params(binary=True).fit(TEXTS)
    model.pipeline.named_steps["clf"].fit(
        model.pipeline.named_steps["features"].transform(TEXTS), LABELS
    )
    assert scoring.cached_scorer(model) is None
    np.testing.assert_array_equal(model.predict_proba(TRICKY), sklearn_proba(model, TRICKY))


# --- the trained default model on real posts ------------------------------------------------

DATA = SHIPPED_MODEL.parents[1] / "data" / "posts.csv"


@pytest.fixture(scope="module")
def shipped() -> Model:
    if not SHIPPED_MODEL.is_file():
        pytest.skip("models/postkind.joblib is absent: run `make train`")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_model(SHIPPED_MODEL)
    if scoring.cached_scorer(model) is None:
        pytest.fail("the default model is not compiled by the fast path")
    return model


def real_posts() -> list[str]:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent: no real posts to compare on")
    texts = pd.read_csv(SHARED / "eval" / "dev_labelled.csv", dtype=str, keep_default_na=False)[
        "text"
    ].tolist()
    rng = np.random.default_rng(0)
    for path in sorted((SHARED / "corpora").glob("*.csv")):
        column = pd.read_csv(path, dtype=str, keep_default_na=False)["text"]
        texts += column.sample(min(len(column), 600), random_state=0).tolist()
    jsonl = SHARED / "corpora" / "rumoureval2019_train.jsonl"
    if jsonl.is_file():
        rows = pd.read_json(jsonl, lines=True, dtype=False)["text"].fillna("").astype(str)
        texts += rows.iloc[rng.choice(len(rows), min(len(rows), 600), replace=False)].tolist()
    return texts


def test_default_model_fast_path_equals_sklearn_on_training_posts(shipped):
    texts = pd.read_csv(DATA, dtype=str, keep_default_na=False)["text"].tolist()
    np.testing.assert_allclose(
        shipped.predict_proba(texts), sklearn_proba(shipped, texts), rtol=0, atol=TOLERANCE
    )


def test_default_model_fast_path_equals_sklearn_on_real_posts(shipped):
    texts = real_posts()
    assert len(texts) > 2000
    np.testing.assert_allclose(
        shipped.predict_proba(texts), sklearn_proba(shipped, texts), rtol=0, atol=TOLERANCE
    )

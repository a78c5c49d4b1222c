import pytest

from conftest import FAST, LABELS, TEXTS
from postkind.errors import DataError
from postkind.training import TrainConfig, train


def test_same_data_and_seed_give_the_same_model():
    a = train(TEXTS, LABELS, config=FAST)
    b = train(TEXTS, LABELS, config=FAST)
    assert a.predict_proba(TEXTS).tolist() == b.predict_proba(TEXTS).tolist()
    assert a.metadata["heldout_digests"] == b.metadata["heldout_digests"]


def test_heldout_split_is_stratified_and_disjoint_from_training(tiny_model):
    rows = tiny_model.metadata["rows"]
    assert rows["train"] + rows["heldout"] == rows["total"] == len(set(TEXTS))
    assert min(rows["heldout_by_label"].values()) >= 4


def test_cross_validation_chooses_between_classifier_families():
    config = TrainConfig(
        grid=(("logreg", (10.0,)), ("cnb", (0.3,)), ("sgd", (1e-4,)), ("svm", (1.0,))),
        char_ngrams=(None, (2, 4)),
        folds=3,
        jobs=1,
    )
    model = train(TEXTS, LABELS, config=config)
    families = {r["params"]["classifier"] for r in model.metadata["cv"]["results"]}
    assert families == {"logreg", "cnb", "sgd", "svm"}
    assert model.metadata["chosen"]["classifier"] in families
    assert len(model.metadata["cv"]["results"]) == 8


def test_threshold_is_chosen_within_bounds(tiny_model):
    assert 0.3 <= tiny_model.threshold <= 0.7


def test_unknown_labels_and_too_few_posts_are_refused():
    with pytest.raises(DataError, match="found"):
        train(["a", "b"], ["broadcast", "spam"], config=FAST)
    with pytest.raises(DataError, match="at least 10"):
        train(TEXTS[:5] + TEXTS[-20:], LABELS[:5] + LABELS[-20:], config=FAST)


def test_duplicates_are_dropped_before_splitting():
    model = train(TEXTS + TEXTS[:5], LABELS + LABELS[:5], config=FAST)
    assert model.metadata["rows"]["duplicates_dropped"] == 5


def test_weighted_user_posts_always_stay_in_the_training_split():
    user = ["@kim see you at the match tonight?", "Our spring menu is live, book now!"]
    model = train(
        TEXTS + user,
        LABELS + ["conversational", "broadcast"],
        weights=[1.0] * len(TEXTS) + [3.0, 3.0],
        config=FAST,
    )
    from postkind.training import text_digest

    assert model.metadata["rows"]["weighted"] == 2
    assert not {text_digest(t) for t in user} & set(model.metadata["heldout_digests"])

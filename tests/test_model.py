import warnings

import joblib
import pytest

from postkind.errors import ModelError, ModelVersionWarning
from postkind.model import build_pipeline, load_model, save_model


def test_save_and_load_round_trip_gives_identical_predictions(tiny_model, tmp_path):
    from conftest import TEXTS

    path = save_model(tiny_model, tmp_path / "sub" / "m.joblib")
    loaded = load_model(path)
    assert loaded.predict_proba(TEXTS).tolist() == tiny_model.predict_proba(TEXTS).tolist()
    assert loaded.metadata == tiny_model.metadata
    assert [p.name for p in path.parent.iterdir()] == ["m.joblib"]  # no temporary left


def test_metadata_records_versions_labels_and_heldout_metrics(tiny_model):
    meta = tiny_model.metadata
    for key in (
        "postkind_version",
        "sklearn_version",
        "labels",
        "created",
        "chosen",
        "heldout",
        "rows",
        "seed",
        "cv",
        "threshold",
    ):
        assert key in meta
    assert meta["labels"] == ["broadcast", "conversational"]
    assert 0 <= meta["heldout"]["model"]["macro_f1"] <= 1


def test_missing_model_says_to_train(tmp_path):
    with pytest.raises(ModelError, match="make train"):
        load_model(tmp_path / "none.joblib")


def test_corrupt_model_file_is_a_clear_error(tmp_path):
    path = tmp_path / "m.joblib"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(ModelError, match="cannot be read as a postkind model"):
        load_model(path)


def test_foreign_object_is_refused(tmp_path):
    path = tmp_path / "m.joblib"
    joblib.dump({"weights": [1, 2]}, path)
    with pytest.raises(ModelError, match="holds a dict, not a postkind model"):
        load_model(path)


def test_other_sklearn_version_warns_naming_both(tiny_model, tmp_path):
    import copy

    import sklearn

    old = copy.copy(tiny_model)
    old.metadata = dict(tiny_model.metadata, sklearn_version="0.24.2")
    path = save_model(old, tmp_path / "old.joblib")
    with pytest.warns(ModelVersionWarning, match=rf"0\.24\.2.*{sklearn.__version__}"):
        load_model(path)


def test_failed_save_leaves_no_file(tiny_model, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(joblib, "dump", boom)
    with pytest.raises(OSError, match="disk full"):
        save_model(tiny_model, tmp_path / "m.joblib")
    assert list(tmp_path.iterdir()) == []


def test_unknown_classifier_is_refused():
    with pytest.raises(ValueError, match="choose one of"):
        build_pipeline("forest")


def test_current_version_loads_without_warning(tiny_model, tmp_path):
    path = save_model(tiny_model, tmp_path / "m.joblib")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(path)

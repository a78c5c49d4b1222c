"""The classifier pipeline and the model file that carries it with its metadata."""

from __future__ import annotations

import os
import pickle
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np

from postkind.errors import ModelError, ModelVersionWarning
from postkind.labels import BROADCAST, CONVERSATIONAL, LABELS

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = ["Model", "build_pipeline", "save_model", "load_model", "CLASSIFIERS"]

#: Classifier families that training chooses between.
CLASSIFIERS = ("logreg", "svm", "sgd", "cnb")


def _classifier(name: str, strength: float, seed: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    if name == "logreg":
        return LogisticRegression(C=strength, max_iter=5000, class_weight="balanced")
    if name == "svm":
        svm = LinearSVC(C=strength, class_weight="balanced", random_state=seed)
        return CalibratedClassifierCV(svm, method="sigmoid", cv=3)
    if name == "sgd":
        return SGDClassifier(
            loss="log_loss",
            alpha=strength,
            class_weight="balanced",
            max_iter=100,
            tol=1e-4,
            random_state=seed,
        )
    if name == "cnb":
        return ComplementNB(alpha=strength)
    raise ValueError(f"unknown classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")


def build_pipeline(
    classifier: str = "logreg",
    strength: float = 10.0,
    *,
    word_ngrams: tuple[int, int] = (1, 2),
    char_ngrams: tuple[int, int] | None = None,
    min_df: int = 1,
    seed: int = 0,
) -> Pipeline:
    """Build an unfitted TF-IDF + linear classifier pipeline.

    Parameters
    ----------
    classifier : {"logreg", "svm", "sgd", "cnb"}
        Logistic regression, calibrated linear SVM, SGD with log loss, complement naive Bayes.
    strength : float
        ``C`` for logreg and svm, ``alpha`` for sgd and cnb.
    word_ngrams, char_ngrams, min_df
        Passed to :func:`postkind.features.build_features`.
    seed : int
        Seed for classifiers that use randomness.

    Examples
    --------
    >>> pipe = build_pipeline("logreg", 1.0)
    >>> [name for name, _ in pipe.steps]
    ['features', 'clf']
    """
    from sklearn.pipeline import Pipeline

    from postkind.features import build_features

    features = build_features(word_ngrams=word_ngrams, char_ngrams=char_ngrams, min_df=min_df)
    return Pipeline([("features", features), ("clf", _classifier(classifier, strength, seed))])


@dataclass
class Model:
    """A fitted pipeline, its decision threshold and its metadata.

    ``predict_proba`` gives the probability of ``conversational``; a post is
    ``conversational`` when that probability reaches ``threshold``.

    A pickled model (and so a model file) carries the compiled fast scorer of
    :mod:`postkind.scoring` beside the pipeline, which it keeps as pickled bytes: loading a
    model and tagging with it neither imports scikit-learn nor compiles anything. The
    pipeline is unpickled when ``model.pipeline`` is first read.
    """

    pipeline: Pipeline
    threshold: float = 0.5
    metadata: dict[str, Any] = field(default_factory=dict)
    #: ``(fitted state, Scorer or None)`` of :func:`postkind.scoring.cached_scorer`.
    _scorer: Any = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        from postkind.scoring import SCORER_FORMAT, cached_scorer

        state = {k: v for k, v in self.__dict__.items() if k not in _NOT_PICKLED}
        pipeline = self.__dict__.get("pipeline")
        state["pipeline_pickle"] = (
            self.__dict__["_pipeline_pickle"]
            if pipeline is None
            else pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)
        )
        state["scorer"] = (SCORER_FORMAT, cached_scorer(self))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from postkind.scoring import SCORER_FORMAT

        state = dict(state)
        scorer = state.pop("scorer", None)
        blob = state.pop("pipeline_pickle", None)
        self.__dict__.update(state)  # older files hold "pipeline" itself
        self._scorer = None
        if blob is not None:
            self._pipeline_pickle = blob
            if scorer is not None and scorer[0] == SCORER_FORMAT:
                self._scorer = (None, scorer[1])  # None: as saved, pipeline not yet read

    def __getattr__(self, name: str) -> Any:
        # Only reached when ``pipeline`` is not yet in the instance: unpickle it now.
        blob = self.__dict__.get("_pipeline_pickle")
        if name != "pipeline" or blob is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)  # see load_model
            pipeline = pickle.loads(blob)
        self.__dict__["pipeline"] = pipeline
        del self.__dict__["_pipeline_pickle"]
        cached = self.__dict__.get("_scorer")
        if cached is not None and cached[0] is None:
            from postkind.scoring import fitted_state

            self._scorer = (fitted_state(pipeline), cached[1])
        return pipeline

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Return P(conversational) for each text, as a 1-D float array.

        Scored by the compiled fast path of :mod:`postkind.scoring` (equal to the
        scikit-learn pipeline's ``predict_proba`` to within 1e-12), or by the pipeline itself
        for a pipeline that the fast path does not support.
        """
        texts = list(texts)
        if not texts:
            return np.zeros(0)
        from postkind.scoring import cached_scorer

        scorer = cached_scorer(self)
        if scorer is not None:
            return scorer.predict_proba(texts)
        classes = list(self.pipeline.classes_)
        proba = self.pipeline.predict_proba(texts)
        return np.asarray(proba[:, classes.index(CONVERSATIONAL)], dtype=float)

    def labels_for(self, proba: np.ndarray) -> list[str]:
        """Turn probabilities of ``conversational`` into labels at ``threshold``."""
        chosen = np.where(np.asarray(proba) >= self.threshold, CONVERSATIONAL, BROADCAST)
        return list(chosen.tolist())

    def predict(self, texts: Iterable[str]) -> list[str]:
        """Return one label per text."""
        return self.labels_for(self.predict_proba(texts))


_NOT_PICKLED = ("_scorer", "pipeline", "_pipeline_pickle")


def save_model(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file, then rename).

    Parent folders are created. A failure leaves no partial file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        joblib.dump(model, tmp, compress=3)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_model(path: str | os.PathLike[str]) -> Model:
    """Load a model file written by :func:`save_model`.

    A joblib file runs code when it is loaded: load only models you trust.

    Raises
    ------
    ModelError
        The file is missing, corrupt, or holds something other than a postkind model.

    Warns
    -----
    ModelVersionWarning
        The model was saved by another scikit-learn version than the one installed.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"{path}: model file not found. Train one with `make train` (or `postkind train`), "
            "or point POSTKIND_MODEL / --model at an existing model file."
        )
    with warnings.catch_warnings():
        # scikit-learn warns per estimator on a version change; one clear warning is ours below.
        warnings.simplefilter("ignore", category=UserWarning)
        try:
            obj = joblib.load(path)
        except Exception as exc:  # corrupt, truncated or foreign pickle
            raise ModelError(
                f"{path}: cannot be read as a postkind model ({type(exc).__name__}: {exc}). "
                "Retrain it with `make train`."
            ) from exc
    if not isinstance(obj, Model):
        raise ModelError(
            f"{path}: holds a {type(obj).__name__}, not a postkind model. "
            "Retrain it with `make train`."
        )
    saved, installed = obj.metadata.get("sklearn_version"), version("scikit-learn")
    if saved and saved != installed:
        warnings.warn(
            f"{path} was saved with scikit-learn {saved} but scikit-learn {installed} "
            "is installed; predictions may differ or fail. Retrain with `make train`.",
            ModelVersionWarning,
            stacklevel=2,
        )
    if tuple(obj.metadata.get("labels", LABELS)) != LABELS:
        raise ModelError(f"{path}: model labels {obj.metadata.get('labels')} are not {LABELS}.")
    return obj

"""Training: choose the classifier by cross-validation, fit it, score it on held-out posts."""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict, train_test_split

from postkind.data import MIN_PER_LABEL
from postkind.errors import DataError
from postkind.evaluation import baselines, calibration, score
from postkind.labels import BROADCAST, CONVERSATIONAL, LABELS
from postkind.model import Model, _classifier, build_pipeline

__all__ = ["TrainConfig", "train", "text_digest"]


@dataclass(frozen=True)
class TrainConfig:
    """Defaults of :func:`train`; every random choice follows ``seed``."""

    seed: int = 0
    test_size: float = 0.2
    folds: int = 5
    jobs: int = -1
    #: (classifier, strengths) pairs searched by cross-validation.
    grid: tuple[tuple[str, tuple[float, ...]], ...] = (
        ("logreg", (3.0, 10.0, 30.0)),
        ("svm", (0.3, 1.0)),
        ("sgd", (1e-5, 1e-4)),
        ("cnb", (0.1, 0.3)),
    )
    #: Feature sets searched: character n-gram range or None for word n-grams only.
    char_ngrams: tuple[tuple[int, int] | None, ...] = (None, (2, 5))
    word_ngrams: tuple[int, int] = (1, 2)


def text_digest(text: str) -> str:
    """Short stable digest of a post, used to remember the held-out rows.

    Examples
    --------
    >>> text_digest("hello")
    'aaf4c61ddcc5e8a2dabede0f'
    """
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def _dedupe(texts: list[str], labels: list[str]) -> tuple[list[str], list[str], int]:
    seen: dict[str, str] = {}
    for text, label in zip(texts, labels, strict=True):
        seen.setdefault(text, label)
    return list(seen), list(seen.values()), len(texts) - len(seen)


def _best_threshold(y: np.ndarray, proba: np.ndarray) -> float:
    grid = np.round(np.arange(0.30, 0.701, 0.01), 2)
    scores = [f1_score(y, proba >= t, average="macro") for t in grid]
    # ties: prefer the threshold closest to 0.5
    best = max(range(len(grid)), key=lambda i: (round(scores[i], 4), -abs(grid[i] - 0.5)))
    return float(grid[best])


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    config: TrainConfig | None = None,
    data_info: dict[str, Any] | None = None,
) -> Model:
    """Fit a model: hold out a stratified split, pick the classifier by CV, refit, score.

    Parameters
    ----------
    texts, labels : sequences of str
        Posts and their labels (``broadcast`` or ``conversational``).
    config : TrainConfig, optional
        Seed, split size, folds and the search grid.
    data_info : dict, optional
        Facts about the training files (paths, sha256) to keep in the model's metadata.

    Returns
    -------
    Model
        The pipeline fitted on the training split, its decision threshold (chosen by
        cross-validation on the training split only) and metadata: versions, labels, data
        hash and counts, chosen hyper-parameters, CV scores, held-out metrics and baselines.

    Examples
    --------
    >>> model = train(TEXTS, LABELS, config=TrainConfig(grid=(("logreg", (10.0,)),),
    ...                                                 char_ngrams=(None,), folds=3))
    >>> model.metadata["chosen"]["classifier"]
    'logreg'
    >>> model.predict(["@sam thanks, see you tomorrow!"])
    ['conversational']
    """
    cfg = config or TrainConfig()
    started = time.perf_counter()
    texts, labels, dropped = _dedupe([str(t) for t in texts], [str(x) for x in labels])
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise DataError(f"labels must be {' or '.join(LABELS)}; found {unknown}")
    for label in LABELS:
        if labels.count(label) < MIN_PER_LABEL:
            raise DataError(f"{labels.count(label)} distinct posts labelled {label!r}; training "
                            f"needs at least {MIN_PER_LABEL} of each label")
    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=cfg.test_size, stratify=labels, random_state=cfg.seed
    )
    folds = StratifiedKFold(cfg.folds, shuffle=True, random_state=cfg.seed)
    grid = [
        {
            "features": [build_pipeline(word_ngrams=cfg.word_ngrams, char_ngrams=chars)
                         .named_steps["features"]],
            "clf": [_classifier(name, s, cfg.seed) for s in strengths],
        }
        for chars in cfg.char_ngrams
        for name, strengths in cfg.grid
    ]
    search = GridSearchCV(
        build_pipeline(seed=cfg.seed), grid, scoring="f1_macro", cv=folds, n_jobs=cfg.jobs,
        refit=False, error_score="raise",
    )
    search.fit(x_train, y_train)
    best = search.best_params_
    pipeline = build_pipeline(seed=cfg.seed).set_params(**best)
    oof = cross_val_predict(clone(pipeline), x_train, y_train, cv=folds, method="predict_proba",
                            n_jobs=cfg.jobs)
    classes = sorted(LABELS)
    y_bin = np.asarray(y_train) == CONVERSATIONAL
    threshold = _best_threshold(y_bin, oof[:, classes.index(CONVERSATIONAL)])
    pipeline.fit(x_train, y_train)
    model = Model(pipeline=pipeline, threshold=threshold)

    proba = model.predict_proba(x_test)
    predicted = model.labels_for(proba)
    majority = max(LABELS, key=lambda lab: (y_train.count(lab), lab == BROADCAST))
    chosen = _describe(best)
    cv_table = [
        {"params": _describe(p), "macro_f1": float(m), "std": float(s)}
        for p, m, s in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"],
                           search.cv_results_["std_test_score"], strict=True)
    ]
    from postkind import __version__

    model.metadata = {
        "postkind_version": __version__,
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "labels": list(LABELS),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": cfg.seed,
        "data": dict(data_info or {}),
        "rows": {"total": len(texts), "duplicates_dropped": dropped, "train": len(x_train),
                 "heldout": len(x_test),
                 "train_by_label": {lab: y_train.count(lab) for lab in LABELS},
                 "heldout_by_label": {lab: y_test.count(lab) for lab in LABELS}},
        "majority_label": majority,
        "chosen": chosen,
        "threshold": threshold,
        "cv": {"folds": cfg.folds, "best_macro_f1": float(search.best_score_),
               "results": sorted(cv_table, key=lambda r: -r["macro_f1"])},
        "heldout": {
            "model": score(y_test, predicted, proba),
            "baselines": {name: score(y_test, pred)
                          for name, pred in baselines(x_test, majority=majority).items()},
            "calibration": calibration(y_test, proba),
            "threshold": threshold,
        },
        "heldout_digests": sorted(text_digest(t) for t in x_test),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return model


def _describe(params: dict[str, Any]) -> dict[str, Any]:
    clf = params["clf"]
    name = type(clf).__name__
    inner = getattr(clf, "estimator", None)
    family = {"LogisticRegression": "logreg", "CalibratedClassifierCV": "svm",
              "SGDClassifier": "sgd", "ComplementNB": "cnb"}[name]
    strength = (inner.C if inner is not None else getattr(clf, "C", None)) if family in (
        "logreg", "svm") else clf.alpha
    features = params["features"]
    chars = None
    if hasattr(features, "transformer_list"):
        chars = list(dict(features.transformer_list)["chars"].ngram_range)
    return {"classifier": family, "strength": float(strength), "char_ngrams": chars}

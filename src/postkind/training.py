"""Training: choose the classifier by cross-validation, fit it, score it on held-out posts."""

from __future__ import annotations

import hashlib
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import numpy as np
import sklearn
from joblib import Memory
from sklearn.metrics import f1_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)

from postkind.data import MIN_PER_LABEL
from postkind.errors import DataError
from postkind.evaluation import baselines, calibration, score
from postkind.labels import BROADCAST, CONVERSATIONAL, LABELS
from postkind.model import Model, _classifier, build_pipeline

__all__ = ["QUICK", "TrainConfig", "train", "text_digest"]


@dataclass(frozen=True)
class TrainConfig:
    """Defaults of :func:`train`; every random choice follows ``seed``."""

    seed: int = 0
    test_size: float = 0.2
    folds: int = 5
    jobs: int = -1
    #: (classifier, strengths) pairs searched by cross-validation.
    grid: tuple[tuple[str, tuple[float, ...]], ...] = (
        ("logreg", (10.0, 30.0)),
        ("svm", (0.5, 1.0)),
        ("sgd", (3e-5,)),
        ("cnb", (0.3,)),
    )
    #: Feature sets searched: character n-gram range beside the word n-grams, or None for
    #: word n-grams only (which lost by 2-3 points of CV macro-F1 on ``data/`` every time).
    char_ngrams: tuple[tuple[int, int] | None, ...] = ((1, 4), (2, 5))
    word_ngrams: tuple[int, int] = (1, 2)

    def with_seed(self, seed: int) -> TrainConfig:
        """The same configuration with another seed."""
        return replace(self, seed=seed)


#: A small search for trials and smoke tests: logistic regression on word n-grams.
QUICK = TrainConfig(grid=(("logreg", (10.0,)),), char_ngrams=(None,), folds=3)


def text_digest(text: str) -> str:
    """Short stable digest of a post, used to remember the held-out rows.

    Examples
    --------
    >>> text_digest("hello")
    'aaf4c61ddcc5e8a2dabede0f'
    """
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def _dedupe(
    texts: list[str], labels: list[str], weights: list[float]
) -> tuple[list[str], list[str], list[float], int]:
    """Keep one row per text; a later row (a user's own label) overrides an earlier one."""
    seen: dict[str, tuple[str, float]] = {}
    for text, label, weight in zip(texts, labels, weights, strict=True):
        seen[text] = (label, weight)
    kept = list(seen)
    return (kept, [seen[t][0] for t in kept], [seen[t][1] for t in kept], len(texts) - len(kept))


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
    weights: Sequence[float] | None = None,
    config: TrainConfig | None = None,
    data_info: dict[str, Any] | None = None,
) -> Model:
    """Fit a model: hold out a stratified split, pick the classifier by CV, refit, score.

    Parameters
    ----------
    texts, labels : sequences of str
        Posts and their labels (``broadcast`` or ``conversational``).
    weights : sequence of float, optional
        A weight per post, such as a higher weight for posts a user labelled from their own
        data (``postkind train --data ... --data to_label.csv``). Default: all 1.
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
    texts = [str(t) for t in texts]
    labels = [str(x) for x in labels]
    weights = [1.0] * len(texts) if weights is None else [float(w) for w in weights]
    texts, labels, weights, dropped = _dedupe(texts, labels, weights)
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise DataError(f"labels must be {' or '.join(LABELS)}; found {unknown}")
    for label in LABELS:
        if labels.count(label) < MIN_PER_LABEL:
            raise DataError(
                f"{labels.count(label)} distinct posts labelled {label!r}; training "
                f"needs at least {MIN_PER_LABEL} of each label"
            )
    # Posts with a weight of their own (a user's labels) always stay in the training split;
    # the held-out split is drawn from the base data only.
    base = [i for i, w in enumerate(weights) if w == 1.0]
    extra = [i for i, w in enumerate(weights) if w != 1.0]
    train_idx, test_idx = train_test_split(
        base, test_size=cfg.test_size, stratify=[labels[i] for i in base], random_state=cfg.seed
    )
    train_idx = list(train_idx) + extra
    x_train, y_train = [texts[i] for i in train_idx], [labels[i] for i in train_idx]
    w_train = [weights[i] for i in train_idx]
    x_test, y_test = [texts[i] for i in test_idx], [labels[i] for i in test_idx]
    # Weights reach the classifier only when some differ, so plain data trains as before.
    fit_params = {"clf__sample_weight": np.asarray(w_train)} if len(set(weights)) > 1 else {}
    folds = StratifiedKFold(cfg.folds, shuffle=True, random_state=cfg.seed)
    grid = [
        {
            "features": [
                build_pipeline(word_ngrams=cfg.word_ngrams, char_ngrams=chars).named_steps[
                    "features"
                ]
            ],
            "clf": [_classifier(name, s, cfg.seed) for s in strengths],
        }
        for chars in cfg.char_ngrams
        for name, strengths in cfg.grid
    ]
    with tempfile.TemporaryDirectory(prefix="postkind-cache-") as cache:
        # The cache lets every classifier of a fold reuse that fold's fitted features.
        memory = Memory(cache, verbose=0)
        search = GridSearchCV(
            build_pipeline(seed=cfg.seed).set_params(memory=memory),
            grid,
            scoring="f1_macro",
            cv=folds,
            n_jobs=cfg.jobs,
            refit=False,
            error_score="raise",
        )
        search.fit(x_train, y_train, **fit_params)
        best = search.best_params_
        oof = cross_val_predict(
            build_pipeline(seed=cfg.seed).set_params(memory=memory, **best),
            x_train,
            y_train,
            cv=folds,
            method="predict_proba",
            n_jobs=cfg.jobs,
            params=fit_params,
        )
    pipeline = build_pipeline(seed=cfg.seed).set_params(**best)
    classes = sorted(LABELS)
    y_bin = np.asarray(y_train) == CONVERSATIONAL
    threshold = _best_threshold(y_bin, oof[:, classes.index(CONVERSATIONAL)])
    pipeline.fit(x_train, y_train, **fit_params)
    model = Model(pipeline=pipeline, threshold=threshold)

    proba = model.predict_proba(x_test)
    predicted = model.labels_for(proba)
    majority = max(LABELS, key=lambda lab: (y_train.count(lab), lab == BROADCAST))
    chosen = _describe(best)
    cv_table = [
        {"params": _describe(p), "macro_f1": float(m), "std": float(s)}
        for p, m, s in zip(
            search.cv_results_["params"],
            search.cv_results_["mean_test_score"],
            search.cv_results_["std_test_score"],
            strict=True,
        )
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
        "rows": {
            "total": len(texts),
            "duplicates_dropped": dropped,
            "train": len(x_train),
            "weighted": sum(1 for w in weights if w != 1.0),
            "heldout": len(x_test),
            "train_by_label": {lab: y_train.count(lab) for lab in LABELS},
            "heldout_by_label": {lab: y_test.count(lab) for lab in LABELS},
        },
        "majority_label": majority,
        "chosen": chosen,
        "threshold": threshold,
        "cv": {
            "folds": cfg.folds,
            "best_macro_f1": float(search.best_score_),
            "results": sorted(cv_table, key=lambda r: -r["macro_f1"]),
        },
        "heldout": {
            "model": score(y_test, predicted, proba),
            "baselines": {
                name: score(y_test, pred)
                for name, pred in baselines(x_test, majority=majority).items()
            },
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
    family = {
        "LogisticRegression": "logreg",
        "CalibratedClassifierCV": "svm",
        "SGDClassifier": "sgd",
        "ComplementNB": "cnb",
    }[name]
    if family == "svm":
        strength = clf.estimator.C
    elif family == "logreg":
        strength = clf.C
    else:
        strength = clf.alpha
    features = params["features"]
    chars = None
    if hasattr(features, "transformer_list"):
        chars = list(dict(features.transformer_list)["chars"].ngram_range)
    return {"classifier": family, "strength": float(strength), "char_ngrams": chars}

"""Which features push a post towards each label, for error analysis."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from postkind.labels import BROADCAST, CONVERSATIONAL
from postkind.model import Model

__all__ = ["explain", "feature_weights", "top_features", "top_features_per_label"]


def feature_weights(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(names, weights)``: each feature's weight towards ``conversational``.

    A positive weight pushes a post towards ``conversational``, a negative one towards
    ``broadcast``. For calibrated SVMs the weights of the calibrated folds are averaged;
    for complement naive Bayes the weight is the log-probability difference.
    """
    features = model.pipeline.named_steps["features"]
    clf = model.pipeline.named_steps["clf"]
    names = np.asarray(features.get_feature_names_out(), dtype=object)
    if hasattr(clf, "calibrated_classifiers_"):
        coef = np.mean([c.estimator.coef_[0] for c in clf.calibrated_classifiers_], axis=0)
    elif hasattr(clf, "coef_"):
        coef = np.asarray(clf.coef_[0])
    else:  # ComplementNB: log-probabilities per class
        classes = list(clf.classes_)
        logp = clf.feature_log_prob_
        coef = logp[classes.index(CONVERSATIONAL)] - logp[classes.index(BROADCAST)]
    if list(clf.classes_)[-1] != CONVERSATIONAL:
        coef = -coef
    return names, np.asarray(coef, dtype=float)


def top_features(model: Model, text: str, *, k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` features of ``text`` with the largest contribution (value x weight).

    Examples
    --------
    >>> [name for name, _ in top_features(MODEL, "@sam thanks!", k=2)]  # doctest: +SKIP
    ['thanks', 'xleadmentionx']
    """
    names, weights = feature_weights(model)
    row = model.pipeline.named_steps["features"].transform([text]).tocsr()
    contrib = row.data * weights[row.indices]
    order = np.argsort(-np.abs(contrib))[:k]
    return [(str(names[row.indices[i]]), float(contrib[i])) for i in order]


def top_features_per_label(model: Model, *, k: int = 20) -> dict[str, list[tuple[str, float]]]:
    """The ``k`` features with the largest weight towards each label."""
    names, weights = feature_weights(model)
    order = np.argsort(weights)
    return {
        CONVERSATIONAL: [(str(names[i]), float(weights[i])) for i in order[::-1][:k]],
        BROADCAST: [(str(names[i]), float(weights[i])) for i in order[:k]],
    }


def explain(
    text: str, *, model: Model | str | os.PathLike[str] | None = None, k: int = 10
) -> dict[str, Any]:
    """Explain the label of one post.

    Returns
    -------
    dict
        ``label``, ``p_conversational``, and the features of the post that pushed it
        ``towards`` each label, largest first, as ``(feature, contribution)`` pairs.

    Examples
    --------
    >>> result = explain("@sam thanks, see you tomorrow!", model=MODEL)
    >>> result["label"]
    'conversational'
    >>> sorted(result["towards"])
    ['broadcast', 'conversational']
    """
    from postkind.prediction import resolve_model

    fitted = resolve_model(model)
    proba = float(fitted.predict_proba([text])[0])
    feats = top_features(fitted, text, k=max(k * 4, 40))
    return {
        "text": text,
        "label": fitted.labels_for(np.array([proba]))[0],
        "p_conversational": proba,
        "towards": {
            CONVERSATIONAL: [(f, w) for f, w in feats if w > 0][:k],
            BROADCAST: [(f, -w) for f, w in feats if w < 0][:k],
        },
    }

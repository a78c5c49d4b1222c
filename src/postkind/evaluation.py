"""Scoring a model on labelled posts, beside the trivial baselines."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from postkind.labels import BROADCAST, CONVERSATIONAL, LABELS
from postkind.model import Model

__all__ = [
    "evaluate",
    "evaluate_files",
    "score",
    "baselines",
    "calibration",
    "format_report",
    "BASELINES",
]

_URL = re.compile(r"https?://|www\.", re.IGNORECASE)

#: The trivial rules every model is reported beside.
BASELINES = ("majority", "leading @ -> conversational", "URL -> broadcast")


def baselines(texts: Sequence[str], *, majority: str = BROADCAST) -> dict[str, list[str]]:
    """Predictions of the three trivial rules for ``texts``.

    Examples
    --------
    >>> baselines(["@ana hi", "read http://x.co"])["URL -> broadcast"]
    ['conversational', 'broadcast']
    """
    return {
        "majority": [majority] * len(texts),
        "leading @ -> conversational": [
            CONVERSATIONAL if t.lstrip().startswith("@") else BROADCAST for t in texts
        ],
        "URL -> broadcast": [BROADCAST if _URL.search(t) else CONVERSATIONAL for t in texts],
    }


def score(
    truth: Sequence[str],
    predicted: Sequence[str],
    proba: Sequence[float] | np.ndarray | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label precision/recall/F1, ROC-AUC and confusion matrix.

    Examples
    --------
    >>> m = score(["broadcast", "conversational"], ["broadcast", "broadcast"])
    >>> m["accuracy"], m["per_label"]["broadcast"]["recall"]
    (0.5, 1.0)
    """
    labels = list(LABELS)
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    out: dict[str, Any] = {
        "n": len(truth),
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(
            f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)
        ),
        "per_label": {
            lab: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i, lab in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
    }
    if proba is not None:
        y = np.asarray(truth) == CONVERSATIONAL
        out["roc_auc"] = float(roc_auc_score(y, proba)) if 0 < y.sum() < len(y) else None
    return out


def _ece(conf: np.ndarray, correct: np.ndarray, which: np.ndarray, bins: int) -> float:
    """Sample-weighted gap between mean confidence and accuracy over the bins ``which``."""
    conf_sum = np.bincount(which, weights=conf, minlength=bins)
    right_sum = np.bincount(which, weights=correct, minlength=bins)
    return float(np.abs(conf_sum - right_sum).sum() / max(len(conf), 1))


def calibration(
    truth: Sequence[str],
    proba: Sequence[float] | np.ndarray,
    *,
    bins: int = 10,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Expected calibration error of the confidence in the chosen label, with its uncertainty.

    Confidence is P(chosen label) with the label chosen at 0.5; ECE is the
    sample-weighted gap between confidence and accuracy over equal-width bins.

    On a few hundred posts ECE is noisy and biased upwards: even a perfectly calibrated model
    shows a gap in every small bin. So two more figures come with it: ``ece_interval``, a 95%
    bootstrap interval over the posts, and ``ece_if_calibrated``, the mean ECE of a perfectly
    calibrated model with these same confidences (labels drawn from the confidences), the
    floor that a measured ECE should be read against.

    Examples
    --------
    >>> result = calibration(["conversational", "broadcast"], [0.9, 0.2])
    >>> round(result["ece"], 2)
    0.15
    >>> sorted(result)
    ['bins', 'ece', 'ece_if_calibrated', 'ece_interval']
    """
    p = np.asarray(proba, dtype=float)
    y = np.asarray(truth) == CONVERSATIONAL
    chosen = p >= 0.5
    conf = np.where(chosen, p, 1 - p)
    correct = (chosen == y).astype(float)
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    rows = [
        {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "n": int(mask.sum()),
            "confidence": float(conf[mask].mean()),
            "accuracy": float(correct[mask].mean()),
        }
        for b in range(bins)
        if (mask := which == b).any()
    ]
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(resamples):  # one resample at a time: memory stays O(posts)
        d = rng.integers(0, len(conf), size=len(conf))
        boot.append(_ece(conf[d], correct[d], which[d], bins))
    ideal = [
        _ece(conf, (rng.random(len(conf)) < conf).astype(float), which, bins)
        for _ in range(resamples)
    ]
    return {
        "ece": _ece(conf, correct, which, bins),
        "ece_interval": [float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))],
        "ece_if_calibrated": float(np.mean(ideal)),
        "bins": rows,
    }


def evaluate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    model: Model | str | os.PathLike[str] | None = None,
    report_dir: str | os.PathLike[str] | None = None,
    slices: Sequence[str] | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score ``model`` on labelled posts beside the three trivial baselines.

    Parameters
    ----------
    texts, labels : sequences of str
        The posts and their true labels.
    model : Model or path, optional
        Defaults to the model :func:`postkind.load_model` finds.
    report_dir : path, optional
        When given, write ``metrics.json``, ``confusion.png``, ``precision_recall.png``,
        ``reliability.png`` and ``misclassified.csv`` there.
    slices : sequence of str, optional
        A group name per post (such as its source); metrics are also given per group.
    data : dict, optional
        Facts about the scored data (files, rows) kept under ``data`` in the report.

    Returns
    -------
    dict
        ``model`` (metrics of the model), ``baselines`` (metrics of each rule),
        ``calibration``, ``slices`` (when given) and ``misclassified`` (count).

    Examples
    --------
    >>> report = evaluate(TEXTS, LABELS, model=MODEL)
    >>> sorted(report["baselines"])
    ['URL -> broadcast', 'leading @ -> conversational', 'majority']
    """
    from postkind.prediction import resolve_model

    fitted = resolve_model(model)
    texts = [str(t) for t in texts]
    truth = [str(x) for x in labels]
    proba = fitted.predict_proba(texts)
    predicted = fitted.labels_for(proba)
    majority = fitted.metadata.get("majority_label", BROADCAST)
    rules = baselines(texts, majority=majority)
    report: dict[str, Any] = {
        "model": score(truth, predicted, proba),
        "baselines": {name: score(truth, pred) for name, pred in rules.items()},
        "calibration": calibration(truth, proba),
        "threshold": fitted.threshold,
    }
    if slices is not None:
        report["slices"] = {}
        frame = pd.DataFrame(
            {"t": truth, "p": predicted, "s": list(slices), "i": range(len(truth))}
        )
        for name, group in frame.groupby("s", sort=True):
            idx = group["i"].to_numpy()
            report["slices"][str(name)] = {
                "model": score(group["t"].tolist(), group["p"].tolist()),
                "baselines": {
                    rule: score(group["t"].tolist(), [pred[i] for i in idx])
                    for rule, pred in rules.items()
                },
            }
    wrong = [i for i, (t, p) in enumerate(zip(truth, predicted, strict=True)) if t != p]
    report["misclassified"] = len(wrong)
    if data is not None:
        report["data"] = data
    if report_dir is not None:
        _write_report(Path(report_dir), report, texts, truth, proba, wrong, fitted)
    return report


def _write_report(
    folder: Path,
    report: dict[str, Any],
    texts: list[str],
    truth: list[str],
    proba: np.ndarray,
    wrong: list[int],
    model: Model,
) -> None:
    from postkind.explanation import top_features

    folder.mkdir(parents=True, exist_ok=True)
    mis = pd.DataFrame(
        {
            "text": [texts[i] for i in wrong],
            "label": [truth[i] for i in wrong],
            "predicted": model.labels_for(proba[wrong]) if wrong else [],
            "p_conversational": proba[wrong] if wrong else [],
            "top_features": [
                "; ".join(f"{f} {w:+.2f}" for f, w in top_features(model, texts[i], k=6))
                for i in wrong
            ],
        }
    )
    _atomic_write(folder / "misclassified.csv", mis.to_csv(index=False).encode())
    _atomic_write(folder / "metrics.json", json.dumps(report, indent=2).encode())
    _plots(folder, report, truth, proba)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _plots(folder: Path, report: dict[str, Any], truth: list[str], proba: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay

    matrix = np.array(report["model"]["confusion_matrix"]["matrix"])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay(matrix, display_labels=list(LABELS)).plot(ax=ax, colorbar=False)
    ax.set_title("postkind confusion matrix")
    fig.tight_layout()
    fig.savefig(folder / "confusion.png", dpi=100)
    plt.close(fig)

    y = np.asarray(truth) == CONVERSATIONAL
    fig, ax = plt.subplots(figsize=(4.5, 4))
    if 0 < y.sum() < len(y):
        PrecisionRecallDisplay.from_predictions(y, proba, name="conversational", ax=ax)
        PrecisionRecallDisplay.from_predictions(~y, 1 - proba, name="broadcast", ax=ax)
    ax.set_title("precision-recall")
    fig.tight_layout()
    fig.savefig(folder / "precision_recall.png", dpi=100)
    plt.close(fig)

    bins = report["calibration"]["bins"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot([0.5, 1], [0.5, 1], "--", color="grey", label="perfect")
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", label="model")
    ax.set_xlabel("confidence in chosen label")
    ax.set_ylabel("accuracy")
    ax.set_title(f"reliability (ECE {report['calibration']['ece']:.3f})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "reliability.png", dpi=100)
    plt.close(fig)


def format_report(report: dict[str, Any]) -> str:
    """Render an :func:`evaluate` report as a plain-text table.

    Examples
    --------
    >>> print(format_report(evaluate(TEXTS, LABELS, model=MODEL)).splitlines()[0])
    system                         accuracy  macro-F1  F1 broad.  F1 conv.
    """
    lines = [f"{'system':<30} {'accuracy':>8}  {'macro-F1':>8}  {'F1 broad.':>9}  {'F1 conv.':>8}"]

    def row(name: str, m: dict[str, Any]) -> str:
        f1 = m["per_label"]
        return (
            f"{name:<30} {m['accuracy']:>8.3f}  {m['macro_f1']:>8.3f}  "
            f"{f1[BROADCAST]['f1']:>9.3f}  {f1[CONVERSATIONAL]['f1']:>8.3f}"
        )

    lines.append(row("postkind", report["model"]))
    lines += [row(name, m) for name, m in report["baselines"].items()]
    m = report["model"]
    auc = m.get("roc_auc")
    lines.append("")
    lines.append(
        f"posts: {m['n']}   ROC-AUC: {'n/a' if auc is None else f'{auc:.3f}'}   "
        f"ECE: {report['calibration']['ece']:.3f}   threshold: {report['threshold']:.2f}"
    )
    for name, s in report.get("slices", {}).items():
        best = max(s["baselines"].values(), key=lambda b: b["macro_f1"])["macro_f1"]
        lines.append(
            f"  slice {name:<24} n={s['model']['n']:<5} acc {s['model']['accuracy']:.3f}"
            f"  macro-F1 {s['model']['macro_f1']:.3f}  (best rule {best:.3f})"
        )
    return "\n".join(lines)


def evaluate_files(
    paths: Sequence[str | os.PathLike[str]] | None = None,
    *,
    model: Model | str | os.PathLike[str] | None = None,
    report_dir: str | os.PathLike[str] | None = None,
    text_column: str = "text",
    label_column: str = "label",
    slice_column: str | None = None,
) -> dict[str, Any]:
    """Evaluate on labelled files; on the model's own training files, only held-out rows.

    With no ``paths``, the files the model was trained on are used. Rows of a file whose
    sha256 matches a training file are restricted to the model's held-out split, so that
    the score is never inflated by posts the model was fitted on.
    """
    from postkind.data import file_sha256, read_posts
    from postkind.prediction import resolve_model
    from postkind.training import text_digest

    fitted = resolve_model(model)
    trained_on = {f["sha256"]: f["path"] for f in fitted.metadata.get("data", {}).get("files", [])}
    if not paths:
        paths = list(trained_on.values())
        if not paths:
            raise ValueError("the model records no training files; pass --data")
    posts = read_posts(paths, text_column=text_column, label_column=label_column)
    seen = {str(p): file_sha256(p) in trained_on for p in paths}
    heldout = set(fitted.metadata.get("heldout_digests", []))
    keep = [
        not seen[f] or text_digest(t) in heldout
        for f, t in zip(posts["source_file"], posts["text"], strict=True)
    ]
    posts = posts[keep]
    slices = None
    if slice_column is not None:
        if slice_column not in posts.columns:
            from postkind.errors import DataError

            raise DataError(
                f"has no column {slice_column!r} to slice by",
                path=", ".join(map(str, paths)),
                column=slice_column,
            )
        slices = posts[slice_column].astype(str).tolist()
    report = evaluate(
        posts["text"].tolist(),
        posts["label"].tolist(),
        model=fitted,
        report_dir=report_dir,
        slices=slices,
        data={
            "files": [str(p) for p in paths],
            "heldout_only": any(seen.values()),
            "rows": len(posts),
        },
    )
    return report

"""Quality report on real labelled posts: ``make quality``.

Scores the trained model on ``../shared/eval/dev_labelled.csv`` overall and per ``source``
slice, beside the three trivial rules and a fastText supervised model trained on the same
``data/`` posts, and checks the targets of the quality issue. Writes ``reports/quality.md``
and ``reports/quality.json`` and prints the table.

    python scripts/quality.py --model models/postkind.joblib --shared ../shared --out reports
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from postkind.data import read_posts
from postkind.evaluation import baselines, evaluate, score
from postkind.model import load_model
from postkind.text import normalise


def fasttext_reference(
    train_texts: list[str], train_labels: list[str], texts: list[str], seed: int = 0
) -> list[str] | None:
    """Train fastText (word bigrams) on the training posts and label ``texts``."""
    try:
        import fasttext
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8") as fh:
            for text, label in zip(train_texts, train_labels, strict=True):
                fh.write(f"__label__{label} {_ft_text(text)}\n")
        model = fasttext.train_supervised(
            path, wordNgrams=2, epoch=25, lr=0.5, seed=seed, thread=1, verbose=0
        )
    labels, _ = model.predict([_ft_text(t) for t in texts])  # a list: single strings fail
    return [lab[0].replace("__label__", "") for lab in labels]


def _ft_text(text: str) -> str:
    return re.sub(r"\s+", " ", normalise(text))


def _row(name: str, m: dict[str, Any], interval: bool = False) -> str:
    p = m["per_label"]
    accuracy = f"{m['accuracy']:.3f}"
    if interval:  # Wilson 95% interval: a slice of 25 posts pins accuracy down to +-0.15
        from scipy.stats import binomtest

        matrix = m["confusion_matrix"]["matrix"]
        right = sum(matrix[i][i] for i in range(len(matrix)))
        ci = binomtest(right, m["n"]).proportion_ci(method="wilson")
        accuracy += f" ({ci.low:.2f}-{ci.high:.2f})"
    return (
        f"| {name} | {m['n']} | {accuracy} | {m['macro_f1']:.3f} | "
        f"{p['broadcast']['precision']:.3f} / {p['broadcast']['recall']:.3f} | "
        f"{p['conversational']['precision']:.3f} / {p['conversational']['recall']:.3f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="models/postkind.joblib")
    parser.add_argument("--shared", default="../shared", type=Path)
    parser.add_argument("--out", default="reports", type=Path)
    args = parser.parse_args()
    eval_path = args.shared / "eval" / "dev_labelled.csv"
    if not eval_path.exists():
        print(f"{eval_path} not found: nothing to score (needs ../shared)", file=sys.stderr)
        return 2
    model = load_model(args.model)
    posts = read_posts(eval_path)
    texts, truth = posts["text"].tolist(), posts["label"].tolist()
    sources = posts["source"].astype(str).tolist()
    report = evaluate(texts, truth, model=model, slices=sources, report_dir=args.out / "quality")

    train_files = [f["path"] for f in model.metadata["data"]["files"]]
    train = read_posts(train_files)
    heldout = set(model.metadata["heldout_digests"])
    from postkind.training import text_digest

    fit = train[[text_digest(t) not in heldout for t in train["text"]]]
    ft = fasttext_reference(fit["text"].tolist(), fit["label"].tolist(), texts)
    systems = {"postkind": report["model"], **report["baselines"]}
    if ft is not None:
        systems["fastText (same data/ posts)"] = score(truth, ft)
    rules = baselines(texts, majority=model.metadata.get("majority_label", "broadcast"))
    rules["leading @ or no URL -> conversational"] = [
        "conversational" if a == "conversational" or u == "conversational" else "broadcast"
        for a, u in zip(
            rules["leading @ -> conversational"], rules["URL -> broadcast"], strict=True
        )
    ]
    systems["leading @ or no URL -> conversational"] = score(
        truth, rules["leading @ or no URL -> conversational"]
    )
    best_rule = max(
        m["macro_f1"]
        for name, m in systems.items()
        if name != "postkind" and not name.startswith("fastText")
    )
    ours = report["model"]["macro_f1"]
    heldout_f1 = model.metadata["heldout"]["model"]["macro_f1"]
    slices = {name: s["model"] for name, s in report["slices"].items()}
    targets = {
        "macro-F1 >= 0.92": ours >= 0.92,
        "accuracy >= 0.88 on every slice with >= 25 posts": all(
            m["accuracy"] >= 0.88 for m in slices.values() if m["n"] >= 25
        ),
        "macro-F1 >= best trivial rule + 0.12": ours >= best_rule + 0.12,
        "above fastText on the same data": ft is None
        or ours > systems["fastText (same data/ posts)"]["macro_f1"],
        "ECE <= 0.05": report["calibration"]["ece"] <= 0.05,
        "held-out vs real macro-F1 gap <= 0.05": abs(heldout_f1 - ours) <= 0.05,
    }
    cal = report["calibration"]
    lines = [
        f"Model `{args.model}` ({model.metadata['chosen']}, threshold {model.threshold:.2f}), "
        f"trained only on `data/`; scored on {len(texts)} real posts of `{eval_path.name}`.",
        "",
        "| system | posts | accuracy | macro-F1 | broadcast P / R | conversational P / R |",
        "|---|---:|---:|---:|---:|---:|",
        *[_row(name, m) for name, m in systems.items()],
        "",
        "| source slice | posts | accuracy (95% interval) | macro-F1 | broadcast P / R | "
        "conversational P / R |",
        "|---|---:|---:|---:|---:|---:|",
        *[_row(name, m, interval=True) for name, m in slices.items()],
        "",
        f"Expected calibration error: {cal['ece']:.3f} (95% bootstrap interval "
        f"{cal['ece_interval'][0]:.3f}-{cal['ece_interval'][1]:.3f}; a perfectly calibrated "
        f"model with the same confidences would show {cal['ece_if_calibrated']:.3f} on "
        f"{len(texts)} posts; reliability plot: `reports/quality/reliability.png`). "
        f"Held-out split of `data/`: macro-F1 {heldout_f1:.3f}.",
        "",
        "| target | met |",
        "|---|---|",
        *[f"| {name} | {'yes' if ok else 'NO'} |" for name, ok in targets.items()],
    ]
    text = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(text + "\n", encoding="utf-8")
    result = {
        "systems": systems,
        "slices": slices,
        "calibration": report["calibration"],
        "heldout_macro_f1": heldout_f1,
        "targets": targets,
    }
    (args.out / "quality.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

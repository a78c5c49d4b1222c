"""Speed and memory benchmark of batch tagging (issue 4); not a test.

Builds a 1,000,000-row CSV by repeating the real posts in ``../shared/corpora`` (or
``data/posts.csv`` when that folder is absent), then measures, each system in its own
subprocess so that memory is its own:

* ``postkind tag`` on the 1,000,000 rows and on the first 100,000 (memory must stay flat);
* the I/O floor: pandas reads and writes the same CSV, no model;
* the plain scikit-learn pipeline: ``read_csv``, TF-IDF word 1-2-grams + logistic regression
  trained on ``data/posts.csv``, ``predict``, ``to_csv``;
* fastText trained on the same ``data/`` posts, predicting through its Python API on lists;
* the trained postkind model scored by scikit-learn itself (its own pipeline, on 100,000 rows);
* ``predict()`` latency for one post (p50, p99) once the model is loaded, ``predict()``
  throughput on a list of 100,000 strings, model load time, and ``make train``'s command.

For each: posts/s, wall time and the peak resident memory of the whole process tree (the sum
of the RSS of the process and its children, sampled every 50 ms; PSS, which counts shared
pages once, beside it). Prints a table and writes ``reports/bench.json``.

Usage: ``python scripts/bench.py --model models/postkind.joblib --shared ../shared --out reports``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHUNK_SIZE = 5000

# --- children: each system, run as ``bench.py --child NAME ...`` ---------------------------


def _child_io(src: str, dst: str) -> dict[str, Any]:
    import pandas as pd

    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    frame.to_csv(dst, index=False)
    return {"rows": len(frame)}


def _child_sklearn(src: str, dst: str, model: str) -> dict[str, Any]:
    import joblib
    import pandas as pd

    pipeline = joblib.load(model)
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    frame["label"] = pipeline.predict(frame["text"].tolist())
    frame.to_csv(dst, index=False)
    return {"rows": len(frame)}


def _child_postkind_sklearn(src: str, dst: str, model: str) -> dict[str, Any]:
    import pandas as pd

    from postkind.model import load_model

    pipeline = load_model(model).pipeline
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    frame["label"] = pipeline.predict(frame["text"].tolist())
    frame.to_csv(dst, index=False)
    return {"rows": len(frame)}


def _child_fasttext(src: str, dst: str, model: str) -> dict[str, Any]:
    import fasttext
    import pandas as pd

    classifier = fasttext.load_model(model)
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    texts = frame["text"].str.replace("\n", " ", regex=False).tolist()
    labels, _ = classifier.predict(texts)
    frame["label"] = [found[0].removeprefix("__label__") for found in labels]
    frame.to_csv(dst, index=False)
    return {"rows": len(frame)}


def _child_predict(src: str, dst: str, model: str) -> dict[str, Any]:
    import warnings

    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    from postkind import load_model, predict

    imported = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = load_model(model)
    loaded = time.perf_counter()
    predict("hello there", model=fitted)  # the fast path compiles on first use
    ready = time.perf_counter()
    texts = pd.read_csv(src, dtype=str, keep_default_na=False, nrows=100_000)["text"].tolist()
    latency = []
    for text in itertools.islice(itertools.cycle(texts), 2000):
        tick = time.perf_counter()
        predict(text, model=fitted)
        latency.append(time.perf_counter() - tick)
    tick = time.perf_counter()
    labels = predict(texts, model=fitted)
    batch = time.perf_counter() - tick
    assert len(labels) == len(texts)
    return {
        "import_s": imported - started,
        "load_model_s": loaded - imported,
        "first_predict_s": ready - loaded,
        "load_to_ready_s": ready - imported,
        "p50_ms": float(np.percentile(latency, 50) * 1000),
        "p99_ms": float(np.percentile(latency, 99) * 1000),
        "batch_rows": len(texts),
        "batch_s": batch,
        "batch_posts_per_s": len(texts) / batch,
    }


CHILDREN = {
    "io": _child_io,
    "sklearn": _child_sklearn,
    "fasttext": _child_fasttext,
    "postkind-sklearn": _child_postkind_sklearn,
    "predict": _child_predict,
}


# --- the parent: data, baselines, measurement ---------------------------------------------


def real_posts(shared: Path) -> tuple[list[str], str]:
    """The posts to repeat: ``shared/corpora`` when present, else ``data/posts.csv``."""
    import pandas as pd

    corpora = shared / "corpora"
    texts: list[str] = []
    if corpora.is_dir():
        for path in sorted(corpora.glob("*.csv")):
            texts += pd.read_csv(path, dtype=str, keep_default_na=False)["text"].tolist()
        for path in sorted(corpora.glob("*.jsonl")):
            column = pd.read_json(path, lines=True, dtype=False)["text"]
            texts += column.fillna("").astype(str).tolist()
        source = str(corpora)
    else:
        texts = pd.read_csv(ROOT / "data" / "posts.csv", dtype=str, keep_default_na=False)[
            "text"
        ].tolist()
        source = "data/posts.csv"
    return [t for t in texts if t.strip()], source


def build_csv(texts: list[str], rows: int, path: Path) -> dict[str, Any]:
    import pandas as pd

    cycle = itertools.islice(itertools.cycle(texts), rows)
    frame = pd.DataFrame({"id": range(rows), "text": list(cycle)})
    # CRLF line ends (RFC 4180): with "\n" ends to_csv leaves a lone "\r" in a post unquoted,
    # and readers split the row there (17 extra rows in a million).
    frame.to_csv(path, index=False, lineterminator="\r\n")
    return {"path": str(path), "rows": rows, "mb": round(path.stat().st_size / 1e6, 1)}


def train_baselines(work: Path) -> dict[str, Any]:
    """Train the plain scikit-learn pipeline and fastText on ``data/posts.csv``."""
    import fasttext
    import joblib
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    posts = pd.read_csv(ROOT / "data" / "posts.csv", dtype=str, keep_default_na=False)
    tick = time.perf_counter()
    plain = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=1000))
    plain.fit(posts["text"], posts["label"])
    joblib.dump(plain, work / "sklearn.joblib")
    sklearn_s = time.perf_counter() - tick
    lines = [
        f"__label__{label} {text.replace(chr(10), ' ')}"
        for text, label in zip(posts["text"], posts["label"], strict=True)
    ]
    (work / "fasttext.train").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tick = time.perf_counter()
    classifier = fasttext.train_supervised(
        str(work / "fasttext.train"), wordNgrams=2, epoch=25, lr=0.5, verbose=0
    )
    classifier.save_model(str(work / "fasttext.bin"))
    return {
        "train_rows": len(posts),
        "sklearn_train_s": round(sklearn_s, 2),
        "fasttext_train_s": round(time.perf_counter() - tick, 2),
    }


def measure(command: list[str], *, poll: float = 0.05) -> dict[str, Any]:
    """Run ``command``; wall time, exit code, peak RSS and PSS summed over its process tree."""
    import psutil

    tick = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(process.pid)
    peak_rss = peak_pss = 0
    while process.poll() is None:
        rss = pss = 0
        try:
            for proc in [root, *root.children(recursive=True)]:
                try:
                    info = proc.memory_full_info()
                except psutil.Error:
                    continue
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
        except psutil.Error:
            pass
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(poll)
    out, err = process.communicate()
    wall = time.perf_counter() - tick
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{err[-2000:]}")
    result: dict[str, Any] = {
        "wall_s": round(wall, 2),
        "peak_rss_mb": peak_rss >> 20,
        "peak_pss_mb": peak_pss >> 20,
    }
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if last.startswith("{"):
        result.update(json.loads(last))
    return result


def child(name: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", name, *args]


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs, with every run's wall time and memory kept beside it."""
    chosen = dict(min(runs, key=lambda r: r["wall_s"]))
    if len(runs) > 1:
        chosen["runs"] = [{k: r[k] for k in ("wall_s", "peak_rss_mb", "peak_pss_mb")} for r in runs]
    return chosen


def run(args: argparse.Namespace) -> dict[str, Any]:
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="postkind-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    model = str(Path(args.model).resolve())
    if not Path(model).is_file():
        raise SystemExit(f"{model}: no model; run `make train` first")
    texts, source = real_posts(Path(args.shared))
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_start": os.getloadavg(),
        },
        "posts_source": source,
        "distinct_posts": len(set(texts)),
        "chunk_size": CHUNK_SIZE,
    }
    big = build_csv(texts, args.rows, work / "posts_big.csv")
    small = build_csv(texts, args.small, work / "posts_small.csv")
    report["inputs"] = {"big": big, "small": small}
    report["baselines"] = train_baselines(work)
    tag = [str(BIN / "postkind"), "tag", "--model", model, "--chunk-size", str(CHUNK_SIZE)]
    systems: dict[str, tuple[list[str], int]] = {
        "postkind tag": ([*tag, big["path"], "-o", str(work / "out_tag.csv")], big["rows"]),
        "postkind tag (100k)": (
            [*tag, small["path"], "-o", str(work / "out_small.csv")],
            small["rows"],
        ),
        "I/O floor (pandas)": (child("io", big["path"], str(work / "out_io.csv")), big["rows"]),
        "scikit-learn word 1-2 + LR": (
            child("sklearn", big["path"], str(work / "out_sk.csv"), str(work / "sklearn.joblib")),
            big["rows"],
        ),
        "fastText (Python API)": (
            child("fasttext", big["path"], str(work / "out_ft.csv"), str(work / "fasttext.bin")),
            big["rows"],
        ),
        "postkind model in scikit-learn (100k)": (
            child("postkind-sklearn", small["path"], str(work / "out_pks.csv"), model),
            small["rows"],
        ),
    }
    results: dict[str, Any] = {}
    for name, (command, rows) in systems.items():
        repeats = 1 if "scikit-learn" in name else args.repeat
        runs = []
        for _ in range(repeats):
            print(f"... {name}", file=sys.stderr, flush=True)
            runs.append(measure(command))
        result = best(runs)
        result["rows"] = rows
        result["posts_per_s"] = round(rows / result["wall_s"])
        result["command"] = " ".join(command)
        results[name] = result
    print("... predict()", file=sys.stderr, flush=True)
    results["predict()"] = measure(child("predict", small["path"], "-", model))
    if not args.skip_train:
        print("... make train (postkind train on data/posts.csv)", file=sys.stderr, flush=True)
        results["make train"] = measure(
            [
                str(BIN / "postkind"),
                "train",
                "--data",
                str(ROOT / "data" / "posts.csv"),
                "--model",
                str(work / "train.joblib"),
            ]
        )
    report["results"] = results
    report["machine"]["load_average_end"] = os.getloadavg()
    report["targets"] = targets(results)
    (out_dir / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    tag, small = results["postkind tag"], results["postkind tag (100k)"]
    floor, sk = results["I/O floor (pandas)"], results["scikit-learn word 1-2 + LR"]
    ft, pred = results["fastText (Python API)"], results["predict()"]
    checks = [
        ("posts/s >= 2x fastText", tag["posts_per_s"] / ft["posts_per_s"], ">=", 2.0),
        ("posts/s >= 4x scikit-learn", tag["posts_per_s"] / sk["posts_per_s"], ">=", 4.0),
        ("wall <= 2x I/O floor", tag["wall_s"] / floor["wall_s"], "<=", 2.0),
        ("peak memory (RSS, tree) <= 500 MB", tag["peak_rss_mb"], "<=", 500),
        ("peak memory (PSS, tree) <= 500 MB", tag["peak_pss_mb"], "<=", 500),
        (
            "memory at 1M within 10% of 100k (RSS)",
            tag["peak_rss_mb"] / small["peak_rss_mb"],
            "<=",
            1.10,
        ),
        ("predict() p50 <= 1 ms", pred["p50_ms"], "<=", 1.0),
        ("model load <= 1 s (load_model)", pred["load_model_s"], "<=", 1.0),
        ("model load <= 1 s (load_model + first predict)", pred["load_to_ready_s"], "<=", 1.0),
    ]
    if "make train" in results:
        checks.append(("make train <= 120 s", results["make train"]["wall_s"], "<=", 120.0))
    return [
        {
            "target": name,
            "value": round(float(value), 3),
            "limit": limit,
            "met": bool(value >= limit if op == ">=" else value <= limit),
        }
        for name, value, op, limit in checks
    ]


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{'system':40} {'rows':>9} {'posts/s':>9} {'wall s':>7} {'RSS MB':>7} {'PSS MB':>7}")
    for name, r in report["results"].items():
        if "posts_per_s" in r:
            print(
                f"{name:40} {r['rows']:>9,} {r['posts_per_s']:>9,} {r['wall_s']:>7.1f} "
                f"{r['peak_rss_mb']:>7} {r['peak_pss_mb']:>7}"
            )
    p = report["results"]["predict()"]
    print(
        f"\npredict(): one post p50 {p['p50_ms']:.3f} ms, p99 {p['p99_ms']:.3f} ms; "
        f"{p['batch_posts_per_s']:,.0f} posts/s on a list of {p['batch_rows']:,}"
    )
    print(
        f"model: import {p['import_s']:.2f} s, load_model {p['load_model_s']:.2f} s, "
        f"first predict (compiles the fast path) {p['first_predict_s']:.2f} s"
    )
    if "make train" in report["results"]:
        print(f"make train: {report['results']['make train']['wall_s']:.0f} s")
    print(
        f"load average: {report['machine']['load_average_start']} at start, "
        f"{report['machine']['load_average_end']} at end ({report['machine']['cpus']} cpus)"
    )
    print("\ntargets:")
    for t in report["targets"]:
        print(
            f"  [{'met' if t['met'] else 'NOT met':>7}] {t['target']}: {t['value']} "
            f"(limit {t['limit']})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/postkind.joblib")
    parser.add_argument("--shared", default="../shared")
    parser.add_argument("--out", default="reports")
    parser.add_argument("--work", help="folder for the generated files (default: a temp dir)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each fast system")
    parser.add_argument("--skip-train", action="store_true", help="do not time training")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, *rest = args.child
        print(json.dumps(CHILDREN[name](*rest)))
        return 0
    report = run(args)
    print_table(report)
    print(f"\nwritten {Path(args.out) / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

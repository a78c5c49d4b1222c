"""The ``postkind`` command line: a thin layer over the Python API.

Exit codes: 0 success, 2 usage or data error, 1 any other failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from postkind import __version__
from postkind.data import (
    FORMATS,
    MIN_PER_LABEL,
    SKIP_LABEL,
    WRITE_FORMATS,
    file_sha256,
    read_posts,
)
from postkind.errors import DataError, PostkindError
from postkind.prediction import DEFAULT_MODEL

__all__ = ["main", "build_parser"]

DEFAULT_DATA = Path("data") / "posts.csv"


def _training_posts(args: argparse.Namespace, paths: list[Path]) -> tuple[Any, list[float]]:
    """Posts of the first file with weight 1; those of later files (a user's own labels,
    unlabelled and skipped rows left out) with weight ``--extra-weight``."""
    import pandas as pd

    if args.weak_labels:
        from postkind.data import read_table
        from postkind.exports import structural_labels

        posts = pd.concat(
            [
                structural_labels(read_table(p), text_column=args.text_column).assign(
                    source_file=str(p)
                )
                for p in paths
            ],
            ignore_index=True,
        )
        print(f"{len(posts)} posts labelled by reply structure (is_reply), not by the codebook")
        return posts, [1.0] * len(posts)
    columns = {"text_column": args.text_column, "label_column": args.label_column}
    posts = read_posts(paths[:1], **columns, min_per_label=MIN_PER_LABEL if len(paths) == 1 else 0)
    if len(paths) == 1:
        return posts, [1.0] * len(posts)
    extra = read_posts(paths[1:], **columns, drop_unlabelled=True)
    print(
        f"{len(extra)} user-labelled posts from {', '.join(map(str, paths[1:]))} get weight "
        f"{args.extra_weight:g}; ignored {sum(extra.attrs['unlabelled'].values())} rows with "
        f"an empty or {SKIP_LABEL!r} label"
    )
    weights = [1.0] * len(posts) + [args.extra_weight] * len(extra)
    return pd.concat([posts, extra], ignore_index=True), weights


def _train(args: argparse.Namespace) -> int:
    from postkind.evaluation import format_report
    from postkind.model import save_model
    from postkind.training import QUICK, TrainConfig, train

    paths = args.data or [DEFAULT_DATA]
    posts, weights = _training_posts(args, paths)
    info: dict[str, Any] = {
        "files": [
            {
                "path": str(p),
                "sha256": file_sha256(p),
                "rows": int((posts["source_file"] == str(p)).sum()),
            }
            for p in paths
        ]
    }
    if len(paths) > 1:
        info["extra_weight"] = args.extra_weight
    config = QUICK.with_seed(args.seed) if args.quick else TrainConfig(seed=args.seed)
    model = train(posts["text"], posts["label"], weights=weights, config=config, data_info=info)
    save_model(model, args.model)
    meta = model.metadata
    print(
        f"trained on {meta['rows']['train']} posts, held out {meta['rows']['heldout']}; "
        f"chose {meta['chosen']} (CV macro-F1 {meta['cv']['best_macro_f1']:.3f}), "
        f"threshold {model.threshold:.2f}"
    )
    print(format_report(meta["heldout"]))
    print(f"model written to {args.model}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from postkind.evaluation import evaluate_files, format_report

    report = evaluate_files(
        args.data,
        model=args.model,
        report_dir=args.report_dir,
        text_column=args.text_column,
        label_column=args.label_column,
        slice_column=args.slice_column,
    )
    scope = "held-out rows of " if report["data"]["heldout_only"] else ""
    print(f"{scope}{', '.join(report['data']['files'])}: {report['data']['rows']} posts")
    print(format_report(report))
    if args.report_dir:
        print(f"report written to {args.report_dir}/")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from postkind.prediction import CONFIDENCE_COLUMN, LABEL_COLUMN, tag_frame

    texts = args.text or [line.rstrip("\n") for line in sys.stdin]
    tagged = tag_frame(pd.DataFrame({"text": texts}), "text", model=args.model)
    for text, label, conf in zip(
        texts, tagged[LABEL_COLUMN], tagged[CONFIDENCE_COLUMN], strict=True
    ):
        print(f"{label}\t{'' if label == '' else f'{conf:.3f}'}\t{text}")
    return 0


def _tag_options(args: argparse.Namespace, *, default_format: str | None) -> dict[str, Any]:
    """The options `tag` passes on, whichever engine runs it."""
    return {
        "text_column": args.text_column,
        "model": args.model,
        "input_format": args.input_format or args.format,
        "output_format": args.output_format or args.format or default_format,
        "min_confidence": args.min_confidence,
        "chunk_size": args.chunk_size,
        "jobs": args.jobs,
    }


def _tag(args: argparse.Namespace) -> int:
    if args.engine == "dask":
        from postkind.distributed import tag_files_dask

        result = tag_files_dask(
            args.input,
            args.output,
            scheduler=args.scheduler,
            resume=args.resume,
            **_tag_options(args, default_format="parquet"),
        )
        done = f"in {result['written']} parts ({result['skipped']} already complete)"
    else:
        from postkind.prediction import tag_file

        if args.scheduler or args.resume:
            raise DataError("--scheduler and --resume need --engine dask")
        result = tag_file(args.input, args.output, **_tag_options(args, default_format=None))
        done = f"(text column {result['text_column']!r})"
    print(
        f"tagged {result['tagged']} of {result['rows']} rows {done} -> {result['output']}",
        file=sys.stderr,
    )
    return 0


def _sample(args: argparse.Namespace) -> int:
    from postkind.sampling import check_sample_output, sample, write_sample

    check_sample_output(args.input, args.output)  # before the slow part
    picked = sample(
        args.input,
        args.n,
        model=args.model,
        text_column=args.text_column,
        seed=args.seed,
        fmt=args.format,
        pool_size=args.pool,
    )
    write_sample(picked, args.output)
    print(
        f"wrote {len(picked)} posts to label to {args.output}; next: postkind label {args.output}",
        file=sys.stderr,
    )
    return 0


def _label(args: argparse.Namespace) -> int:
    from postkind.labelling import label_file

    result = label_file(args.file, text_column=args.text_column, label_column=args.label_column)
    print(
        f"\n{result['total'] - result['remaining']} of {result['total']} rows labelled "
        f"({result['broadcast']} broadcast, {result['conversational']} conversational, "
        f"{result['skip']} skipped), saved in {args.file}"
    )
    if result["remaining"]:
        print(f"{result['remaining']} to go: run `postkind label {args.file}` again to resume")
    else:
        print(f"done; retrain with: postkind train --data {DEFAULT_DATA} --data {args.file}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from postkind.explanation import explain

    result = explain(args.text, model=args.model, k=args.top)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"{result['label']}  (P(conversational) = {result['p_conversational']:.3f})")
    for label, feats in result["towards"].items():
        print(f"  towards {label}:")
        for name, weight in feats:
            print(f"    {weight:+.3f}  {name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="postkind",
        description="Tag social-media posts as broadcast (one-way) or conversational (two-way).",
    )
    parser.add_argument("--version", action="version", version=f"postkind {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def model_opt(p: argparse.ArgumentParser, default: Path | None = None) -> None:
        p.add_argument(
            "--model",
            type=Path,
            default=default,
            help="model file (default: $POSTKIND_MODEL or models/postkind.joblib)",
        )

    def column_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--text-column", default="text", help="column with the post text")
        p.add_argument("--label-column", default="label", help="column with the label")

    p = sub.add_parser(
        "train",
        help="train a model on labelled posts",
        description="Train and save a model; prints held-out metrics.",
    )
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        help=f"labelled posts (CSV/TSV/JSONL/Parquet); repeat for more files "
        f"(default: {DEFAULT_DATA})",
    )
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="where to save the model")
    column_opts(p)
    p.add_argument("--seed", type=int, default=0, help="seed for every random choice")
    p.add_argument(
        "--weak-labels",
        action="store_true",
        help="label the --data exports by reply structure (reply = conversational) "
        "instead of a label column; teaches style, not function (see README)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="search only logistic regression on word n-grams (fast; for trials)",
    )
    p.add_argument(
        "--extra-weight",
        type=float,
        default=3.0,
        metavar="W",
        help="weight of the posts in every --data file after the first: a user's "
        "own labels, e.g. from `postkind label`; rows there with an empty or "
        "'skip' label are ignored (default: 3.0)",
    )
    p.set_defaults(handler=_train)

    p = sub.add_parser(
        "evaluate",
        help="score a model on labelled posts beside baselines",
        description="Score a model; on its own training files, only the held-out rows are used.",
    )
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        help="labelled posts (default: the model's training files, held-out rows)",
    )
    model_opt(p)
    p.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="folder for metrics.json, plots and misclassified.csv (default: reports)",
    )
    column_opts(p)
    p.add_argument("--slice-column", help="also report metrics per value of this column")
    p.set_defaults(handler=_evaluate)

    p = sub.add_parser(
        "predict",
        help="label posts given as arguments or stdin lines",
        description="Print label, confidence and text for each post.",
    )
    p.add_argument("text", nargs="*", help="posts; read one per line from stdin when absent")
    model_opt(p)
    p.set_defaults(handler=_predict)

    p = sub.add_parser(
        "tag",
        help="tag every row of a CSV/TSV/JSONL/Parquet file",
        description="Stream a file, keep every column and the row order, and "
        "append postkind_label and postkind_confidence.",
    )
    p.add_argument("input", help="input file, or - for stdin (--engine dask: a folder or glob)")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file, or - for stdout (--engine dask: a folder)",
    )
    p.add_argument("--text-column", help="column with the post (detected when obvious)")
    model_opt(p)
    p.add_argument("--format", choices=WRITE_FORMATS, help="format of input and output")
    p.add_argument(
        "--input-format", choices=FORMATS, help="format of the input: a table or a platform export"
    )
    p.add_argument("--output-format", choices=WRITE_FORMATS, help="format of the output")
    p.add_argument(
        "--min-confidence",
        type=float,
        metavar="P",
        help="label rows whose confidence is below P as 'uncertain'",
    )
    p.add_argument("--jobs", type=int, help="worker processes (default: all cores)")
    p.add_argument(
        "--chunk-size",
        type=int,
        default=5_000,
        help="rows per chunk; memory grows with it, not with the file (default 5000)",
    )
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: one file on this machine; dask: a folder or glob of files on a "
        "Dask cluster, one output part per partition in the -o folder "
        "(needs postkind[dask])",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: a running scheduler, e.g. tcp://host:8786 "
        "(default: a local cluster with --jobs workers)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="with --engine dask: skip the parts an earlier run completed",
    )
    p.set_defaults(handler=_tag)

    p = sub.add_parser(
        "sample",
        help="pick the posts the model is least sure about, to label",
        description="Score every post of INPUT, take the least certain, and "
        "write a diverse subset (no near-duplicates) with the model's "
        "guess and an empty label column, for `postkind label`.",
    )
    p.add_argument("input", help="posts: CSV/TSV/JSONL/Parquet or a platform export")
    p.add_argument("-n", type=int, default=50, help="how many posts to pick (default: 50)")
    p.add_argument("-o", "--output", required=True, help="CSV file to write, e.g. to_label.csv")
    p.add_argument("--text-column", help="column with the post (detected when obvious)")
    model_opt(p)
    p.add_argument("--format", choices=FORMATS, help="format of the input")
    p.add_argument(
        "--pool",
        type=int,
        metavar="N",
        help="choose among the N least certain posts (default: 5 * n, at least 100)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the clustering")
    p.set_defaults(handler=_sample)

    p = sub.add_parser(
        "label",
        help="label sampled posts in the terminal, one key each",
        description="Show each unlabelled post of FILE and read one key: "
        "b broadcast, c conversational, s skip, u undo, q quit, "
        "? help. FILE is saved after every answer; run again to "
        "resume.",
    )
    p.add_argument("file", type=Path, help="CSV written by `postkind sample`")
    column_opts(p)
    p.set_defaults(handler=_label)

    p = sub.add_parser(
        "explain",
        help="show the features behind one post's label",
        description="Show which features pushed a post towards each label.",
    )
    p.add_argument("text", help="the post")
    model_opt(p)
    p.add_argument("--top", type=int, default=10, help="features per label")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_explain)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code or 0)
    try:
        return int(args.handler(args))
    except DataError as exc:
        print(f"postkind: error: {exc}", file=sys.stderr)
        return 2
    except (PostkindError, OSError) as exc:
        print(f"postkind: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("postkind: interrupted", file=sys.stderr)
        return 130

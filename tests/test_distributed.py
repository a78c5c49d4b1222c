"""The Dask engine: same output as the single-machine path, each row exactly once, resumable,
and complete when a worker is killed mid-run. One LocalCluster with two worker processes
serves the whole module."""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import postkind.distributed  # noqa: E402
from conftest import TEXTS  # noqa: E402
from postkind.cli import main  # noqa: E402
from postkind.distributed import MANIFEST, part_name, tag_dask, tag_files_dask  # noqa: E402
from postkind.errors import DataError, PostkindError  # noqa: E402
from postkind.model import Model  # noqa: E402
from postkind.prediction import CONFIDENCE_COLUMN, LABEL_COLUMN, tag_file, tag_frame  # noqa: E402

#: Posts that trip naive readers: quoted newline and comma, empty, whitespace, non-ASCII.
AWKWARD = ["@sam see you\nat 8, ok?", "", "   ", "Café ouvert 🎉 https://t.co/x", '"quoted"']


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as c:
        yield c


def _posts(n: int, offset: int = 0) -> pd.DataFrame:
    texts = (AWKWARD + TEXTS) * (n // (len(AWKWARD) + len(TEXTS)) + 1)
    ids = [f"p{offset + i:06d}" for i in range(n)]
    return pd.DataFrame({"id": ids, "user": [f"u{i % 7}" for i in range(n)], "text": texts[:n]})


def _write_inputs(folder: Path, files: int, rows: int, fmt: str = "csv") -> list[Path]:
    folder.mkdir()
    paths = []
    for f in range(files):
        frame = _posts(rows, offset=f * rows)
        path = folder / f"posts_{f:02d}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False)
        elif fmt == "jsonl":
            frame.to_json(path, orient="records", lines=True, force_ascii=False)
        else:
            frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


def _read_parts(folder: Path, fmt: str = "parquet") -> list[pd.DataFrame]:
    parts = sorted(folder.glob(f"part-*.{fmt}"))
    if fmt == "parquet":
        return [pd.read_parquet(p) for p in parts]
    return [pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts]


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same rows, columns, labels and confidences, row for row (exact equality)."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for column in got.columns:
        if column == CONFIDENCE_COLUMN:
            g = pd.to_numeric(got[column]).to_numpy()
            w = pd.to_numeric(want[column]).to_numpy()
            assert ((g == w) | (pd.isna(g) & pd.isna(w))).all()
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column


def test_tag_dask_is_lazy_and_matches_tag_frame(client, tiny_model: Model) -> None:
    posts = _posts(200)
    tagged = tag_dask(dd.from_pandas(posts, npartitions=4), model=tiny_model)
    assert list(tagged.columns) == [*posts.columns, LABEL_COLUMN, CONFIDENCE_COLUMN]
    got = client.compute(tagged).result()
    _assert_same(got, tag_frame(posts, "text", model=tiny_model))
    assert set(got.loc[got["text"].str.strip() == "", LABEL_COLUMN]) == {""}


def test_model_enters_the_graph_once(tiny_model: Model) -> None:
    tagged = tag_dask(dd.from_pandas(_posts(100), npartitions=8), model=tiny_model)
    size = len(pickle.dumps(tiny_model))
    heavy = [
        k for k, task in dict(tagged.__dask_graph__()).items() if len(pickle.dumps(task)) >= size
    ]
    assert len(heavy) == 1, "the model must be one graph node, not embedded per partition"


def test_tag_dask_names_a_missing_column(tiny_model: Model) -> None:
    ddf = dd.from_pandas(pd.DataFrame({"id": [1], "words": ["hi"]}), npartitions=1)
    with pytest.raises(DataError, match="text column"):
        tag_dask(ddf, model=tiny_model)
    with pytest.raises(DataError, match="no column 'body'"):
        tag_dask(ddf, model=tiny_model, text_column="body")


@pytest.mark.parametrize(
    ("in_fmt", "out_fmt"), [("csv", "parquet"), ("jsonl", "csv"), ("parquet", "jsonl")]
)
def test_files_equal_single_machine_tag_row_for_row(
    cluster, tiny_model: Model, tmp_path: Path, in_fmt: str, out_fmt: str
) -> None:
    inputs = _write_inputs(tmp_path / "in", files=3, rows=60, fmt=in_fmt)
    result = tag_files_dask(
        tmp_path / "in",
        tmp_path / "out",
        model=tiny_model,
        scheduler=cluster.scheduler_address,
        output_format=out_fmt,
    )
    assert result["rows"] == 180 and result["written"] == 3 and result["workers"] == 2
    parts = sorted((tmp_path / "out").glob(f"part-*.{out_fmt}"))
    assert [p.name for p in parts] == [part_name(i, out_fmt) for i in range(3)]
    for i, (path, part) in enumerate(zip(inputs, parts, strict=True)):
        single = tmp_path / f"single_{i}.{out_fmt}"
        tag_file(path, single, model=tiny_model, jobs=1)
        if out_fmt == "parquet":
            _assert_same(pd.read_parquet(part), pd.read_parquet(single))
        else:  # text outputs are the same bytes
            assert part.read_bytes() == single.read_bytes()


def test_glob_of_parquet_keeps_every_column_and_row_once(
    cluster, tiny_model: Model, tmp_path: Path
) -> None:
    _write_inputs(tmp_path / "in", files=4, rows=50, fmt="parquet")
    (tmp_path / "in" / "notes.txt").write_text("not posts")
    tag_files_dask(
        str(tmp_path / "in" / "*.parquet"),
        tmp_path / "out",
        model=tiny_model,
        scheduler=cluster.scheduler_address,
    )
    out = pd.concat(_read_parts(tmp_path / "out"))
    assert list(out.columns) == ["id", "user", "text", LABEL_COLUMN, CONFIDENCE_COLUMN]
    assert sorted(out["id"]) == [f"p{i:06d}" for i in range(200)]


def test_resume_skips_complete_parts(cluster, tiny_model: Model, tmp_path: Path) -> None:
    _write_inputs(tmp_path / "in", files=3, rows=40)
    out = tmp_path / "out"
    run = {"model": tiny_model, "scheduler": cluster.scheduler_address}
    tag_files_dask(tmp_path / "in", out, **run)
    first = (out / part_name(1, "parquet")).read_bytes()
    (out / part_name(1, "parquet")).unlink()
    (out / ".part-00001.parquet.dead.tmp").write_bytes(b"half a file")  # a killed attempt
    with pytest.raises(DataError, match="--resume"):
        tag_files_dask(tmp_path / "in", out, **run)
    result = tag_files_dask(tmp_path / "in", out, resume=True, **run)
    assert (result["written"], result["skipped"], result["rows"]) == (1, 2, 40)
    assert (out / part_name(1, "parquet")).read_bytes() == first
    assert not list(out.glob(".*.tmp"))
    again = tag_files_dask(tmp_path / "in", out, resume=True, **run)
    assert (again["written"], again["skipped"]) == (0, 3)


def test_resume_refuses_other_model_or_inputs(cluster, tiny_model: Model, tmp_path: Path) -> None:
    _write_inputs(tmp_path / "in", files=2, rows=10)
    tag_files_dask(
        tmp_path / "in", tmp_path / "out", model=tiny_model, scheduler=cluster.scheduler_address
    )
    stricter = dataclasses.replace(tiny_model, threshold=0.9)
    with pytest.raises(DataError, match="other model"):
        tag_files_dask(tmp_path / "in", tmp_path / "out", model=stricter, resume=True)
    (tmp_path / "in" / "posts_00.csv").rename(tmp_path / "in" / "renamed.csv")
    with pytest.raises(DataError, match="other inputs"):
        tag_files_dask(
            tmp_path / "in",
            tmp_path / "out",
            model=tiny_model,
            resume=True,
            scheduler=cluster.scheduler_address,
        )
    assert (tmp_path / "out" / MANIFEST).exists()


def test_input_errors_name_the_fix(tiny_model: Model, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="matches no"):
        tag_files_dask(tmp_path / "empty", tmp_path / "out", model=tiny_model)
    with pytest.raises(DataError, match="no such file"):
        tag_files_dask(tmp_path / "missing", tmp_path / "out", model=tiny_model)
    _write_inputs(tmp_path / "mixed", files=1, rows=5)
    _posts(5).to_json(tmp_path / "mixed" / "more.jsonl", orient="records", lines=True)
    with pytest.raises(DataError, match="mixes formats"):
        tag_files_dask(tmp_path / "mixed", tmp_path / "out", model=tiny_model)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            "id,act,text\np1,Statement,@ana hi\n",
            r"posts_01\.csv: has other columns.*Extra: \['act'\]",
        ),
        ('id,user,text\np1,u1,"never closed\n', r"posts_01\.csv.*--resume"),
    ],
    ids=["other-columns", "unreadable"],
)
def test_a_bad_input_file_is_named(
    cluster, tiny_model: Model, tmp_path: Path, content: str, error: str
) -> None:
    _write_inputs(tmp_path / "in", files=2, rows=10)
    (tmp_path / "in" / "posts_01.csv").write_text(content)
    with pytest.raises(DataError, match=error):
        tag_files_dask(
            tmp_path / "in", tmp_path / "out", model=tiny_model, scheduler=cluster.scheduler_address
        )


def test_cli_engine_dask(cluster, model_path: Path, tmp_path: Path, capsys) -> None:
    _write_inputs(tmp_path / "in", files=2, rows=30)
    argv = [
        "tag",
        str(tmp_path / "in"),
        "-o",
        str(tmp_path / "out"),
        "--engine",
        "dask",
        "--scheduler",
        cluster.scheduler_address,
        "--model",
        str(model_path),
        "--format",
        "csv",
    ]
    assert main(argv) == 0
    assert "of 60 rows in 2 parts" in capsys.readouterr().err
    assert len(_read_parts(tmp_path / "out", "csv")) == 2
    assert main(argv) == 2  # a second run into the same folder needs --resume
    assert main([*argv, "--resume"]) == 0
    assert "(2 already complete)" in capsys.readouterr().err
    single = ["tag", str(tmp_path / "in" / "posts_00.csv"), "-o", str(tmp_path / "x.csv")]
    assert main([*single, "--resume"]) == 2


def _within(seconds: float, call):
    """``call()``'s result, or its error; fails the test instead of hanging past ``seconds``."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]


def test_program_starts_its_own_local_cluster(model_path: Path, tmp_path: Path) -> None:
    inputs = _write_inputs(tmp_path / "in", files=3, rows=40)
    argv = ["tag", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--engine", "dask"]
    run = subprocess.run(
        [sys.executable, "-m", "postkind", *argv, "--jobs", "2", "--model", str(model_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "of 120 rows in 3 parts" in run.stderr
    for path, part in zip(inputs, _read_parts(tmp_path / "out"), strict=True):
        tag_file(path, tmp_path / "single.parquet", model=model_path, jobs=1)
        _assert_same(part, pd.read_parquet(tmp_path / "single.parquet"))


@pytest.mark.parametrize("where", ["start_unsafe", "__init__"])
def test_local_workers_that_cannot_start_end_the_run(
    tiny_model: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # A nanny failing to start is reported failed; one failing to be created leaves nothing
    # to look at, and the run ends when the start-up time is over.
    def broken(self, *args, **kwargs):
        raise RuntimeError("no room for a worker")

    async def broken_async(self) -> None:
        raise RuntimeError("no room for a worker")

    monkeypatch.setattr(
        distributed.Nanny, where, broken_async if where == "start_unsafe" else broken
    )
    monkeypatch.setattr(postkind.distributed, "LOCAL_START_TIMEOUT", 3.0)
    _write_inputs(tmp_path / "in", files=2, rows=20)
    with pytest.raises(PostkindError, match="no local Dask worker could start"):
        _within(120, lambda: tag_files_dask(tmp_path / "in", tmp_path / "out", model=tiny_model))


def test_core_imports_no_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "import sys, postkind, postkind.cli, postkind.distributed; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(PostkindError, match=r"postkind\[dask\]"):
        tag_files_dask("in", "out")


def test_killed_worker_loses_and_duplicates_no_rows(
    cluster, client, tiny_model: Model, tmp_path: Path
) -> None:
    files, rows = 16, 1000
    _write_inputs(tmp_path / "in", files=files, rows=rows)
    out = tmp_path / "out"
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = tag_files_dask(
                tmp_path / "in", out, model=tiny_model, scheduler=cluster.scheduler_address
            )
        except BaseException as exc:  # pragma: no cover - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    busy: list[str] = []
    while not busy and thread.is_alive() and time.monotonic() < deadline:
        busy = [w for w, tasks in client.processing().items() if tasks]
        time.sleep(0.02)
    assert busy, "the run ended before a worker could be killed"
    pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
    done_at_kill = len(list(out.glob("part-*.parquet")))
    os.kill(pid, signal.SIGKILL)
    thread.join(120)
    assert "error" not in outcome, outcome.get("error")
    assert done_at_kill < files
    parts = _read_parts(out)
    assert len(parts) == files
    ids = pd.concat(parts)["id"]
    assert len(ids) == files * rows and ids.is_unique
    assert sorted(ids) == [f"p{i:06d}" for i in range(files * rows)]
    assert not list(out.glob(".*.tmp"))
    client.wait_for_workers(2, timeout=60)

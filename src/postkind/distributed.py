"""Tagging many files on a Dask cluster: a lazy :func:`tag_dask` and :func:`tag_files_dask`.

Dask is an optional extra (``pip install 'postkind[dask]'``) and is imported only when these
functions run, so the rest of postkind works without it. Every partition is tagged by
:func:`postkind.prediction.tag_frame`, the same scoring path as the single-machine ``tag``,
so the labels and confidences are the same row for row.

The fitted model enters the task graph once, as a single node: the scheduler hands it to
one worker and the others copy it from there, once per worker, never once per partition.
Because it is part of the graph, a worker that dies takes no model with it.
"""

from __future__ import annotations

import json
import os
import posixpath
import sys
import time
import uuid
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from postkind._forkserver import local_workers_fork, start_forkserver
from postkind.data import detect_format, find_text_column
from postkind.errors import DataError, PostkindError
from postkind.model import Model
from postkind.prediction import CONFIDENCE_COLUMN, LABEL_COLUMN, resolve_model, tag_frame

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = ["MANIFEST", "OUTPUT_FORMATS", "part_name", "tag_dask", "tag_files_dask"]

#: Formats ``tag_files_dask`` writes; Parquet is the default.
OUTPUT_FORMATS = ("parquet", "csv", "tsv", "jsonl")
#: File in the output folder describing the run, checked by ``resume=True``.
MANIFEST = "_postkind_run.json"
_GLOB_CHARS = "*?["


def _import_dask() -> Any:
    try:
        import dask
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise PostkindError(
            "the Dask engine needs Dask and distributed; install them with "
            "`pip install 'postkind[dask]'`"
        ) from exc
    return dask


def part_name(index: int, fmt: str) -> str:
    """Name of the output file for partition ``index``.

    Examples
    --------
    >>> part_name(7, "parquet")
    'part-00007.parquet'
    """
    return f"part-{index:05d}.{fmt}"


# --- tagging a Dask dataframe -------------------------------------------------------------------


def _tag_partition(
    frame: pd.DataFrame,
    model: Model,
    column: str,
    min_confidence: float | None,
    chunk_size: int,
) -> pd.DataFrame:
    """Tag one partition in chunks of ``chunk_size`` rows, so memory stays bounded."""
    if len(frame) <= chunk_size:
        return tag_frame(frame, column, model=model, min_confidence=min_confidence)
    return pd.concat(
        [
            tag_frame(
                frame.iloc[start : start + chunk_size],
                column,
                model=model,
                min_confidence=min_confidence,
            )
            for start in range(0, len(frame), chunk_size)
        ]
    )


def tag_dask(
    ddf: dd.DataFrame,
    *,
    model: Model | str | os.PathLike[str] | None = None,
    text_column: str | None = None,
    min_confidence: float | None = None,
    chunk_size: int = 20_000,
) -> dd.DataFrame:
    """Return a lazy Dask dataframe: ``ddf`` with ``postkind_label`` and
    ``postkind_confidence`` appended to every partition.

    Nothing runs until the result is computed or written. The model is loaded here, on the
    client, and enters the task graph once.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Posts, one per row.
    model : Model or path, optional
        See :func:`postkind.prediction.resolve_model`.
    text_column : str, optional
        Column holding the post; detected when one obvious candidate exists.
    min_confidence : float, optional
        Rows below this confidence get the label ``uncertain``.
    chunk_size : int
        Rows scored at a time inside a partition.

    Returns
    -------
    dask.dataframe.DataFrame
        Same partitions, index and columns as ``ddf``, plus the two label columns.

    Raises
    ------
    DataError
        No text column can be found, or the one named is absent.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> posts = pd.DataFrame({"id": [1, 2], "text": ["@sam thanks, see you tomorrow!", ""]})
    >>> tagged = tag_dask(dd.from_pandas(posts, npartitions=2), model=MODEL)
    >>> tagged.compute(scheduler="sync")["postkind_label"].tolist()
    ['conversational', '']
    """
    dask = _import_dask()
    fitted = resolve_model(model)
    columns = [str(c) for c in ddf.columns]
    column = text_column or find_text_column(columns)
    if column not in columns:
        raise DataError(
            f"has no column {column!r} (columns: {', '.join(columns)}); "
            "name the text column with --text-column"
        )
    # The label columns' dtypes as tag_frame makes them, from a row without text (so no
    # scoring, and no compiling of the fast scorer, happens here on the client).
    blank = tag_frame(pd.DataFrame({column: [""]}), column, model=fitted)
    meta = ddf._meta.assign(
        **{name: pd.Series(dtype=blank[name].dtype) for name in (LABEL_COLUMN, CONFIDENCE_COLUMN)}
    )
    # One named node (naming it spares hashing the whole model to make a key; traverse=False
    # spares looking inside it, which would unpickle the pipeline that scoring never needs).
    model_node = dask.delayed(fitted, name=f"postkind-model-{uuid.uuid4().hex}", traverse=False)
    return ddf.map_partitions(
        _tag_partition, model_node, column, min_confidence, chunk_size, meta=meta
    )


# --- reading inputs -----------------------------------------------------------------------------


def _list_inputs(
    input_glob: str | os.PathLike[str],
    input_format: str | None,
    storage_options: dict[str, Any],
) -> tuple[dict[str, int], str]:
    """Expand a file, folder or glob (local or any fsspec URL) into sorted file URLs and their
    sizes. Hidden files and files starting with ``_`` (``_SUCCESS``, manifests) are skipped."""
    from fsspec.core import url_to_fs

    spec = os.fspath(input_glob)
    fs, root = url_to_fs(spec, **storage_options)
    if any(ch in spec for ch in _GLOB_CHARS):
        infos = fs.glob(root, detail=True)
    elif fs.isdir(root):
        infos = {
            info["name"]: info
            for info in fs.ls(root, detail=True)
            if input_format or _known_extension(info["name"])
        }
    elif fs.exists(root):
        infos = {root: fs.info(root)}
    else:
        raise DataError("no such file or folder; check the path or glob", path=spec)
    found = {
        fs.unstrip_protocol(name): int(info.get("size") or 0)
        for name, info in sorted(infos.items())
        if info.get("type") == "file" and not posixpath.basename(name).startswith((".", "_"))
    }
    if not found:
        raise DataError("matches no CSV/TSV/JSONL/Parquet files", path=spec)
    formats = {detect_format(p, input_format) for p in found}
    if len(formats) > 1:
        raise DataError(
            f"mixes formats ({', '.join(sorted(formats))}); tag one format per run "
            "or narrow the glob",
            path=spec,
        )
    return found, formats.pop()


def _known_extension(path: str) -> bool:
    try:
        detect_format(path)
    except DataError:
        return False
    return True


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """JSON Lines values as text, exactly as :func:`postkind.data.iter_table` reads them."""
    return frame.astype(object).where(frame.notna(), "").astype(str)


def _read(paths: list[str], fmt: str, storage_options: dict[str, Any]) -> dd.DataFrame:
    """Read the files as one Dask dataframe, one partition per text file.

    Text files are never split into byte blocks: a quoted post may hold newlines, and a block
    boundary inside it would break or duplicate rows. Parquet files are split only along
    their row groups.
    """
    import dask

    # Keep pandas' own string dtype, as the single-machine reader does, so that the parts
    # equal its output exactly (Dask would turn text columns into ``string[pyarrow]``).
    with dask.config.set({"dataframe.convert-string": False}):
        return _read_as_pandas(paths, fmt, storage_options)


def _read_as_pandas(paths: list[str], fmt: str, storage_options: dict[str, Any]) -> dd.DataFrame:
    import dask.dataframe as dd

    if fmt == "parquet":
        return dd.read_parquet(paths, storage_options=storage_options or None)
    if fmt == "jsonl":
        raw = dd.read_json(
            paths,
            lines=True,
            orient="records",
            blocksize=None,
            dtype=False,
            encoding="utf-8-sig",
            storage_options=storage_options or None,
        )
        return raw.map_partitions(_as_text, meta=_as_text(raw._meta))
    return dd.read_csv(
        paths,
        sep="\t" if fmt == "tsv" else ",",
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        encoding="utf-8-sig",
        blocksize=None,
        storage_options=storage_options or None,
    )


# --- writing partitions -------------------------------------------------------------------------


def _encode(frame: pd.DataFrame, fmt: str) -> bytes:
    """A whole part's bytes: text formats by the single-machine writer's own encoder (so the
    bytes are the same, confidences in full), Parquet through pyarrow."""
    from postkind.prediction import _encode as encode_chunk

    payload = encode_chunk(frame, fmt, True)
    if isinstance(payload, bytes):
        return payload
    import io

    buffer = io.BytesIO()
    payload.to_parquet(buffer, index=False)
    return buffer.getvalue()


#: Seconds a local cluster gets to connect its first worker (they start in 1-5 s).
LOCAL_START_TIMEOUT = 60.0

#: What :func:`_write_part` returns for each partition.
_COUNTS = pd.DataFrame({"rows": pd.Series(dtype="int64"), "tagged": pd.Series(dtype="int64")})


def _write_part(
    frame: pd.DataFrame,
    urls: list[str],
    fmt: str,
    storage_options: dict[str, Any],
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Write tagged partition number ``partition_info["number"]`` to a temporary name, then
    rename it to that entry of ``urls``; return its rows and tagged rows as a one-row frame
    (the shape ``map_partitions`` needs).

    Runs on a worker. A worker killed half-way leaves only a hidden temporary file, which
    the next complete run removes; the final name appears only with every row in it.
    """
    from fsspec.core import url_to_fs

    assert partition_info is not None
    fs, path = url_to_fs(urls[partition_info["number"]], **storage_options)
    folder, name = posixpath.split(path)
    tmp = posixpath.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with fs.open(tmp, "wb") as fh:
            fh.write(_encode(frame, fmt))  # every encoder drops the index
        fs.mv(tmp, path)
    except BaseException:
        if fs.exists(tmp):
            fs.rm(tmp)
        raise
    return pd.DataFrame({"rows": [len(frame)], "tagged": [int((frame[LABEL_COLUMN] != "").sum())]})


# --- the run ------------------------------------------------------------------------------------


def _check_resume(
    fs: Any, root: str, manifest: dict[str, Any], fmt: str, resume: bool, shown: str
) -> set[str]:
    """Return the names of complete parts already in ``root`` (named ``shown`` in errors);
    refuse a folder holding another run."""
    names = {posixpath.basename(p) for p in fs.ls(root, detail=False)}
    done = {n for n in names if n.startswith("part-") and n.endswith(f".{fmt}")}
    others = {n for n in names if n.startswith("part-")} - done
    if not resume:
        if done or others or MANIFEST in names:
            raise DataError(
                "already holds tagged parts; pass --resume (resume=True) to finish "
                "that run, or choose an empty folder",
                path=shown,
            )
        return set()
    if MANIFEST in names:
        with fs.open(posixpath.join(root, MANIFEST), "r") as fh:
            previous = json.load(fh)
        keys = list(manifest)
        changed = [k for k in keys if previous.get(k) != manifest[k]]
        if changed:
            raise DataError(
                f"was written by a run with other {', '.join(changed)}; resume only "
                "the same inputs and options, or choose an empty folder",
                path=shown,
            )
    elif done or others:
        raise DataError(
            "holds parts but no run manifest; choose an empty folder",
            path=shown,
        )
    return done


def _model_id(model: Model) -> str:
    """Identify a model for the manifest: its creation time and threshold, else its hash."""
    created = model.metadata.get("created")
    if created:
        return f"created {created}, threshold {model.threshold}"
    import joblib

    return str(joblib.hash(model))


def _remove_temporaries(fs: Any, root: str) -> None:
    for path in fs.ls(root, detail=False):
        name = posixpath.basename(path)
        if name.startswith(".part-") and name.endswith(".tmp"):
            fs.rm(path)


def _local_settings() -> dict[str, Any]:
    """Dask settings for the local cluster, kept for the whole run (its nannies read them
    when they start or restart a worker, which happens while the run goes on)."""
    return {
        "distributed.worker.multiprocessing-method": (
            "forkserver" if local_workers_fork() else "spawn"
        ),
        # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also fixes glibc's
        # mmap threshold: every scratch buffer of a chunk (the posts as UTF-32, the scorer's
        # arrays, pyarrow's) is then mapped and unmapped anew, and its pages faulted in each
        # time: 2.6 times the page faults and ~1 system CPU s more a million posts (measured
        # tagging 1M real posts). Tagging holds one partition at a time, so glibc's adaptive
        # defaults cost no memory that matters.
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        # The statistical profiler wakes each worker's event loop every 10 ms to walk the
        # tagging thread's stack, for a dashboard a batch run never shows: it was half of a
        # worker's CPU outside tagging (measured: 2.5 -> 1.3 CPU s over 4M posts).
        "distributed.worker.profile.enabled": False,
    }


def _client(scheduler: str | None, jobs: int | None) -> tuple[Any, Any]:
    """A client of ``scheduler``, or of a new local cluster whose workers are still starting
    when this returns: the graph goes to the scheduler meanwhile, and tasks begin as soon as
    the first worker is up."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    if local_workers_fork():
        start_forkserver()
    cluster = LocalCluster(
        n_workers=0, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    cluster.scale(max(1, jobs or os.cpu_count() or 1))
    return client, cluster


class _Cluster:
    """A client, and the local cluster it may need, started in a background thread so that
    the workers start while the client lists inputs and loads the model."""

    def __init__(self, scheduler: str | None, jobs: int | None) -> None:
        self._args = (scheduler, jobs)
        self._starter = ThreadPoolExecutor(1, thread_name_prefix="postkind-cluster")
        self._started: Future[tuple[Any, Any]] | None = None

    def start(self) -> None:
        if self._started is None:
            self._started = self._starter.submit(_client, *self._args)

    def started(self) -> tuple[Any, Any]:
        """The client and the local cluster (``None`` with a scheduler), once started."""
        self.start()
        assert self._started is not None
        return self._started.result()

    def wait_for_worker(self) -> None:
        """Return once a worker is connected; raise if the local workers cannot start.

        A local cluster's workers start in the background while the graph is sent, and Dask
        only logs a worker that fails to start: without this check its tasks would wait
        forever. Local workers start in seconds, so none connected after
        :data:`LOCAL_START_TIMEOUT` seconds (a nanny that could not even be created never
        reports failure) is an error too. A running cluster's workers may join later, so its
        tasks just queue.
        """
        from distributed.core import Status

        client, local = self.started()
        deadline = time.monotonic() + LOCAL_START_TIMEOUT
        while local is not None and not client.nthreads():
            nannies = list(local.workers.values())
            failed = nannies and all(nanny.status == Status.failed for nanny in nannies)
            if failed or time.monotonic() > deadline:
                raise PostkindError(
                    "no local Dask worker could start"
                    + ("" if failed else f" in {LOCAL_START_TIMEOUT:.0f} s")
                    + " (the log above says why); or start them by hand (`dask scheduler`, "
                    "`dask worker ADDRESS`) and pass --scheduler"
                )
            time.sleep(0.05)

    def close(self) -> None:
        try:
            if self._started is not None and self._started.exception() is None:
                client, cluster = self._started.result()
                client.close()
                if cluster is not None:
                    cluster.close()
        finally:
            self._starter.shutdown()


def tag_files_dask(
    input_glob: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    model: Model | str | os.PathLike[str] | None = None,
    text_column: str | None = None,
    scheduler: str | None = None,
    jobs: int | None = None,
    input_format: str | None = None,
    output_format: str = "parquet",
    min_confidence: float | None = None,
    resume: bool = False,
    chunk_size: int = 20_000,
    progress: bool | None = None,
    storage_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Tag every row of many files on a Dask cluster, one output file per input partition.

    Inputs are read as one Dask dataframe (one partition per CSV/TSV/JSONL file, per Parquet
    file or group of its row groups), tagged with :func:`tag_dask`, and each partition is
    written as ``part-NNNNN.<format>`` in ``output_dir`` with every input column kept. Each
    part is written to a temporary name and renamed when complete, so a killed worker loses
    and duplicates no rows: Dask runs its partitions again elsewhere. With ``resume=True`` a
    re-run skips the parts already complete. Paths may be local or fsspec URLs
    (``s3://bucket/posts/*.parquet``) that every worker can reach.

    Parameters
    ----------
    input_glob : str or path
        A file, a folder (its CSV/TSV/JSONL/Parquet files) or a glob.
    output_dir : str or path
        Folder for the parts; created when absent.
    model : Model or path, optional
        See :func:`postkind.prediction.resolve_model`; loaded here and sent to each worker
        once.
    text_column : str, optional
        Column holding the post; detected when one obvious candidate exists.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); by default a local cluster is
        started and closed again.
    jobs : int, optional
        Worker processes of the local cluster; default all cores. Ignored with ``scheduler``.
    input_format : str, optional
        Override the format given by the extensions.
    output_format : {"parquet", "csv", "tsv", "jsonl"}
        Format of the parts.
    min_confidence : float, optional
        Rows below this confidence get the label ``uncertain``.
    resume : bool
        Finish an earlier run into the same folder, skipping complete parts.
    chunk_size : int
        Rows scored at a time inside a partition.
    progress : bool, optional
        Show a progress bar over partitions; by default only when standard error is a terminal.
    storage_options : dict, optional
        Passed to fsspec for both inputs and outputs (credentials, endpoints).

    Returns
    -------
    dict
        ``rows`` and ``tagged`` (written in this run), ``partitions``, ``written``,
        ``skipped``, ``text_column``, ``output``, ``workers``.

    Raises
    ------
    DataError
        No matching files, mixed formats, no text column, or an output folder holding
        another run.
    PostkindError
        No local worker could start, or a partition killed every worker that ran it.

    Notes
    -----
    While a local cluster runs, the Dask settings of :func:`_local_settings` (worker start
    method, no profiler) are set for the whole process, as ``dask.config.set`` does: run
    other Dask work of the same process before or after, not in parallel threads.
    """
    if scheduler is None and not resume and local_workers_fork():
        start_forkserver()  # loads while Dask is imported here
    dask = _import_dask()

    if output_format not in OUTPUT_FORMATS:
        raise DataError(
            f"unknown output format {output_format!r}; choose one of {', '.join(OUTPUT_FORMATS)}"
        )
    options = dict(storage_options or {})
    sizes, in_fmt = _list_inputs(input_glob, input_format, options)
    cluster = _Cluster(scheduler, jobs)
    with dask.config.set({} if scheduler else _local_settings()):
        if not resume:  # a resumed run may have nothing left to do: start workers if needed
            cluster.start()
        try:
            return _tag_files(
                cluster,
                sizes,
                in_fmt,
                output_dir,
                model,
                text_column,
                output_format,
                min_confidence,
                resume,
                chunk_size,
                progress,
                options,
            )
        finally:
            cluster.close()


def _tag_files(
    cluster: _Cluster,
    sizes: dict[str, int],
    in_fmt: str,
    output_dir: str | os.PathLike[str],
    model: Model | str | os.PathLike[str] | None,
    text_column: str | None,
    output_format: str,
    min_confidence: float | None,
    resume: bool,
    chunk_size: int,
    progress: bool | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """:func:`tag_files_dask` once the inputs are listed, while the workers start."""
    from fsspec.core import url_to_fs

    paths = list(sizes)
    fs, root = url_to_fs(os.fspath(output_dir), **options)
    if any(posixpath.dirname(url_to_fs(p, **options)[1]) == root for p in paths):
        raise DataError(
            "output folder holds the input files; write to another folder", path=output_dir
        )
    fitted = resolve_model(model)
    ddf = _read(paths, in_fmt, options)
    column = text_column or find_text_column([str(c) for c in ddf.columns], path=paths[0])
    tagged = tag_dask(
        ddf, model=fitted, text_column=column, min_confidence=min_confidence, chunk_size=chunk_size
    )
    manifest = {
        "inputs": [{"path": p, "size": n} for p, n in sizes.items()],
        "input_format": in_fmt,
        "partitions": int(tagged.npartitions),
        "text_column": column,
        "output_format": output_format,
        "min_confidence": min_confidence,
        "model": _model_id(fitted),
    }
    fs.makedirs(root, exist_ok=True)
    done = _check_resume(fs, root, manifest, output_format, resume, os.fspath(output_dir))
    with fs.open(posixpath.join(root, MANIFEST), "w") as fh:
        json.dump(manifest, fh, indent=2)
    pending = [i for i in range(tagged.npartitions) if part_name(i, output_format) not in done]
    rows = tagged_rows = 0
    if pending:
        sources = paths if len(paths) == tagged.npartitions else []
        rows, tagged_rows, workers = _run(
            cluster, tagged, pending, fs, root, output_format, options, progress, sources
        )
    else:
        workers = 0
    _remove_temporaries(fs, root)
    return {
        "rows": rows,
        "tagged": tagged_rows,
        "partitions": int(tagged.npartitions),
        "written": len(pending),
        "skipped": len(done),
        "text_column": column,
        "output": os.fspath(output_dir),
        "workers": workers,
    }


def _run(
    cluster: _Cluster,
    tagged: dd.DataFrame,
    pending: Sequence[int],
    fs: Any,
    root: str,
    fmt: str,
    options: dict[str, Any],
    progress: bool | None,
    sources: Sequence[str],
) -> tuple[int, int, int]:
    """Write the ``pending`` partitions on the cluster; return rows, tagged rows and the
    workers connected at the end.

    ``sources`` names the input file of each partition when they are one to one (else it is
    empty), for error messages.
    """
    import dask
    from distributed import as_completed
    from distributed.scheduler import KilledWorker
    from tqdm import tqdm

    client, _ = cluster.started()
    urls = [fs.unstrip_protocol(posixpath.join(root, part_name(i, fmt))) for i in pending]
    todo = tagged if len(pending) == tagged.npartitions else tagged.partitions[list(pending)]
    # One task per partition reads, tags and writes it (Dask fuses the three, as its own
    # to_parquet does): no tagged partition waits in a worker's memory for a separate write
    # task, or travels to another worker to be written.
    # The list of names is one node of the graph, not a copy inside every task (quadratic).
    names = dask.delayed(urls, name=f"postkind-parts-{uuid.uuid4().hex}", traverse=False)
    counts = todo.map_partitions(
        _write_part, names, fmt, options, meta=_COUNTS, align_dataframes=False
    )
    writes = counts.to_delayed(optimize_graph=True)
    show = sys.stderr.isatty() if progress is None else progress
    rows = tagged_rows = 0
    with warnings.catch_warnings():
        # "Sending large graph": the model (~17 MB with its compiled tables) is one node of
        # the graph, sent once to the scheduler and from there once to each worker.
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        futures = client.compute(writes)
    cluster.wait_for_worker()
    index = {future.key: i for future, i in zip(futures, pending, strict=True)}
    try:
        with tqdm(total=len(writes), unit=" parts", disable=not show, file=sys.stderr) as bar:
            for future in as_completed(futures):
                i = index[future.key]
                where = sources[i] if sources else f"input partition {i}"
                try:
                    n, t = (int(v) for v in future.result().iloc[0])
                except DataError:
                    raise
                except ValueError as exc:  # pandas/pyarrow parse errors
                    # Dask checks every partition against the first file's columns.
                    columns = " ".join(str(exc).partition("provided metadata.")[2].split())
                    if columns:
                        raise DataError(
                            f"has other columns than the first input file ({columns}); tag "
                            "files with the same columns in one run (one glob per layout); "
                            "complete parts are kept for --resume",
                            path=where,
                        ) from exc
                    raise DataError(
                        f"cannot be read ({type(exc).__name__}: {exc}); fix it and re-run with "
                        "--resume (complete parts are kept)",
                        path=where,
                    ) from exc
                except KilledWorker as exc:
                    raise PostkindError(
                        f"{where}: its partition killed every worker that ran it (out of "
                        "memory?); split the file or give workers more memory, then re-run "
                        "with --resume"
                    ) from exc
                rows += n
                tagged_rows += t
                bar.update(1)
    except BaseException:
        client.cancel(futures)
        raise
    return rows, tagged_rows, len(client.nthreads())  # at the end: local ones start as it runs

"""The fork server that a local Dask cluster's workers start from.

Kept apart from :mod:`postkind.distributed` so that the ``postkind`` program can start it before
it imports pandas or Dask (see :func:`postkind.__main__.run`): the server's imports then run on
the other core from the first moment.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["local_workers_fork", "start_forkserver", "wants_local_dask"]


def local_workers_fork() -> bool:
    """Whether local workers start from a fork server (else they are spawned)."""
    import importlib.util
    import multiprocessing

    return "forkserver" in multiprocessing.get_all_start_methods() and bool(
        importlib.util.find_spec("distributed")
    )


def start_forkserver() -> None:
    """Start the fork server that the local cluster's workers are forked from, if it is not
    running, with postkind's preload (:mod:`postkind._preload`: Dask, pyarrow, pandas and the
    compiled scorer).

    Started before anything else, the server spends its 2.5 s of imports on the other core
    while this process imports Dask, lists the inputs and loads the model; the workers then
    start already loaded (measured: the first partition starts ~1.5 s sooner). Dask itself
    would start the server only once its scheduler is up, with its own preload list, which a
    running server keeps.
    """
    import multiprocessing
    import multiprocessing.forkserver

    # The thread caps Dask's nanny would set before starting the server (its default
    # ``distributed.nanny.pre-spawn-environ``, but for MALLOC_TRIM_THRESHOLD_: see
    # postkind.distributed._local_settings).
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    multiprocessing.get_context("forkserver").set_forkserver_preload(["postkind._preload"])
    multiprocessing.forkserver.ensure_running()


def wants_local_dask(argv: Sequence[str]) -> bool:
    """Whether a command line asks for ``tag --engine dask`` on a local cluster (no
    ``--scheduler``, no ``--resume``). A quick look, not the real parse: a miss only means the
    fork server starts a little later, from :func:`postkind.distributed.tag_files_dask`.

    Examples
    --------
    >>> wants_local_dask(["tag", "in/", "-o", "out/", "--engine", "dask"])
    True
    >>> wants_local_dask(["tag", "in/", "-o", "out/", "--engine=dask", "--scheduler", "tcp://h:8786"])
    False
    >>> wants_local_dask(["tag", "in/", "-o", "out/", "--engine", "dask", "--res"])
    False
    >>> wants_local_dask(["tag", "posts.csv", "-o", "tagged.csv"])
    False
    """
    args = list(argv)
    options = [a.split("=")[0] for a in args if a.startswith("--")]
    # argparse also takes a long option by a prefix that is unique: --sched, --res
    skip = ("--scheduler", "--resume", "--help")
    return (
        args[:1] == ["tag"]
        and ("--engine=dask" in args or ("--engine", "dask") in zip(args, args[1:], strict=False))
        and not any(len(o) > 3 and name.startswith(o) for o in options for name in skip)
        and "-h" not in args
    )

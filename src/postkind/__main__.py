"""The ``postkind`` program, also run as ``python -m postkind``."""

import gc
import sys

__all__ = ["run"]


def run() -> None:
    """Run :func:`postkind.cli.main` on the command line, then exit with its code.

    For ``tag --engine dask`` on a local cluster, the workers' fork server starts first,
    before this process imports pandas and Dask (0.6-0.9 s), since the workers cannot start
    before its imports are done. At the end, objects still alive are frozen out of the
    garbage collector, so that the interpreter does not walk them all again at shutdown:
    after a Dask run that final collection took 0.6 s. Every output is closed by then.
    """
    from postkind._forkserver import local_workers_fork, start_forkserver, wants_local_dask

    if wants_local_dask(sys.argv[1:]) and local_workers_fork():
        start_forkserver()

    from postkind.cli import main

    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()

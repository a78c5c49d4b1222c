"""Imported once by the fork server of the local Dask cluster that ``postkind tag --engine dask``
starts (see :func:`postkind._forkserver.start_forkserver`): every worker process forked from
it starts with Dask's distributed and dataframe layers, pyarrow's Parquet reader, pandas and
postkind's compiled scorer already loaded, instead of spending about two CPU seconds loading
them itself."""

import dask.dataframe  # noqa: F401
import distributed  # noqa: F401
import pyarrow.parquet  # noqa: F401

import postkind.distributed  # noqa: F401
from postkind.scoring import _self_check

_self_check()  # loads the normalisation kernel and the character tables

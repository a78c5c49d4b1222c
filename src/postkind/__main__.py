"""Run the command line as ``python -m postkind``."""

from postkind.cli import run

run()

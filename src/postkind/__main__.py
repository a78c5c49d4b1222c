"""Run the command line as ``python -m postkind``."""

import sys

from postkind.cli import main

sys.exit(main())

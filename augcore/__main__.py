"""``python -m augcore ...``: the same command line as the ``augcore`` script."""

from __future__ import annotations

import sys

from augcore.cli import main

if __name__ == "__main__":
    sys.exit(main())

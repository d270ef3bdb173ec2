"""The console script and ``python -m incidents_cli``.

Kept apart from ``cli`` so that Ctrl-C while Python is still importing the command line
(click, our modules: tens of milliseconds) ends as quietly as Ctrl-C anywhere else: one
line and exit 130, not a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def main() -> NoReturn:
    try:
        from incidents_cli.cli import main as run

        run()
    except KeyboardInterrupt:
        sys.stderr.write("incidents: interrupted\n")
        sys.stderr.flush()
        os._exit(130)


if __name__ == "__main__":
    main()

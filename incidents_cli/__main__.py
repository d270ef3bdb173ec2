"""The console script and ``python -m incidents_cli``.

Kept apart from ``cli`` so that Ctrl-C while Python is still importing the command line
(click, our modules: tens of milliseconds) ends as quietly as Ctrl-C anywhere else: one
line and exit 130, not a traceback.
"""

from __future__ import annotations

import gc
import os
import sys

# Nothing but built-in modules before main's handler: `typing` alone (for one annotation)
# took 3 to 8 ms to import, in which Ctrl-C printed a traceback.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

# The cyclic collector looks at young objects every this many allocations instead of 700.
GC_YOUNG_THRESHOLD = 100_000


def main() -> NoReturn:
    # A command is one short process, and its start-up (click, PyYAML, our modules) makes
    # tens of thousands of objects that live as long as it does: at the default threshold
    # the collector walks them again and again and finds nothing. A long command still
    # collects its cycles, only less often; the bulk readers pause the collector anyway
    # (store/parallel.py).
    gc.set_threshold(GC_YOUNG_THRESHOLD)
    try:
        from incidents_cli.cli import main as run

        run()
    except KeyboardInterrupt:
        sys.stderr.write("incidents: interrupted\n")
        sys.stderr.flush()
        os._exit(130)


if __name__ == "__main__":
    main()

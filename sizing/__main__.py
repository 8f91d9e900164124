"""python -m sizing: memory, speed and plan from the command line (exit 130, one line, on Ctrl-C)."""

import gc
import sys

gc.disable()  # start-up creates long-lived objects only (modules, classes, schemas): see sizing/planner/gc_pause.py

from sizing.cli.main import EXIT_INTERRUPTED, main  # noqa: E402

gc.freeze()  # what start-up made is never garbage: later collections skip it (Python's gc.freeze)
gc.enable()
try:
    code = main()
except KeyboardInterrupt:  # files are written atomically (sizing/files.py): nothing half-written is left
    print("interrupted", file=sys.stderr)
    code = EXIT_INTERRUPTED
sys.exit(code)

"""python -m sizing: memory, speed and plan from the command line (exit 130, one line, on Ctrl-C)."""

import sys

from sizing.cli.main import EXIT_INTERRUPTED, main

try:
    code = main()
except KeyboardInterrupt:  # files are written atomically (sizing/files.py): nothing half-written is left
    print("interrupted", file=sys.stderr)
    code = EXIT_INTERRUPTED
sys.exit(code)

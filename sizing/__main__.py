"""python -m sizing: memory, speed and plan from the command line."""

import sys

from sizing.cli.main import main

sys.exit(main())

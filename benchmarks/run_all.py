"""Every benchmark: accuracy tables, the peer comparison (aiconfigurator), then speed figures. Run from the repository
root: python benchmarks/run_all.py. Exits non-zero when a speed target is missed (benchmarks/speed.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import accuracy, aiconfigurator, preflight, speed  # noqa: E402

if __name__ == "__main__":
    accuracy.main()
    aiconfigurator.main()
    code = speed.main()
    preflight.main()
    sys.exit(code)

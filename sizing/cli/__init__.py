"""Command line: `python -m sizing memory|speed|plan`. A stable contract; exit codes 0 ok, 1 infeasible, 2 bad input."""

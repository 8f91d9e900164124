"""Command line: `python -m sizing memory|speed|plan|calibrate`, and the commands the upper layers register
(plugins.py). A stable contract; exit codes 0 ok, 1 infeasible, 2 bad input (exits.py)."""

"""The command line's exit codes, a stable contract (docs/command-line.md): every command of `python -m sizing`, and the
upper layers' commands (`python -m preview`, `python -m policy`), exit with these."""

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT, EXIT_STALE_LOCK, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
"""Exit codes: a plan, nothing feasible, bad input, `plan --stack` whose sizing config changed since its lock (the
fresh plan is printed; `pulumi up` refuses it until --update-lock), Ctrl-C (128 + SIGINT, as a shell reports it)."""

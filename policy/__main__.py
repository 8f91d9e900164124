"""The llm-fleet policy pack: `pulumi preview --policy-pack policy` (PulumiPolicy.yaml: runtime python). Pulumi runs
this module and reads the port of the analyzer it serves from standard output (a pipe); a person who runs it in a
terminal, or with --help, gets the usage instead of a port and a wait."""

import sys
from pathlib import Path

USAGE = """usage: python -m policy [-h]

The llm-fleet policy pack (guardrails for GPU serving fleets: IMDSv2, encryption, secrets, ingress, GPU memory for the
model). Pulumi runs this module itself; use it through Pulumi:

  pulumi preview --policy-pack policy        # every policy on the stack's resources, before anything is created
  pulumi up --policy-pack policy             # the same, enforced on deployment

The policies and their levels: docs/policy-pack.md. Run directly, with its standard output a pipe, it serves the
analyzer on a local port as Pulumi expects (it prints the port and waits)."""
"""What a person who runs the module by hand reads."""
EXIT_OK = 0


def wants_usage(argv: list[str], stdout_is_terminal: bool) -> bool:
    """Whether to print the usage: --help, or a terminal on standard output (Pulumi always reads it from a pipe)."""
    return bool({"-h", "--help"} & set(argv)) or stdout_is_terminal


if __name__ == "__main__":
    if wants_usage(sys.argv[1:], sys.stdout.isatty()):
        print(USAGE)
        sys.exit(EXIT_OK)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: the engine and tag names

    from sizing.extras import exit_unless_installed

    exit_unless_installed("python -m policy", ("pulumi", "pulumi_policy"))  # one line naming the extra, no traceback

    from pulumi_policy import PolicyPack

    from policy.policies import PACK, POLICIES

    PolicyPack(name=PACK, policies=list(POLICIES))

"""The llm-fleet policy pack: `pulumi preview --policy-pack policy` (PulumiPolicy.yaml: runtime python)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: the sizing engine and tag names

from sizing.extras import exit_unless_installed

exit_unless_installed("python -m policy", ("pulumi", "pulumi_policy"))  # one line naming the extra, never a traceback

from pulumi_policy import PolicyPack  # noqa: E402

from policy.policies import PACK, POLICIES  # noqa: E402

if __name__ == "__main__":
    PolicyPack(name=PACK, policies=list(POLICIES))

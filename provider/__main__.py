"""Entry point of the llmfleet component provider: Pulumi runs this (PulumiPlugin.yaml, runtime python) for
`pulumi package add`, SDK generation, and every program in any language that creates an llmfleet resource."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: components/ and sizing/

from sizing.extras import exit_unless_installed

exit_unless_installed("python -m provider", ("pulumi", "pulumi_aws", "pulumi_kubernetes"))  # no traceback without them

from pulumi.provider import main  # noqa: E402

from provider.package import strict_provider  # noqa: E402

if __name__ == "__main__":  # (as component_provider_host does, with a provider that refuses unknown inputs)
    main(strict_provider(), sys.argv[1:])

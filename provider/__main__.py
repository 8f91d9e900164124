"""Entry point of the llmfleet component provider: Pulumi runs this (PulumiPlugin.yaml, runtime python) for
`pulumi package add`, SDK generation, and every program in any language that creates an llmfleet resource."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: components/ and sizing/

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from components.llm_fleet import PACKAGE  # noqa: E402
from provider.package import COMPONENTS, NAMESPACE, VERSION  # noqa: E402

if __name__ == "__main__":
    component_provider_host(list(COMPONENTS), name=PACKAGE, namespace=NAMESPACE, version=VERSION)

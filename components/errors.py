"""The components layer's error: the engine's and the deployment layer's errors, as Pulumi reports them.

It derives from `pulumi.RunError` (Pulumi prints its message without a traceback) and from the engine's
`SizingError`."""

from __future__ import annotations

import pulumi

from sizing.errors import SizingError


class FleetInputError(pulumi.RunError, SizingError):
    """The component refused its inputs or found no feasible plan (the engine's message, no traceback); `infeasible`
    tells the two apart for exit codes (1: nothing fits, 2: bad input)."""

    def __init__(self, message: str, infeasible: bool) -> None:
        super().__init__(message)
        self.infeasible = infeasible

"""Previews without a cloud account: the Pulumi program run under Pulumi's own mocks, next to the plan."""

"""Deployment logic that creates no resources, between the sizing engine and the Pulumi components: a stack's typed
config (stack_config, options, cluster_options), the stack file reader, the plan lock, the pre-flight wiring, and the
fleet specs the components are built from (fleet_spec, eks_spec). Imports sizing only; never pulumi_aws or
pulumi_kubernetes."""

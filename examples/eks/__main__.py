"""An EKS cluster that llm-fleet's eks platform can serve on, and a fleet on it.

The cluster (pulumi-eks, access entries, EKS Pod Identity) with a small on-demand node group for the controllers, and
the add-ons the fleet needs, each a Helm chart (Chart v4: policies and previews see every rendered object) at the
version deploy/eks_prerequisites.py pins: Karpenter (its node role, its controller role through Pod Identity and
its spot interruption queue), LeaderWorkerSet, KEDA, kube-prometheus-stack, the NVIDIA and EFA device plugins. Then
LlmServingFleet on platform eks, given the cluster's Kubernetes provider and ordered after the add-ons."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components import LlmServingFleet
from components.eks.nodes import GPU_TAINT
from deploy.cluster_options import DEFAULT_DISCOVERY_TAG
from deploy.eks_prerequisites import (
    EFA_DEVICE_PLUGIN,
    KARPENTER,
    KEDA,
    LWS,
    NVIDIA_DEVICE_PLUGIN,
    PROMETHEUS_OPERATOR,
    Product,
)

CLUSTER = "ml-platform"
KUBERNETES_VERSION = "1.34"
SYSTEM_TYPES = ["m7i.xlarge"]
"""The controllers' nodes (Karpenter does not run on nodes it manages)."""
NODE_POLICIES = [
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
]
"""AWS managed policies of a node's role (https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html)."""
INTERRUPTION_EVENTS = {
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    "health": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
}
"""What Karpenter drains nodes on, delivered to its queue (https://karpenter.sh/docs/concepts/disruption/#interruption)."""

config = pulumi.Config("network")  # network:vpcId and network:privateSubnetIds (Pulumi.dev.yaml)
region = aws.get_region_output().region
account = aws.get_caller_identity_output().account_id
subnets = config.require_object("privateSubnetIds")


def assumed_by(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
            ],
        }
    )


def node_role(name: str) -> aws.iam.Role:
    role = aws.iam.Role(name, name=name, assume_role_policy=assumed_by("ec2.amazonaws.com"))
    for policy in NODE_POLICIES:
        aws.iam.RolePolicyAttachment(f"{name}-{policy}", role=role.name, policy_arn=f"arn:aws:iam::aws:policy/{policy}")
    return role


system_role, karpenter_node_role = node_role(f"{CLUSTER}-system"), node_role(f"KarpenterNodeRole-{CLUSTER}")
cluster = eks.Cluster(
    CLUSTER,
    name=CLUSTER,
    version=KUBERNETES_VERSION,
    vpc_id=config.require("vpcId"),
    private_subnet_ids=subnets,
    endpoint_private_access=True,
    endpoint_public_access=False,
    skip_default_node_group=True,
    authentication_mode=eks.AuthenticationMode.API,
    create_oidc_provider=False,
    enabled_cluster_log_types=["api", "audit", "authenticator"],
    tags={DEFAULT_DISCOVERY_TAG: CLUSTER},
)
for i, subnet in enumerate(subnets):  # Karpenter's EC2NodeClass finds the node subnets by this tag
    aws.ec2.Tag(f"{CLUSTER}-discovery-{i}", resource_id=subnet, key=DEFAULT_DISCOVERY_TAG, value=CLUSTER)
aws.eks.NodeGroup(
    f"{CLUSTER}-system",
    cluster_name=CLUSTER,
    node_role_arn=system_role.arn,
    subnet_ids=subnets,
    instance_types=SYSTEM_TYPES,
    scaling_config={"min_size": 2, "desired_size": 2, "max_size": 3},
    opts=pulumi.ResourceOptions(depends_on=[cluster]),
)
# Access entries (authentication mode API): EKS makes the managed node group's; Karpenter's nodes need their own.
aws.eks.AccessEntry(
    f"{CLUSTER}-karpenter-nodes",
    cluster_name=CLUSTER,
    principal_arn=karpenter_node_role.arn,
    type="EC2_LINUX",
    opts=pulumi.ResourceOptions(depends_on=[cluster]),
)
pod_identity = aws.eks.Addon(
    f"{CLUSTER}-pod-identity",
    cluster_name=CLUSTER,
    addon_name="eks-pod-identity-agent",
    opts=pulumi.ResourceOptions(depends_on=[cluster]),
)
kube = k8s.Provider(CLUSTER, kubeconfig=cluster.kubeconfig_json)
on_cluster = pulumi.ResourceOptions(provider=kube, depends_on=[pod_identity])

# Karpenter: its interruption queue, its controller role (through Pod Identity), its chart.
queue = aws.sqs.Queue(f"{CLUSTER}-karpenter", name=CLUSTER, message_retention_seconds=300, sqs_managed_sse_enabled=True)
aws.sqs.QueuePolicy(
    f"{CLUSTER}-karpenter",
    queue_url=queue.url,
    policy=queue.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sqs:SendMessage",
                        "Resource": arn,
                        "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                    }
                ],
            }
        )
    ),
)
for event, pattern in INTERRUPTION_EVENTS.items():
    rule = aws.cloudwatch.EventRule(f"{CLUSTER}-{event}", event_pattern=json.dumps(pattern))
    aws.cloudwatch.EventTarget(f"{CLUSTER}-{event}", rule=rule.name, arn=queue.arn)


def controller_policy(node_role_arn: str, queue_arn: str, region_name: str, account_id: str) -> str:
    """What Karpenter's controller calls (https://karpenter.sh/docs/reference/cloudformation/), scoped to this cluster:
    it launches and tags instances and launch templates carrying the cluster's ownership tag, and deletes only those."""
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{CLUSTER}": "owned"}
    arn = f"arn:aws:ec2:{region_name}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Read",
                    "Effect": "Allow",
                    "Resource": "*",
                    "Action": [
                        "ec2:DescribeAvailabilityZones",
                        "ec2:DescribeCapacityReservations",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstances",
                        "ec2:DescribeInstanceStatus",
                        "ec2:DescribeInstanceTypeOfferings",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplates",
                        "ec2:DescribePlacementGroups",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeSpotPriceHistory",
                        "ec2:DescribeSubnets",
                        "pricing:GetProducts",
                        "ssm:GetParameter",
                        "iam:GetInstanceProfile",
                        "iam:ListInstanceProfiles",
                    ],
                },
                {
                    "Sid": "Launch",
                    "Effect": "Allow",
                    "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:CreateTags"],
                    "Resource": [f"{arn}::image/*", f"{arn}::snapshot/*", f"{arn}:*:*"],
                    "Condition": {"StringEqualsIfExists": {f"aws:RequestTag/kubernetes.io/cluster/{CLUSTER}": "owned"}},
                },
                {
                    "Sid": "DeleteOwnOnly",
                    "Effect": "Allow",
                    "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                    "Resource": [f"{arn}:*:instance/*", f"{arn}:*:launch-template/*"],
                    "Condition": {"StringEquals": owned},
                },
                {
                    "Sid": "PassNodeRole",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": node_role_arn,
                    "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
                },
                {
                    "Sid": "InstanceProfiles",
                    "Effect": "Allow",
                    "Resource": f"arn:aws:iam::{account_id}:instance-profile/*",
                    "Action": [
                        "iam:CreateInstanceProfile",
                        "iam:TagInstanceProfile",
                        "iam:AddRoleToInstanceProfile",
                        "iam:RemoveRoleFromInstanceProfile",
                        "iam:DeleteInstanceProfile",
                    ],
                },
                {
                    "Sid": "Cluster",
                    "Effect": "Allow",
                    "Action": "eks:DescribeCluster",
                    "Resource": f"arn:aws:eks:{region_name}:{account_id}:cluster/{CLUSTER}",
                },
                {
                    "Sid": "Interruptions",
                    "Effect": "Allow",
                    "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
                    "Resource": queue_arn,
                },
            ],
        }
    )


controller = aws.iam.Role(f"{CLUSTER}-karpenter", assume_role_policy=assumed_by("pods.eks.amazonaws.com"))
aws.iam.RolePolicy(
    f"{CLUSTER}-karpenter",
    role=controller.id,
    policy=pulumi.Output.all(karpenter_node_role.arn, queue.arn, region, account).apply(
        lambda v: controller_policy(*v)
    ),
)
aws.eks.PodIdentityAssociation(
    f"{CLUSTER}-karpenter",
    cluster_name=CLUSTER,
    namespace="kube-system",
    service_account="karpenter",
    role_arn=controller.arn,
    opts=pulumi.ResourceOptions(depends_on=[cluster]),
)


def chart(name: str, product: Product, namespace: str, values: dict | None = None) -> k8s.helm.v4.Chart:
    """One add-on at its pinned chart version."""
    oci = product.chart.startswith("oci://")
    return k8s.helm.v4.Chart(
        name,
        chart=product.chart if oci else product.chart_name,
        version=product.chart_version,
        repository_opts=None if oci else {"repo": product.chart},
        namespace=namespace,
        values=values or {},
        opts=on_cluster,
    )


gpu_toleration = [{"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}]
add_ons = [
    chart(
        "karpenter",
        KARPENTER,
        "kube-system",
        {"settings": {"clusterName": CLUSTER, "interruptionQueue": CLUSTER}, "serviceAccount": {"name": "karpenter"}},
    ),
    chart("lws", LWS, "lws-system"),
    chart("keda", KEDA, "keda"),
    chart(
        "kube-prometheus-stack",
        PROMETHEUS_OPERATOR,
        "monitoring",
        {  # monitors in every namespace, any labels
            "prometheus": {
                "prometheusSpec": {
                    "podMonitorSelectorNilUsesHelmValues": False,
                    "serviceMonitorSelectorNilUsesHelmValues": False,
                }
            },
            "grafana": {"enabled": False},
        },
    ),
    chart("nvidia-device-plugin", NVIDIA_DEVICE_PLUGIN, "kube-system"),  # its chart tolerates the GPU taint
    chart("efa-device-plugin", EFA_DEVICE_PLUGIN, "kube-system", {"tolerations": gpu_toleration}),
]

fleet = LlmServingFleet(
    "fleet",
    {
        "model": "llama-3.1-8b",
        "workload": {"concurrency": 16, "input_tokens": 1024, "output_tokens": 256, "tpot_ms": 60},
        "deployment": {"instance_types": ["g6.xlarge", "g6e.xlarge", "g5.xlarge", "g5.2xlarge"]},
        "fleet": {
            "platform": "eks",
            "cluster": {"name": CLUSTER},
            "weights": {
                "hf_token_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:llmfleet/hf-token-AbCdEf"
            },
            "tags": {"team": "ml-platform", "env": "dev"},
        },
    },
    opts=pulumi.ResourceOptions(providers={"kubernetes": kube}, depends_on=add_ons),
)
pulumi.export("endpoint", fleet.endpoint)
pulumi.export("workload", fleet.workload)
pulumi.export("node_pools", fleet.node_pools)

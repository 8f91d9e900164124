"""The llm-fleet policy pack's policies: guardrails for any stack with GPU serving nodes, whether they come from the
LlmServingFleet component or are written by hand. Each validate function takes pulumi-policy's arguments, so the same
code runs under `pulumi preview --policy-pack policy` and in the unit tests.

Mandatory: IMDSv2 required, encrypted volumes, no secrets in user data, no world ingress (0.0.0.0/0 or its
equivalents) to GPU nodes, and GPUs that can hold the model their tags declare; on Kubernetes (policy/kubernetes.py):
GPU pods that hold their declared model, vLLM with its API key, no secrets in manifests, no public endpoint without TLS,
Karpenter nodes with IMDSv2 and encrypted volumes. Advisory: GPU nodes or pods that declare no model (so the memory
check cannot run)."""

from __future__ import annotations

import binascii
import zlib
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy,
                           StackValidationArgs, StackValidationPolicy)

from deploy.options import WIDEST_PRIVATE_PREFIX
from components.user_data_codec import decode_user_data
from policy import kubernetes as k8s
from policy.memory_fit import UndeclaredError, shortfall
from policy.secrets import secrets_in
from sizing.catalog.instances import all_instance_types

PACK = "llm-fleet"
"""The policy pack's name (PulumiPolicy.yaml runs policy/__main__.py, which registers it)."""
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"
VOLUME = "aws:ebs/volume:Volume"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
WORLD_PUBLIC_SHARE = 1 / 256
"""A rule whose CIDRs together admit more than this share of the public addresses of their IP version (about one /8
of public IPv4, a /11 of IPv6 global unicast) is world ingress, however the range is split (0.0.0.0/1 + 128.0.0.0/1)."""
NON_PUBLIC = {4: tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
    "224.0.0.0/4", "240.0.0.0/4")),
    6: tuple(ipaddress.ip_network(n) for n in ("::/3", "4000::/2", "8000::/1"))}
"""Address blocks no internet client comes from: IPv4 this-network, RFC 1918 private, RFC 6598 shared, loopback,
link-local, multicast and reserved (IANA IPv4 special-purpose registry); for IPv6 all but 2000::/3, the global unicast
space (RFC 4291, IANA IPv6 address space registry). Disjoint, so overlaps add up."""
def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _tags(props: Mapping[str, Any]) -> dict[str, str]:
    """Tags of a resource: a map, a list of {key, value} (Auto Scaling groups), plus a launch template's instance tags."""
    raw = props.get("tags") or {}
    tags = {t["key"]: t["value"] for t in raw} if isinstance(raw, list) else dict(raw)
    for spec in props.get("tagSpecifications") or []:
        if spec.get("resourceType") == "instance":
            tags = {**(spec.get("tags") or {}), **tags}
    return {str(k): str(v) for k, v in tags.items()}


def instance_types(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The instance types a compute resource launches."""
    if resource_type in (LAUNCH_TEMPLATE, INSTANCE):
        return [props["instanceType"]] if props.get("instanceType") else []
    if resource_type == NODE_GROUP:
        return list(props.get("instanceTypes") or [])
    if resource_type == AUTOSCALING_GROUP:
        overrides = ((props.get("mixedInstancesPolicy") or {}).get("launchTemplate") or {}).get("overrides") or []
        return [o["instanceType"] for o in overrides if o.get("instanceType")]
    return []


def is_gpu(instance_type: str) -> bool:
    inst = all_instance_types().get(instance_type)
    return inst is not None and inst.gpus >= 1


# --- mandatory: IMDSv2 ----------------------------------------------------------------------------------------------

def imdsv2_required(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Launch templates and instances require session tokens for the instance metadata service (IMDSv2): a request
    forgery against the node (vLLM serves user input) cannot read the role's credentials with one GET."""
    if args.resource_type not in (LAUNCH_TEMPLATE, INSTANCE):
        return
    tokens = (args.props.get("metadataOptions") or {}).get("httpTokens")
    if tokens != "required":
        report_violation(f"{args.name}: metadataOptions.httpTokens is {tokens!r}, IMDSv1 stays open. To fix: "
                         "metadata_options={'http_tokens': 'required', 'http_endpoint': 'enabled'}.", None)


# --- mandatory: encrypted volumes -----------------------------------------------------------------------------------

def _unencrypted(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type == LAUNCH_TEMPLATE:
        return [m.get("deviceName", "?") for m in props.get("blockDeviceMappings") or []
                if m.get("ebs") is not None and not _truthy(m["ebs"].get("encrypted"))]
    if resource_type == INSTANCE:
        devices = [("root", props.get("rootBlockDevice"))] + [
            (d.get("deviceName", "?"), d) for d in props.get("ebsBlockDevices") or []]
        return [name for name, d in devices if d is not None and not _truthy(d.get("encrypted"))]
    if resource_type == VOLUME:
        return [] if _truthy(props.get("encrypted")) else ["volume"]
    return []


def encrypted_volumes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every EBS volume a launch template, instance or volume declares is encrypted (weights and caches at rest)."""
    devices = _unencrypted(args.resource_type, args.props)
    if devices:
        report_violation(f"{args.name}: EBS volume(s) {', '.join(devices)} not encrypted. To fix: set encrypted=true "
                         "(and a KMS key if your organisation requires one).", None)


# --- mandatory: no secrets in user data -----------------------------------------------------------------------------

def _user_data(props: Mapping[str, Any]) -> str:
    """The script: a launch template's (base64, gzip-compressed or not) or an instance's (plain, or userDataBase64)."""
    text = str(props.get("userData") or props.get("userDataBase64") or "")
    try:
        return decode_user_data(text) if text else ""
    except (binascii.Error, ValueError, zlib.error):
        return text  # an instance's plain-text user data


def no_secrets_in_user_data(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """User data is readable by anyone who may describe the launch template or instance, and lands in logs: secrets
    are fetched at boot from Secrets Manager or SSM instead."""
    if args.resource_type not in (LAUNCH_TEMPLATE, INSTANCE):
        return
    found = secrets_in(_user_data(args.props))
    if found:
        report_violation(f"{args.name}: user data holds {', '.join(found)} (not shown). To fix: store it in Secrets "
                         "Manager or SSM Parameter Store and fetch it at boot, as LlmServingFleet does.", None)


# --- mandatory: GPU memory holds the declared model -----------------------------------------------------------------

def gpus_hold_declared_model(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """The GPUs of a launch template, instance, node group or Auto Scaling group override can hold the model in its
    llmfleet:model tag at its llmfleet:max-model-len (the sizing engine's vLLM memory model)."""
    tags = _tags(args.props)
    for instance_type in instance_types(args.resource_type, args.props):
        try:
            why = shortfall(instance_type, tags)
        except UndeclaredError:
            continue  # the advisory policy below reports it
        if why:
            report_violation(f"{args.name}: {why}", None)


def gpu_nodes_declare_their_model(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """GPU launch templates, instances and node groups carry llmfleet:model and llmfleet:max-model-len, so that the
    memory policy can check them."""
    if args.resource_type == AUTOSCALING_GROUP:
        return  # its launch template carries the declaration
    tags = _tags(args.props)
    for instance_type in instance_types(args.resource_type, args.props):
        try:
            shortfall(instance_type, tags)
        except UndeclaredError as exc:
            report_violation(f"{args.name}: {exc}", None)


# --- mandatory: no world ingress to GPU nodes -----------------------------------------------------------------------

def _security_group_refs(props: Mapping[str, Any]) -> list[str]:
    refs = list(props.get("vpcSecurityGroupIds") or []) + list(props.get("securityGroups") or [])
    for nic in props.get("networkInterfaces") or []:
        refs += list(nic.get("securityGroups") or [])
    return [str(r) for r in refs if r]  # unknown (preview) ids are linked by dependency instead


def _networks(cidrs: Iterable[Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for cidr in cidrs:
        try:  # host bits are ignored: 1.2.3.4/0 covers what 0.0.0.0/0 does
            nets.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue  # unknown in a preview, or not a CIDR (EC2 refuses it)
    return nets


def _public_addresses(nets: list[Any]) -> int:
    """Public addresses in the union of blocks of one IP version."""
    union = list(ipaddress.collapse_addresses(nets))
    hidden = sum(min(n.num_addresses, p.num_addresses)
                 for n in union for p in NON_PUBLIC[n.version] if n.overlaps(p))  # CIDRs overlap only by containment
    return sum(n.num_addresses for n in union) - hidden


def is_world(cidrs: Iterable[Any]) -> bool:
    """Whether CIDRs admit the internet: an IPv4 block wider than the widest private one (/WIDEST_PRIVATE_PREFIX), or
    blocks of one IP version that together cover more than WORLD_PUBLIC_SHARE of that version's public addresses."""
    nets = _networks(cidrs)
    if any(n.version == 4 and n.prefixlen < WIDEST_PRIVATE_PREFIX for n in nets):
        return True
    for version, bits in ((4, 32), (6, 128)):
        public_total = 2 ** bits - sum(p.num_addresses for p in NON_PUBLIC[version])
        same = [n for n in nets if n.version == version]
        if same and _public_addresses(same) > WORLD_PUBLIC_SHARE * public_total:
            return True
    return False


def _opens_world(rule: Mapping[str, Any]) -> bool:
    return is_world([*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])])


def _world_ingress(resource_type: str, props: Mapping[str, Any]) -> bool:
    if resource_type == SECURITY_GROUP:
        return any(_opens_world(rule) for rule in props.get("ingress") or [])
    if resource_type == SECURITY_GROUP_RULE:
        return props.get("type") == "ingress" and _opens_world(props)
    if resource_type == INGRESS_RULE:
        return is_world(c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c)
    return False


def _ids(resources: Iterable[Any]) -> set[str]:
    return {str(r.props.get("id")) for r in resources if r.props.get("id")} | {r.urn for r in resources}


def no_world_ingress_to_gpu_nodes(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """No security group of a GPU node admits the world (0.0.0.0/0, ::/0, or CIDRs as wide: see is_world): nodes take
    traffic from the load balancer (and each other) only. Security groups are linked to nodes by id or by the node's dependencies on them."""
    nodes = [r for r in args.resources if any(is_gpu(t) for t in instance_types(r.resource_type, r.props))]
    node_groups: set[str] = set()
    for node in nodes:
        node_groups |= set(_security_group_refs(node.props))
        for prop in ("vpcSecurityGroupIds", "securityGroups", "networkInterfaces"):
            node_groups |= {d.urn for d in node.property_dependencies.get(prop, [])}
    for r in args.resources:
        if not _world_ingress(r.resource_type, r.props):
            continue
        target = r.props.get("securityGroupId")
        own = _ids([r]) if r.resource_type == SECURITY_GROUP else (
            ({str(target)} if target else set()) | {d.urn for d in r.property_dependencies.get("securityGroupId", [])})
        if own & node_groups:
            report_violation(f"{r.name}: admits the internet (0.0.0.0/0, ::/0 or CIDRs nearly as wide) to a security "
                             "group of GPU nodes. To fix: admit the load balancer's security group only, and put "
                             "clients' CIDRs on the load balancer.",
                             r.urn)


def _described(validate: Any) -> str:
    return " ".join((validate.__doc__ or "").split())


MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
POLICIES = [
    *[ResourceValidationPolicy(name=name, description=_described(validate), enforcement_level=level, validate=validate)
      for name, validate, level in (
          ("imdsv2-required", imdsv2_required, MANDATORY), ("encrypted-volumes", encrypted_volumes, MANDATORY),
          ("no-secrets-in-user-data", no_secrets_in_user_data, MANDATORY),
          ("gpus-hold-declared-model", gpus_hold_declared_model, MANDATORY),
          ("gpu-nodes-declare-their-model", gpu_nodes_declare_their_model, ADVISORY),
          ("gpu-pods-hold-declared-model", k8s.gpu_pods_hold_declared_model, MANDATORY),
          ("gpu-pods-declare-their-model", k8s.gpu_pods_declare_their_model, ADVISORY),
          ("vllm-requires-its-api-key", k8s.vllm_requires_its_api_key, MANDATORY),
          ("no-secrets-in-manifests", k8s.no_secrets_in_manifests, MANDATORY),
          ("no-public-endpoint-without-tls", k8s.no_public_endpoint_without_tls, MANDATORY),
          ("karpenter-nodes-imdsv2-and-encrypted", k8s.karpenter_nodes_imdsv2_and_encrypted, MANDATORY))],
    StackValidationPolicy(name="no-world-ingress-to-gpu-nodes", description=_described(no_world_ingress_to_gpu_nodes),
                          enforcement_level=MANDATORY, validate=no_world_ingress_to_gpu_nodes),
]
"""The pack's policies (policy/__main__.py serves them)."""

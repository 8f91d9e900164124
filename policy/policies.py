"""The llm-fleet policy pack's policies: guardrails for any stack with GPU serving nodes, whether they come from the
LlmServingFleet component or are written by hand. Each validate function takes pulumi-policy's arguments, so the same
code runs under `pulumi preview --policy-pack policy` and in the unit tests.

Mandatory: IMDSv2 required, encrypted volumes, no secrets in user data, no world ingress (0.0.0.0/0 or its
equivalents) to GPU nodes, and GPUs that can hold the model their tags declare; on Kubernetes (policy/kubernetes.py):
GPU pods that hold their declared model, vLLM with its API key, no secrets in manifests, no public endpoint without TLS,
Karpenter nodes with IMDSv2 and encrypted volumes. Advisory: GPU nodes or pods that declare no model (so the memory
check cannot run)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from deploy.options import WIDEST_PRIVATE_PREFIX
from policy import kubernetes as k8s
from policy.errors import InvalidDeclarationError, UndeclaredError, UnknownTypeError
from policy.memory_fit import ACCELERATED_FAMILY, shortfall
from policy.secrets import secrets_in
from policy.vllm_args import layers, spliced, vllm_settings
from sizing.catalog.instances import all_instance_types
from sizing.names import DASHED_NAME

PACK = DASHED_NAME
"""The policy pack's name (PulumiPolicy.yaml runs policy/__main__.py, which registers it)."""
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
EC2_FLEET = "aws:ec2/fleet:Fleet"
SPOT_FLEET_REQUEST = "aws:ec2/spotFleetRequest:SpotFleetRequest"
MANAGED_PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
LAUNCHES = (LAUNCH_TEMPLATE, INSTANCE, SPOT_INSTANCE_REQUEST)
"""Resources that carry an instance's own settings (metadata options, volumes, user data)."""
ATTRIBUTE_BASED = "<attribute-based>"
"""Stands for the types an instanceRequirements block lets EC2 pick: not known before launch, so never passed."""
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"
VOLUME = "aws:ebs/volume:Volume"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
WORLD_PUBLIC_SHARE = 1 / 256
"""A rule whose CIDRs together admit more than this share of the public addresses of their IP version (about one /8
of public IPv4, a /11 of IPv6 global unicast) is world ingress, however the range is split (0.0.0.0/1 + 128.0.0.0/1)."""
NON_PUBLIC = {
    4: tuple(
        ipaddress.ip_network(n)
        for n in (
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "224.0.0.0/4",
            "240.0.0.0/4",
        )
    ),
    6: tuple(ipaddress.ip_network(n) for n in ("::/3", "4000::/2", "8000::/1")),
}
"""Address blocks no internet client comes from: IPv4 this-network, RFC 1918 private, RFC 6598 shared, loopback,
link-local, multicast and reserved (IANA IPv4 special-purpose registry); for IPv6 all but 2000::/3, the global unicast
space (RFC 4291, IANA IPv6 address space registry). Disjoint, so overlaps add up."""


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _tags(props: Mapping[str, Any]) -> dict[str, str]:
    """Tags of a resource: a map, a list of {key, value} (Auto Scaling groups), plus a launch template's instance
    tags."""
    raw = props.get("tags") or {}
    tags = {t["key"]: t["value"] for t in raw} if isinstance(raw, list) else dict(raw)
    for spec in props.get("tagSpecifications") or []:
        if spec.get("resourceType") == "instance":
            tags = {**(spec.get("tags") or {}), **tags}
    return {str(k): str(v) for k, v in tags.items()}


def _override_types(overrides: Iterable[Mapping[str, Any]]) -> list[str]:
    """Instance types of launch-template overrides; ATTRIBUTE_BASED for one that selects by attributes, unless its
    requirements rule accelerators out (acceleratorCount max 0)."""
    found = []
    for o in overrides:
        if o.get("instanceType"):
            found.append(str(o["instanceType"]))
        elif o.get("instanceRequirements") is not None:
            count = (o["instanceRequirements"] or {}).get("acceleratorCount") or {}
            if count.get("max") != 0:
                found.append(ATTRIBUTE_BASED)
    return found


def instance_types(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The instance types a compute resource launches (every resource type that launches EC2 instances)."""
    if resource_type in LAUNCHES:
        own = [props["instanceType"]] if props.get("instanceType") else []
        return own + (
            [ATTRIBUTE_BASED] if resource_type == LAUNCH_TEMPLATE and props.get("instanceRequirements") else []
        )
    if resource_type == NODE_GROUP:
        return list(props.get("instanceTypes") or [])
    if resource_type == AUTOSCALING_GROUP:
        overrides = ((props.get("mixedInstancesPolicy") or {}).get("launchTemplate") or {}).get("overrides") or []
        return _override_types(overrides)
    if resource_type in (EC2_FLEET, SPOT_FLEET_REQUEST):
        configs = props.get("launchTemplateConfigs") or props.get("launchTemplateConfig") or []
        overrides = [o for c in configs for o in (c.get("overrides") or [])]
        specs = props.get("launchSpecifications") or []
        return _override_types(overrides) + [str(s["instanceType"]) for s in specs if s.get("instanceType")]
    return []


def is_gpu(instance_type: str) -> bool:
    """Whether the type may have GPUs: a catalog GPU type, an accelerated family outside the catalog, or a selection by
    attributes (unknown types are never taken for CPU ones)."""
    if instance_type == ATTRIBUTE_BASED:
        return True
    inst = all_instance_types().get(instance_type)
    return inst.gpus >= 1 if inst is not None else bool(ACCELERATED_FAMILY.fullmatch(instance_type.split(".")[0]))


# --- mandatory: IMDSv2 ----------------------------------------------------------------------------------------------


def imdsv2_required(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Launch templates and instances require session tokens for the instance metadata service (IMDSv2): a request
    forgery against the node (vLLM serves user input) cannot read the role's credentials with one GET."""
    if args.resource_type not in LAUNCHES:
        return
    tokens = (args.props.get("metadataOptions") or {}).get("httpTokens")
    if tokens != "required":
        report_violation(
            f"{args.name}: metadataOptions.httpTokens is {tokens!r}, IMDSv1 stays open. To fix: "
            "metadata_options={'http_tokens': 'required', 'http_endpoint': 'enabled'}.",
            None,
        )


# --- mandatory: encrypted volumes -----------------------------------------------------------------------------------


def _unencrypted(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type == LAUNCH_TEMPLATE:
        return [
            m.get("deviceName", "?")
            for m in props.get("blockDeviceMappings") or []
            if m.get("ebs") is not None and not _truthy(m["ebs"].get("encrypted"))
        ]
    if resource_type in (INSTANCE, SPOT_INSTANCE_REQUEST):
        devices = [("root", props.get("rootBlockDevice"))] + [
            (d.get("deviceName", "?"), d) for d in props.get("ebsBlockDevices") or []
        ]
        return [name for name, d in devices if d is not None and not _truthy(d.get("encrypted"))]
    if resource_type == VOLUME:
        return [] if _truthy(props.get("encrypted")) else ["volume"]
    return []


def encrypted_volumes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every EBS volume a launch template, instance or volume declares is encrypted (weights and caches at rest)."""
    devices = _unencrypted(args.resource_type, args.props)
    if devices:
        report_violation(
            f"{args.name}: EBS volume(s) {', '.join(devices)} not encrypted. To fix: set encrypted=true "
            "(and a KMS key if your organisation requires one).",
            None,
        )


# --- mandatory: no secrets in user data -----------------------------------------------------------------------------


def _user_data(props: Mapping[str, Any]) -> str:
    """The script: a launch template's (base64, gzip-compressed or not) or an instance's (plain, or userDataBase64),
    its innermost decoded layer (base64 twice, gzip inside)."""
    text = str(props.get("userData") or props.get("userDataBase64") or "")
    return layers(text)[-1] if text else ""


def no_secrets_in_user_data(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """User data is readable by anyone who may describe the launch template or instance, and lands in logs: secrets
    are fetched at boot from Secrets Manager or SSM instead. Every encoding layer is searched, and each with quotes
    and backslashes removed (a token split across shell words)."""
    if args.resource_type not in LAUNCHES:
        return
    text = str(args.props.get("userData") or args.props.get("userDataBase64") or "")
    first: dict[str, str] = {}  # kind -> where it was first found
    for layer in layers(text):
        for variant in (layer, spliced(layer)):
            for where in secrets_in(variant):
                first.setdefault(where.split(" (line")[0], where)
    found = list(first.values())
    if found:
        report_violation(
            f"{args.name}: user data holds {', '.join(found)} (not shown). To fix: store it in Secrets "
            "Manager or SSM Parameter Store and fetch it at boot, as LlmServingFleet does.",
            None,
        )


# --- mandatory: GPU memory holds the declared model -----------------------------------------------------------------


def declared(resource_type: str, props: Mapping[str, Any]) -> dict[str, str]:
    """What a compute resource runs: its llmfleet:* tags, overridden by the vLLM flags in its user data (the engine
    starts with those, whatever the tags say)."""
    ran = vllm_settings(_user_data(props)) if resource_type in LAUNCHES else {}
    return {**_tags(props), **ran}


def gpus_hold_declared_model(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """The GPUs of a launch template, instance, node group or Auto Scaling group override can hold the model in its
    llmfleet:model tag at its llmfleet:max-model-len (the sizing engine's vLLM memory model)."""
    # (The description docs/policy-pack.md quotes.) Judged at the layout and context vLLM starts with: the flags in the
    # user data, else the tags; spot requests and fleets too. A declared value that cannot be true (non-finite, out of
    # range, more GPUs than the type has), an accelerated type outside the catalog and a selection by attributes are
    # violations: never passed unjudged.
    said = declared(args.resource_type, args.props)
    for instance_type in instance_types(args.resource_type, args.props):
        if instance_type == ATTRIBUTE_BASED:
            report_violation(
                f"{args.name}: selects instance types by attributes (instanceRequirements) that may have "
                "GPUs, so what they can hold cannot be judged. To fix: name the instance types, or set "
                "acceleratorCount max 0 for a CPU-only selection.",
                None,
            )
            continue
        try:
            why = shortfall(instance_type, said)
        except UndeclaredError:
            continue  # the advisory policy below reports it
        except (InvalidDeclarationError, UnknownTypeError) as exc:
            why = str(exc)
        if why:
            report_violation(f"{args.name}: {why}", None)


def gpu_nodes_declare_their_model(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """GPU launch templates, instances and node groups carry llmfleet:model and llmfleet:max-model-len, so that the
    memory policy can check them."""
    if args.resource_type == AUTOSCALING_GROUP:
        return  # its launch template carries the declaration
    said = declared(args.resource_type, args.props)
    for instance_type in instance_types(args.resource_type, args.props):
        try:
            shortfall(instance_type, said)
        except UndeclaredError as exc:
            report_violation(f"{args.name}: {exc}", None)
        except (InvalidDeclarationError, UnknownTypeError):
            continue  # the mandatory policy reports it


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
    hidden = sum(
        min(n.num_addresses, p.num_addresses) for n in union for p in NON_PUBLIC[n.version] if n.overlaps(p)
    )  # CIDRs overlap only by containment
    return sum(n.num_addresses for n in union) - hidden


def is_world(cidrs: Iterable[Any]) -> bool:
    """Whether CIDRs admit the internet: an IPv4 block wider than the widest private one (/WIDEST_PRIVATE_PREFIX), or
    blocks of one IP version that together cover more than WORLD_PUBLIC_SHARE of that version's public addresses."""
    nets = _networks(cidrs)
    if any(n.version == 4 and n.prefixlen < WIDEST_PRIVATE_PREFIX for n in nets):
        return True
    for version, bits in ((4, 32), (6, 128)):
        public_total = 2**bits - sum(p.num_addresses for p in NON_PUBLIC[version])
        same = [n for n in nets if n.version == version]
        if same and _public_addresses(same) > WORLD_PUBLIC_SHARE * public_total:
            return True
    return False


def _sources(resource_type: str, props: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(CIDRs, prefix list references) an ingress rule or a security group's inline ingress admits."""
    if resource_type == INGRESS_RULE:
        return (
            [str(c) for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c],
            [str(props["prefixListId"])] if props.get("prefixListId") else [],
        )
    rules = (
        props.get("ingress") or []
        if resource_type == SECURITY_GROUP
        else [props]
        if resource_type == SECURITY_GROUP_RULE and props.get("type") == "ingress"
        else []
    )
    cidrs = [str(c) for rule in rules for c in (*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or []))]
    return cidrs, [str(p) for rule in rules for p in rule.get("prefixListIds") or []]


def _targets(r: Any, canonical: Mapping[str, str]) -> set[str]:
    """The security group(s) a rule admits into, by urn where known (a group's id and urn are one group)."""
    if r.resource_type == SECURITY_GROUP:
        return {r.urn}
    target = r.props.get("securityGroupId")
    found = ({str(target)} if target else set()) | {d.urn for d in r.property_dependencies.get("securityGroupId", [])}
    return {canonical.get(t, t) for t in found}


def _ids(resources: Iterable[Any]) -> set[str]:
    return {str(r.props.get("id")) for r in resources if r.props.get("id")} | {r.urn for r in resources}


def _prefix_lists(resources: Iterable[Any]) -> dict[str, list[str]]:
    """Entries of the managed prefix lists in the stack, by id and by urn."""
    found: dict[str, list[str]] = {}
    for r in resources:
        if r.resource_type == MANAGED_PREFIX_LIST:
            entries = [str(e.get("cidr")) for e in r.props.get("entries") or [] if e.get("cidr")]
            found.update({key: entries for key in _ids([r])})
    return found


def no_world_ingress_to_gpu_nodes(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """No security group of a GPU node admits the world (0.0.0.0/0, ::/0, or CIDRs as wide: see is_world): nodes take
    traffic from the load balancer (and each other) only. Security groups are linked to nodes by id or by the node's
    dependencies on them."""
    # What AWS does is the union: every rule into a group counts together (512 /9 rules are 0.0.0.0/0), IPv4 and IPv6
    # alike, managed prefix lists by their entries; a prefix list whose entries are not in the stack cannot be judged.
    canonical = {
        str(r.props["id"]): r.urn for r in args.resources if r.resource_type == SECURITY_GROUP and r.props.get("id")
    }
    nodes = [r for r in args.resources if any(is_gpu(t) for t in instance_types(r.resource_type, r.props))]
    node_groups: set[str] = set()
    for node in nodes:
        node_groups |= {canonical.get(g, g) for g in _security_group_refs(node.props)}
        for prop in ("vpcSecurityGroupIds", "securityGroups", "networkInterfaces"):
            node_groups |= {d.urn for d in node.property_dependencies.get(prop, [])}
    lists = _prefix_lists(args.resources)
    admitted: dict[str, list[str]] = {}
    rules: dict[str, list[Any]] = {}
    unjudged: dict[str, list[str]] = {}
    for r in args.resources:
        cidrs, refs = _sources(r.resource_type, r.props)
        refs += [
            d.urn
            for d in r.property_dependencies.get("prefixListIds", []) + r.property_dependencies.get("prefixListId", [])
            if d.urn in lists
        ]
        if not cidrs and not refs:
            continue
        for group in _targets(r, canonical) & node_groups:
            admitted.setdefault(group, []).extend(cidrs + [c for ref in refs for c in lists.get(ref, [])])
            rules.setdefault(group, []).append(r)
            unjudged.setdefault(group, []).extend(
                ref for ref in refs if ref not in lists and not ref.startswith("urn:")
            )
    for group, cidrs in admitted.items():
        names = list(dict.fromkeys(r.name for r in rules[group]))
        named = f"{', '.join(names[:5])}{f' and {len(names) - 5} more' if len(names) > 5 else ''}: " + (
            "admits" if len(names) == 1 else "together admit"
        )
        if is_world(cidrs):
            report_violation(
                f"{named} the internet (0.0.0.0/0, ::/0 or CIDRs nearly as wide, however "
                "they are split across rules or prefix lists) to a security group of GPU nodes. To fix: "
                "admit the load balancer's security group only, and put clients' CIDRs on the load "
                "balancer.",
                rules[group][0].urn,
            )
        elif unjudged[group]:
            report_violation(
                f"{named} managed prefix list(s) {', '.join(sorted(set(unjudged[group])))[:200]} "
                "whose entries are not in this stack, so how much of the internet they open to GPU nodes "
                "cannot be judged. To fix: admit the load balancer's security group only.",
                rules[group][0].urn,
            )


def _described(validate: Any) -> str:
    return " ".join((validate.__doc__ or "").split())


MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
POLICIES = [
    *[
        ResourceValidationPolicy(
            name=name, description=_described(validate), enforcement_level=level, validate=validate
        )
        for name, validate, level in (
            ("imdsv2-required", imdsv2_required, MANDATORY),
            ("encrypted-volumes", encrypted_volumes, MANDATORY),
            ("no-secrets-in-user-data", no_secrets_in_user_data, MANDATORY),
            ("gpus-hold-declared-model", gpus_hold_declared_model, MANDATORY),
            ("gpu-nodes-declare-their-model", gpu_nodes_declare_their_model, ADVISORY),
            ("gpu-pods-hold-declared-model", k8s.gpu_pods_hold_declared_model, MANDATORY),
            ("gpu-pods-declare-their-model", k8s.gpu_pods_declare_their_model, ADVISORY),
            ("vllm-requires-its-api-key", k8s.vllm_requires_its_api_key, MANDATORY),
            ("no-secrets-in-manifests", k8s.no_secrets_in_manifests, MANDATORY),
            ("no-public-endpoint-without-tls", k8s.no_public_endpoint_without_tls, MANDATORY),
            ("karpenter-nodes-imdsv2-and-encrypted", k8s.karpenter_nodes_imdsv2_and_encrypted, MANDATORY),
            ("karpenter-pools-launch-known-types", k8s.karpenter_pools_launch_known_types, MANDATORY),
        )
    ],
    StackValidationPolicy(
        name="no-world-ingress-to-gpu-nodes",
        description=_described(no_world_ingress_to_gpu_nodes),
        enforcement_level=MANDATORY,
        validate=no_world_ingress_to_gpu_nodes,
    ),
]
"""The pack's policies (policy/__main__.py serves them)."""

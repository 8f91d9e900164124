"""What plan() returns: feasible candidates, rejected ones with their margins, and the Plan."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, computed_field, model_serializer

from sizing.catalog.assumptions import Assumptions
from sizing.catalog.checkpoints import Checkpoint
from sizing.memory.budget import MemoryBreakdown
from sizing.memory.layout import layout_label
from sizing.planner.request import PurchaseOption, Workload
from sizing.planner.speculative import SpeculativePlan


def _without_unset_calibration(handler: SerializerFunctionWrapHandler, value: BaseModel, name: str) -> dict[str, Any]:
    """The model's dump without `name` while it holds its default (no calibration): plans and plan locks written before
    calibrations existed keep their JSON, and so their digests (deploy/plan_lock.py)."""
    data = handler(value)
    if name in data and data[name] == type(value).model_fields[name].default:
        del data[name]
    return data


class Candidate(BaseModel):
    """One feasible fleet: an instance type, a layout, a replica count and a purchase mix."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    instance_type: str
    """AWS instance type."""
    gpu: str
    """GPU model."""
    gpus_per_instance: int
    """GPUs in one instance."""
    weights: str = ""
    """Weight format this candidate serves (with --weights auto, candidates differ in it)."""
    tensor_parallel: int
    """TP degree of one replica."""
    pipeline_parallel: int
    """PP degree of one replica."""
    expert_parallel: bool = False
    """vLLM --enable-expert-parallel: each GPU holds whole experts instead of a slice of every expert."""
    data_parallel: int = 1
    """Data-parallel attention ranks inside one replica (vLLM --data-parallel-size with expert parallelism); 1: none."""
    nodes_per_replica: int
    """Instances one replica spans."""
    replicas_per_instance: int
    """Replicas sharing one instance."""
    replicas_required: int
    """Replicas the load needs."""
    replicas: int
    """Replicas deployed (headroom included)."""
    sized_by: str
    """What set the replica count: concurrency, requests_per_second or output_tokens_per_second."""
    instances: int
    """Instances in all."""
    on_demand_instances: int
    """Instances bought on demand."""
    spot_instances: int
    """Instances bought on spot."""
    purchase: PurchaseOption
    """on-demand, spot or mixed."""
    batch_per_replica: int
    """Requests one replica holds at once at its capacity within the targets (its --max-num-seqs)."""
    concurrency_per_replica: float
    """Clients one replica serves at steady state within the targets (closed loop): the capacity the fleet is sized
    by."""
    planned_concurrency_per_replica: float
    """Requests in each replica at the planned load (the workload over the required replicas)."""
    time_in_system_ms: float = 0.0
    """Mean time a request spends in a replica at the planned load, arrival to last token (TTFT + output x TPOT)."""
    ttft_ms: float
    """Mean time to first token at the planned load (steady-state model)."""
    tpot_ms: float
    """Mean inter-token latency at the planned load (steady-state model)."""
    ttft_p95_ms: float
    """p95 time to first token at the planned load."""
    tpot_p95_ms: float
    """p95 of a request's mean inter-token latency at the planned load."""
    prefill_share: float
    """Share of step time one replica spends on prompts at capacity."""
    saturation_concurrency: float
    """Clients at which one replica's throughput reaches 90% of its maximum (more only queue)."""
    max_requests_per_second_per_replica: float
    """Highest request rate one replica sustains, targets aside (beyond it requests queue without bound)."""
    output_tokens_per_second_per_replica: float
    """Output tokens per second of one replica at capacity within the targets."""
    requests_per_second_per_replica: float
    """Requests one replica completes per second at capacity within the targets (the autoscaling target's basis)."""
    served_output_tokens_per_second: float
    """Output tokens/s the cost per token is computed on (the target load, or the fleet at the target concurrency)."""
    cold_start_s: float
    """Launch to serving for one replica."""
    on_demand_usd_per_hour: float
    """Price of one non-spot instance: the on-demand list price, or the Capacity Block rate for 'capacity-block'."""
    spot_usd_per_hour: float
    """Spot price of one instance."""
    interruption_usd_per_hour: float
    """Expected spot interruption cost of the fleet."""
    capacity_risk_usd_per_hour: float = 0.0
    """Expected extra cost of spot capacity not obtained (run on demand instead)."""
    hourly_cost_usd: float
    """Expected fleet cost per hour, the one plans are ranked by: the billed cost plus the expected spot interruption
    and capacity-risk charges (equal to the billed cost for a fleet without spot)."""
    monthly_cost_usd: float
    """Fleet cost per month (hours_per_month)."""
    cost_per_million_output_tokens_usd: float
    """hourly cost / millions of output tokens served per hour."""
    job_hours: float | None = None
    """A batch job's hours from launch to its last token (cold start, then every replica at capacity); None: no job."""
    job_cost_usd: float | None = None
    """What the batch job pays: the hourly cost over job_hours, or whole Capacity Blocks; None: no job."""
    memory: MemoryBreakdown
    """Per-GPU memory breakdown on the binding stage."""
    notes: tuple[str, ...] = ()
    """Caveats (spot scarcity, PCIe all-reduce, multi-node loss)."""
    calibrated: bool = False
    """Its speed figures come from the request's calibration (fitted to the user's benchmarks), not first principles."""

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # unannotated: the JSON schema stays the model's
        return _without_unset_calibration(handler, self, "calibrated")

    @computed_field
    @property
    def billed_usd_per_hour(self) -> float:
        """What AWS bills per hour while every spot instance is held: on-demand (or Capacity Block) and spot instances
        at their prices, no risk charges. Derived, so plans locked before it existed read it too."""
        return self.on_demand_instances * self.on_demand_usd_per_hour + self.spot_instances * self.spot_usd_per_hour

    @property
    def total_gpus(self) -> int:
        """GPUs in the fleet."""
        return self.instances * self.gpus_per_instance

    @property
    def parallel_label(self) -> str:
        """The layout: 'TP=8 PP=1', with ' DP=8 EP' for MoE layouts."""
        return layout_label(self.tensor_parallel, self.pipeline_parallel, self.data_parallel, self.expert_parallel)

    @property
    def label(self) -> str:
        """Short description: '2 x p5.48xlarge, TP=8 PP=1, 2 replicas'."""
        return (
            f"{self.instances} x {self.instance_type}, {self.parallel_label}, "
            f"{self.replicas} replica{'s' if self.replicas != 1 else ''}, {self.purchase}"
        )


class CalibrationInUse(BaseModel):
    """The calibration a plan was sized with, and how well it reproduced the benchmarks it was fitted to."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    summary: str
    """One line: what it was fitted to, when, and its residual error."""
    gpu: str
    """The GPU it describes."""
    model: str
    """The model it describes."""
    weights: str
    """The weight format it describes."""
    engine: str
    """The engine measured."""
    engine_version: str
    """Its version."""
    created: str
    """When it was fitted."""
    points: int
    """Load points it was fitted to."""
    median_abs_error: float
    """Median |calibrated / measured - 1| of throughput and ITL over those points."""
    max_abs_error: float
    """Largest of those."""
    sources: tuple[str, ...]
    """The benchmark files, 'name sha256:digest'."""
    fitted: dict[str, float]
    """The fitted efficiencies."""
    applies_to_choice: bool
    """Whether the chosen fleet's figures come from it."""


class FrontierPoint(BaseModel):
    """The cheapest plan of the chosen instance type at one TPOT target."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    tpot_target_ms: float
    """The TPOT target, milliseconds (p95 when the workload sets only a p95 TPOT target, else the mean)."""
    feasible: bool
    """Whether the instance type can meet it."""
    reason: str = ""
    """Why not (nearest miss), when infeasible."""
    tensor_parallel: int | None = None
    """TP degree of the cheapest plan."""
    pipeline_parallel: int | None = None
    """PP degree of the cheapest plan."""
    data_parallel: int | None = None
    """Data-parallel attention ranks of the cheapest plan (MLA models; 1 otherwise)."""
    expert_parallel: bool | None = None
    """Whether the cheapest plan runs expert parallelism (MoE models)."""
    replicas: int | None = None
    """Replicas deployed."""
    instances: int | None = None
    """Instances bought."""
    hourly_cost_usd: float | None = None
    """Expected fleet cost per hour, USD (spot risk included, as the choice's hourly_cost_usd)."""
    tpot_ms: float | None = None
    """Mean TPOT at the planned load."""
    ttft_ms: float | None = None
    """Mean TTFT at the planned load."""
    concurrency_per_replica: float | None = None
    """Clients one replica serves within the targets."""


class Alternative(BaseModel):
    """A feasible candidate that lost, and why."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    candidate: Candidate
    """The candidate."""
    why_lost: str
    """Why the choice beat it."""


class KvAlternative(BaseModel):
    """The cheapest plan with an FP8 KV cache, shown beside a plan with a 16-bit one."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    kv_dtype: str
    """The KV-cache dtype of this candidate (fp8)."""
    candidate: Candidate
    """The cheapest fleet with that cache."""
    saving_share: float
    """Its hourly cost below the chosen plan's, as a share of the chosen plan's (negative: dearer)."""
    source: str
    """Where the format's trade-off is documented."""


RejectionKind = Literal[
    "offering", "accelerator", "engine", "layout", "memory", "tpot", "ttft", "latency", "deadline", "fleet-size"
]
"""Why a candidate was rejected, in the order the planner tries it:
offering: the type is not sold in the region (or its zones, or as a Capacity Block);
accelerator: an accelerated type the planner does not size (Inferentia, Trainium, Gaudi...:
  sizing/data/not_planned.csv);
engine: vLLM has no kernels for the weight format or the model's attention on this GPU (sizing/data/kernels.toml);
layout: a TP x PP layout the model or vLLM refuses, or a fractional GPU;
memory: the replica does not fit in GPU memory; tpot, ttft: a latency target is missed;
latency: a request's whole time in the system exceeds concurrency / rate;
deadline: a batch job cannot finish within its deadline (cold start included);
fleet-size: more instances than any AWS account can hold."""


class Rejection(BaseModel):
    """A candidate that cannot serve the request, with the reason and its margin."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    instance_type: str
    """AWS instance type."""
    weights: str = ""
    """Weight format the candidate was tried in ('' : not format-specific)."""
    tensor_parallel: int | None
    """TP degree (None: the whole instance type was rejected)."""
    pipeline_parallel: int | None
    """PP degree (None: the whole instance type was rejected)."""
    expert_parallel: bool = False
    """The layout used expert parallelism."""
    data_parallel: int = 1
    """Data-parallel attention ranks of the layout."""
    kind: RejectionKind
    """Why it was rejected (RejectionKind lists each kind and what it means)."""
    reason: str
    """The reason with its margin, e.g. 'needs 3.1 GiB more per GPU'."""
    relative_miss: float | None = None
    """How far off, as a fraction (memory, tpot, ttft only)."""
    remedy: str = ""
    """What would make it fit."""

    @property
    def parallel_label(self) -> str:
        """The layout tried: 'TP=8 PP=1' (with ' DP=8 EP' for MoE layouts), or '' when the whole instance type was
        rejected."""
        if self.tensor_parallel is None:
            return ""
        return layout_label(self.tensor_parallel, self.pipeline_parallel or 1, self.data_parallel, self.expert_parallel)


class Plan(BaseModel):
    """The chosen fleet, the alternatives and every rejected candidate."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    model: str
    """Model name."""
    params_total: int
    """Parameters in the checkpoint."""
    params_active: int
    """Parameters each token uses (MoE: active experts only)."""
    weights: str
    """Weight format served."""
    checkpoint: Checkpoint
    """The repository every node downloads (a pre-quantized release of the served format where a well-known one exists,
    else the model's own), its stored format and size on disk; disk and cold start are sized from it."""
    vllm_quantization: str
    """--quantization value vLLM needs ('' when the checkpoint declares its own format)."""
    kv_dtype: str
    """KV cache dtype."""
    speculative: SpeculativePlan | None = None
    """The speculative-decoding draft the fleet runs and the acceptance it assumed (None: none); TPOT, capacity and
    memory include it."""
    engine: str
    """Engine profile the memory figures follow."""
    region: str
    """AWS region."""
    workload: Workload
    """The traffic planned for."""
    max_model_len: int
    """--max-model-len the fleet runs with."""
    choice: Candidate
    """The cheapest feasible fleet."""
    alternatives: tuple[Alternative, ...]
    """Next-best feasible fleets (best per instance type), with why each lost."""
    feasible_count: int
    """Feasible candidates considered in all."""
    rejected: tuple[Rejection, ...]
    """Every rejected candidate."""
    frontier: tuple[FrontierPoint, ...] = ()
    """Cost x latency frontier: the chosen instance type's cheapest plan at a few TPOT targets."""
    assumptions: Assumptions
    """Efficiencies and latencies used."""
    prices_as_of: str
    """Date of the price snapshot."""
    assumed_limits: tuple[str, ...] = ()
    """Limits the plan added to the workload's own, each with its figure and source: the reading-speed TPOT of an
    interactive workload without one, the utilization ceiling of interactive replicas, the time in the system a
    concurrency given beside a rate allows (Little's law)."""
    calibration: CalibrationInUse | None = None
    """The calibration in effect (None: every figure is first principles)."""
    warnings: tuple[str, ...] = ()
    """Things to know that do not block the plan."""
    fact_sources: dict[str, str] = {}
    """Per kind of fact (offerings, spot prices, quotas...): live, cached or embedded, and when."""
    kv_alternative: KvAlternative | None = None
    """With a 16-bit KV cache: the cheapest plan with an FP8 cache, shown beside the choice and never chosen (the user
    allows FP8 KV with kv_dtype fp8)."""

    @property
    def rejected_summary(self) -> str:
        """Rejections counted by kind, e.g. '40 layout, 7 memory, 1 offering'."""
        counts: dict[str, int] = {}
        for r in self.rejected:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))

    @computed_field
    @property
    def instance_type(self) -> str:
        """The chosen instance type."""
        return self.choice.instance_type

    @computed_field
    @property
    def instances(self) -> int:
        """Instances in the chosen fleet."""
        return self.choice.instances

    @computed_field
    @property
    def tensor_parallel(self) -> int:
        """TP degree."""
        return self.choice.tensor_parallel

    @computed_field
    @property
    def pipeline_parallel(self) -> int:
        """PP degree."""
        return self.choice.pipeline_parallel

    @computed_field
    @property
    def replicas(self) -> int:
        """Replicas deployed."""
        return self.choice.replicas

    @computed_field
    @property
    def purchase(self) -> PurchaseOption:
        """Purchase option."""
        return self.choice.purchase

    @computed_field
    @property
    def hourly_cost_usd(self) -> float:
        """Fleet cost per hour, USD."""
        return self.choice.hourly_cost_usd

    @computed_field
    @property
    def monthly_cost_usd(self) -> float:
        """Fleet cost per month, USD."""
        return self.choice.monthly_cost_usd

    @computed_field
    @property
    def cost_per_million_output_tokens_usd(self) -> float:
        """USD per million output tokens."""
        return self.choice.cost_per_million_output_tokens_usd

    @computed_field
    @property
    def memory_per_gpu(self) -> MemoryBreakdown:
        """Per-GPU memory breakdown of the choice."""
        return self.choice.memory

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # unannotated: the JSON schema stays the model's
        return _without_unset_calibration(handler, self, "calibration")

"""`python -m sizing catalog`: the instance types the planner sizes, with their GPUs, GPU memory, on-demand prices and
regions (sizing/data/instances.csv, gpus.csv, prices.csv), filtered, as text or JSON (as SkyPilot's `show-gpus`)."""

from __future__ import annotations

import argparse

from sizing.catalog.instances import (
    InstanceType,
    all_instance_types,
    catalog_prices_as_of,
    check_region,
    not_planned_types,
)
from sizing.catalog.selection import expand_instance_types, instance_types_with_gpu
from sizing.errors import InfeasibleError


def _selected(args: argparse.Namespace) -> list[InstanceType]:
    types = all_instance_types()
    names = list(types)
    if args.instance_types:
        names = [n for n in expand_instance_types(args.instance_types.split(",")) if n in types]
    if args.gpu:
        with_gpu = set(instance_types_with_gpu(args.gpu))
        names = [n for n in names if n in with_gpu]
    region = check_region(args.region) if args.region else None
    return [
        t
        for t in (types[n] for n in names)
        if (region is None or region in t.od_usd_per_hour)
        and (args.min_gpu_memory_gib is None or t.gpu.visible_memory_gib >= args.min_gpu_memory_gib)
        and (args.min_gpus is None or t.gpus >= args.min_gpus)
        and (t.efa or not args.efa)
    ]


def _price(t: InstanceType, region: str | None) -> tuple[float, str]:
    """On-demand USD per hour: in the region, or the lowest across regions (and where)."""
    if region:
        return t.od_usd_per_hour[region], region
    return min((usd, r) for r, usd in t.od_usd_per_hour.items()) if t.od_usd_per_hour else (float("inf"), "")


def _row(t: InstanceType, region: str | None) -> dict:
    usd, where = _price(t, region)
    return {
        "instance_type": t.name,
        "gpu": t.gpu.name,
        "gpus": t.gpus,
        "gpu_memory_gib": t.gpu.visible_memory_gib,
        "total_gpu_memory_gib": t.gpu.visible_memory_gib * t.gpus,
        "vcpus": t.vcpus,
        "memory_gib": t.memory_gib,
        "network_gbps": t.network_gbps,
        "efa": t.efa,
        "od_usd_per_hour": usd if t.od_usd_per_hour else None,
        "price_region": where or None,
        "od_usd_per_hour_by_region": dict(sorted(t.od_usd_per_hour.items())),
        "regions": sorted(t.od_usd_per_hour),
        "price_as_of": t.price_as_of,
    }


def _line(r: dict, region: str | None) -> str:
    price = "not on demand" if r["od_usd_per_hour"] is None else f"{r['od_usd_per_hour']:>9,.2f}"
    where = "" if region or r["price_region"] is None else f" {r['price_region']:<15}"
    gpus = f"{r['gpus']:g}"
    return (
        f"  {r['instance_type']:<20}{r['gpu']:<17}{gpus:>5}{r['gpu_memory_gib']:>8.1f}{r['total_gpu_memory_gib']:>9.1f}"
        f"{r['vcpus']:>6}{'yes' if r['efa'] else '-':>5}  {price}{where}{len(r['regions']):>4}"
    )


def _by_gpu(rows: list[dict]) -> list[dict]:
    """One summary per GPU of the selected types, cheapest per GPU-hour first."""
    out: dict[str, dict] = {}
    for r in rows:
        g = out.setdefault(
            r["gpu"],
            {
                "gpu": r["gpu"],
                "gpu_memory_gib": r["gpu_memory_gib"],
                "instance_types": [],
                "gpu_counts": [],
                "od_usd_per_gpu_hour": None,
            },
        )
        g["instance_types"].append(r["instance_type"])
        g["gpu_counts"] = sorted({*g["gpu_counts"], r["gpus"]})
        if r["od_usd_per_hour"] is not None:
            per_gpu = r["od_usd_per_hour"] / r["gpus"]
            g["od_usd_per_gpu_hour"] = min(per_gpu, g["od_usd_per_gpu_hour"] or per_gpu)
    return sorted(out.values(), key=lambda g: (g["od_usd_per_gpu_hour"] or float("inf"), g["gpu"]))


def _gpu_line(g: dict) -> str:
    price = f"{'-' if g['od_usd_per_gpu_hour'] is None else format(g['od_usd_per_gpu_hour'], ',.2f'):>8}"
    counts = ",".join(f"{n:g}" for n in g["gpu_counts"])
    return f"  {g['gpu']:<19}{g['gpu_memory_gib']:>7.1f}  {price}  {counts:<22}{len(g['instance_types']):>5}"


def catalog_command(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """The filtered catalog, cheapest first (JSON: `instance_types`, one object per type; with --by-gpu, `gpus`)."""
    found = _selected(args)
    if not found:
        raise InfeasibleError(
            "No instance type matches these filters.",
            f"the catalog has {len(all_instance_types())} GPU instance types",
            "loosen a filter (--gpu, --region, "
            "--min-gpu-memory-gib, --min-gpus, --efa); `python -m sizing catalog` lists them all.",
        )
    rows = sorted(
        (_row(t, args.region) for t in found), key=lambda r: (r["od_usd_per_hour"] or float("inf"), r["instance_type"])
    )
    priced = f"on-demand $/h in {args.region}" if args.region else "lowest on-demand $/h and its region"
    head = (
        f"{len(rows)} GPU instance types ({priced}; prices as of {catalog_prices_as_of(found)}; GPU memory in GiB "
        "as the engine sees it, per GPU and per instance):"
    )
    columns = (
        f"  {'instance':<20}{'GPU':<17}{'GPUs':>5}{'GiB':>8}{'GiB all':>9}{'vCPU':>6}{'EFA':>5}  {'$/h':>9}"
        + ("" if args.region else f" {'region':<15}")
        + f"{'rgns':>4}"
    )
    tail = (
        f"Not planned: {len(not_planned_types())} accelerated types (Inferentia, Trainium and others; "
        "sizing/data/not_planned.csv says why). `--json` adds each type's price in every region."
    )
    as_of = catalog_prices_as_of(found)
    if args.by_gpu:
        gpus = _by_gpu(rows)
        where = f"in {args.region}" if args.region else "in any region"
        summary = (
            f"{len(gpus)} GPUs on {len(rows)} instance types (lowest on-demand $ per GPU-hour {where}; prices "
            f"as of {as_of}; memory per GPU in GiB as the engine sees it):"
        )
        header = f"  {'GPU':<19}{'GiB':>7}  {'$/GPU-h':>8}  {'GPUs per type':<22}{'types':>5}"
        return {"gpus": gpus, "prices_as_of": as_of, "region": args.region}, [
            summary,
            header,
            *(_gpu_line(g) for g in gpus),
        ]
    lines = [head, columns, *(_line(r, args.region) for r in rows), tail]
    return {"instance_types": rows, "prices_as_of": as_of, "region": args.region}, lines

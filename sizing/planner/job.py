"""A batch job's economics: the pace a deadline sets, the hours the fleet runs and what the job costs.

A job of `job_output_tokens` runs from the fleet's launch: the cold start, then every deployed replica generating at
its capacity. On-demand and spot instances bill per second (EC2 On-Demand and Spot pricing pages: "per-second billing,
60-second minimum" for Linux), so the job costs the fleet's hourly cost over those hours. A Capacity Block is paid for
whole: its length is rounded up to what AWS sells (CAPACITY_BLOCK_*)."""

from __future__ import annotations

import math

from sizing.planner.request import Workload
from sizing.units import SECONDS_PER_HOUR

HOURS_PER_DAY = 24
CAPACITY_BLOCK_DAILY_UP_TO_DAYS = 14
"""Capacity Blocks are sold in 1-day steps up to 14 days, then in 7-day steps up to 182 days (AWS EC2 User Guide,
"Capacity Blocks for ML": durations of 1-14 days in 1-day increments and up to 182 days in 7-day increments)."""
CAPACITY_BLOCK_WEEKLY_STEP_DAYS = 7
"""The step beyond CAPACITY_BLOCK_DAILY_UP_TO_DAYS (same source)."""


def capacity_block_hours(hours: float) -> float:
    """The Capacity Block length that covers `hours`: whole days up to 14, whole weeks beyond (longer jobs take several
    consecutive blocks, each rounded alike; the total is the same)."""
    days = math.ceil(hours / HOURS_PER_DAY - 1e-9)
    if days > CAPACITY_BLOCK_DAILY_UP_TO_DAYS:
        days = math.ceil(days / CAPACITY_BLOCK_WEEKLY_STEP_DAYS) * CAPACITY_BLOCK_WEEKLY_STEP_DAYS
    return max(days, 1) * HOURS_PER_DAY


def deadline_rate(w: Workload, cold_s: float) -> float | None:
    """Requests/s a fleet whose nodes take `cold_s` to serve must sustain to finish the job by its deadline (None: no
    deadline; inf: the deadline falls before the fleet serves)."""
    if w.deadline_hours is None or w.job_output_tokens is None:
        return None
    serving_s = w.deadline_hours * SECONDS_PER_HOUR - cold_s
    return w.job_output_tokens / w.output_tokens / serving_s if serving_s > 0 else math.inf


def job_hours(w: Workload, cold_s: float, fleet_tokens_per_s: float) -> float | None:
    """Hours from launch until the job's last token: cold start plus the job at the fleet's pace (None: no job)."""
    if w.job_output_tokens is None:
        return None
    return (cold_s + w.job_output_tokens / fleet_tokens_per_s) / SECONDS_PER_HOUR


def job_cost_usd(hours: float, hourly_usd: float, capacity_block: bool) -> float:
    """What the job pays: per-second billing for the hours it runs, or whole Capacity Blocks."""
    return hourly_usd * (capacity_block_hours(hours) if capacity_block else hours)


def deadline_miss(w: Workload, cold_s: float) -> str | None:
    """Why no fleet of nodes with this cold start meets the job's deadline (None: the deadline leaves serving time)."""
    if w.deadline_hours is None or cold_s < w.deadline_hours * SECONDS_PER_HOUR:
        return None
    return (
        f"the {w.deadline_hours:g} h deadline ends before a node serves (its cold start takes "
        f"{cold_s / SECONDS_PER_HOUR:.2f} h)"
    )

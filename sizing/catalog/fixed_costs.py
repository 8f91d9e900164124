"""AWS unit prices of a fleet's fixed overhead (sizing/data/fixed_costs.csv): the network, load balancer, API-key
secret, logs and node disks a stack creates besides its GPU instances. Prices only: deploy/fixed_costs.py counts what a
stack creates, since only the layer that creates the resources knows them."""

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sizing.catalog.files import as_bool, read_csv

PriceItem = Literal[
    "interface_endpoint",
    "nat_gateway",
    "public_ipv4",
    "alb",
    "alb_lcu",
    "secret",
    "log_ingestion",
    "log_storage",
    "gp3_storage",
    "gp3_throughput",
    "gp3_iops",
    "cw_custom_metric",
    "cw_alarm_metric",
    "cw_dashboard",
    "cw_api_requests",
    "s3_storage",
    "ecr_storage",
]
"""What fixed_costs.csv prices (its header says what each is)."""
UNITS: dict[PriceItem, str] = {
    "interface_endpoint": "USD per hour",
    "nat_gateway": "USD per hour",
    "public_ipv4": "USD per hour",
    "alb": "USD per hour",
    "alb_lcu": "USD per LCU-hour",
    "secret": "USD per month",
    "log_ingestion": "USD per GB",
    "log_storage": "USD per GB-month",
    "gp3_storage": "USD per GB-month",
    "gp3_throughput": "USD per MiB/s-month",
    "gp3_iops": "USD per IOPS-month",
    "cw_custom_metric": "USD per metric-month",
    "cw_alarm_metric": "USD per alarm metric-month",
    "cw_dashboard": "USD per dashboard-month",
    "cw_api_requests": "USD per 1000 requests",
    "s3_storage": "USD per GB-month",
    "ecr_storage": "USD per GB-month",
}
"""The one unit each item is priced in: a row in another unit is refused, not converted."""
BILLED_HOURLY: frozenset[PriceItem] = frozenset(item for item, unit in UNITS.items() if unit.endswith("hour"))
"""Items priced per hour; the others are priced per month (ingestion per GB, of the GB a month brings)."""
MAX_UNIT_USD = 100.0
"""Bound of one unit price, USD (the dearest item, a dashboard-month, is $3): a price past it is a typo in the file."""


class UnitPrice(BaseModel):
    """One row of fixed_costs.csv."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    item: PriceItem
    """What is priced."""
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
    """AWS region code."""
    usd: float = Field(ge=0, le=MAX_UNIT_USD)
    """The price, USD per `unit`."""
    unit: str
    """The unit of `usd` (UNITS[item])."""
    source: str = Field(min_length=1)
    """The AWS pricing page and where the figure was read ("unconfirmed" when no published copy was found)."""
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    """Date of the source."""
    confirmed: bool
    """Whether the figure was found in a dated copy of AWS's page or price list (or a dated citation of it)."""

    @model_validator(mode="after")
    def _unit_of_item(self) -> "UnitPrice":
        if self.unit != UNITS[self.item]:
            raise ValueError(
                f"{self.item} in {self.region} is priced in {self.unit!r}; fixed_costs.csv prices it in "
                f"{UNITS[self.item]!r}. To fix: convert the price to that unit."
            )
        return self


@cache
def all_fixed_cost_prices() -> dict[str, dict[PriceItem, UnitPrice]]:
    """Every row of fixed_costs.csv, by region then item; a region must price every item, once."""
    by_region: dict[str, dict[PriceItem, UnitPrice]] = {}
    for row in read_csv("fixed_costs.csv"):
        price = UnitPrice.model_validate({**row, "confirmed": as_bool(row["confirmed"])})
        prices = by_region.setdefault(price.region, {})
        if price.item in prices:
            raise ValueError(f"fixed_costs.csv prices {price.item} in {price.region} twice. To fix: keep one row.")
        prices[price.item] = price
    for region, prices in by_region.items():
        missing = sorted(set(UNITS) - set(prices))
        if missing:
            raise ValueError(f"fixed_costs.csv has no {', '.join(missing)} for {region}. To fix: add the rows.")
    return by_region


def fixed_cost_prices(region: str) -> dict[PriceItem, UnitPrice] | None:
    """The overhead's unit prices in a region, or None where fixed_costs.csv has none."""
    return all_fixed_cost_prices().get(region)

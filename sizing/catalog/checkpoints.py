"""Checkpoints a node downloads: pre-quantized releases on the Hugging Face hub (sizing/data/checkpoints.csv)."""

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import optional_float, read_csv


class Checkpoint(BaseModel):
    """The repository a node downloads and what it holds."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    repo: str | None
    """Hugging Face repository id given to vLLM's --model (None: unknown; the fleet's weights options must say)."""
    format: str
    """Weight format its files are stored in (a row of weight_formats.csv)."""
    download_bytes: int = Field(ge=0)
    """Size of its weight files, bytes: what each node downloads and keeps on disk."""
    prequantized: bool
    """True: a separate release already in the served format; False: the model's own checkpoint."""
    source: str
    """Where the repository and its size come from."""


class Release(BaseModel):
    """One row of checkpoints.csv: a pre-quantized release of a base model."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    base_repo: str
    """The model's own repository."""
    weights: str
    """Served weight format the release stores."""
    repo: str
    """The release's repository."""
    download_bytes: float | None
    """Recorded size on disk, bytes (None: computed from the parameter count)."""
    source: str
    """Model card the row comes from."""
    as_of: str
    """Date of the row."""


@cache
def _releases() -> dict[tuple[str, str], Release]:
    return {
        (r["base_repo"].lower(), r["weights"]): Release(
            base_repo=r["base_repo"],
            weights=r["weights"],
            repo=r["repo"],
            download_bytes=optional_float(r["download_bytes"]),
            source=r["source"],
            as_of=r["as_of"],
        )
        for r in read_csv("checkpoints.csv")
    }


def prequantized_release(base_repo: str | None, weights: str) -> Release | None:
    """The well-known pre-quantized release of this model in this format, if the catalog has one."""
    return _releases().get((base_repo.lower(), weights)) if base_repo else None

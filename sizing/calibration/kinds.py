"""What a calibration records about the benchmark behind it, kept apart from the result-file readers
(sizing/calibration/results.py) so that a plan, whose request may carry a calibration, loads without them."""

from typing import Literal

Tool = Literal["vllm-bench-serve", "guidellm", "aiperf"]
"""The benchmark tools whose result files are read."""
Arrivals = Literal["poisson", "burst"]
"""How the benchmark's clients sent their requests (results.py's docstring says which tool setting is which)."""


def safe_name(text: str) -> str:
    """A name with every character outside letters, digits and ._+:/@- replaced by '_' (calibrations print it)."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._+:/@-") else "_" for c in text[:200])
    return cleaned if cleaned[:1].isalnum() else "f" + cleaned[:199]

"""Weight formats (sizing/data/weight_formats.csv): how many bytes each kind of tensor takes."""

from functools import cache
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import read_csv
from sizing.errors import UnknownNameError

TensorRole = Literal["linear", "expert", "other"]


class WeightFormat(BaseModel):
    """A weight storage format and what it quantizes."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    """Format name, e.g. 'int4-awq'."""
    linear_bits: float = Field(gt=0)
    """Bits per weight of the tensors the format quantizes."""
    other_bits: float = Field(gt=0)
    """Bits per weight of every other tensor (embeddings, lm_head, norms, routers)."""
    applies_to: Literal["all", "all_linear", "experts"]
    """Which tensors take linear_bits."""
    group_size: int = Field(ge=0)
    """Weights per scale group (0: per-tensor scale, negligible)."""
    scale_bytes: float = Field(ge=0)
    """Bytes of scale stored per group."""
    zero_bytes: float = Field(ge=0)
    """Bytes of zero point stored per group."""
    compute_dtype: str
    """Tensor-core dtype prefill runs in."""
    vllm_quantization: str
    """vLLM --quantization value ('' when not needed)."""
    min_compute_capability: float = Field(ge=0)
    """Lowest CUDA compute capability vLLM has kernels for."""
    source: str
    """Where the layout comes from."""

    def bytes_per_weight(self, role: TensorRole) -> float:
        """Bytes per weight, scales included, for a tensor of this role."""
        quantized = (
            self.applies_to == "all" or role == "expert" or (role == "linear" and self.applies_to == "all_linear")
        )
        if not quantized:
            return self.other_bits / 8
        overhead = (self.scale_bytes + self.zero_bytes) / self.group_size if self.group_size else 0.0
        return self.linear_bits / 8 + overhead


@cache
def all_formats() -> dict[str, WeightFormat]:
    """Every weight format, by name."""
    return {
        r["name"]: WeightFormat(
            name=r["name"],
            linear_bits=float(r["linear_bits"]),
            other_bits=float(r["other_bits"]),
            applies_to=cast(Literal["all", "all_linear", "experts"], r["applies_to"]),
            group_size=int(r["group_size"]),
            scale_bytes=float(r["scale_bytes"]),
            zero_bytes=float(r["zero_bytes"]),
            compute_dtype=r["compute_dtype"],
            vllm_quantization=r["vllm_quantization"],
            min_compute_capability=float(r["min_compute_capability"]),
            source=r["source"],
        )
        for r in read_csv("weight_formats.csv")
    }


LLAMA_CPP_ONLY_FORMATS = frozenset({"q4_k_m"})
"""Formats in weight_formats.csv for local llama.cpp sizing only (GGUF k-quants): a vLLM fleet cannot serve them."""

FORMAT_ALIASES = {
    "int4": "int4-awq",
    "awq": "int4-awq",
    "gptq": "int4-gptq",
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "float32": "fp32",
    "w4a16": "int4-gptq",
    "w8a8": "int8",
}


def get_format(name: str) -> WeightFormat:
    """A weight format by name or alias ('int4' means AWQ group 128)."""
    key = FORMAT_ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in all_formats():
        raise UnknownNameError(
            "weight format", name, all_formats(), "pass one of the formats in sizing/data/weight_formats.csv."
        )
    return all_formats()[key]


KV_DTYPE_BYTES = {"auto": None, "bf16": 2, "fp16": 2, "fp8": 1, "fp8_e4m3": 1, "fp8_e5m2": 1, "fp32": 4}
"""KV cache element sizes in bytes; 'auto' follows the model's activation dtype."""


VLLM_KV_CACHE_DTYPES = ("auto", "fp8", "fp8_e4m3", "fp8_e5m2")
"""--kv-cache-dtype values the fleet passes to vLLM: those of vLLM's CacheDType that every release since 0.6 accepts
for any model on NVIDIA GPUs (vllm/config/cache.py, checked on 0.32.0: auto, float16, bfloat16, fp8, fp8_e4m3,
fp8_e5m2, fp8_inc, ...). 'bfloat16' is "an invalid option for models that do not default to fp8" (same file), and
'float16' is not in every release: a 16-bit cache is 'auto'."""
KV_CACHE_DTYPE_ALIASES = {
    "fp8e4m3": "fp8_e4m3",
    "fp8_e4m3fn": "fp8_e4m3",
    "e4m3": "fp8_e4m3",
    "fp8e5m2": "fp8_e5m2",
    "e5m2": "fp8_e5m2",
}
"""Other spellings of vLLM's values (case aside), mapped to vLLM's own."""
SIXTEEN_BIT_KV = ("bf16", "bfloat16", "fp16", "float16", "half", "fp32", "float32", "float")
"""Spellings of a 16- or 32-bit cache: vLLM's 'auto' is the model's own 16-bit dtype, and it has no fp32 cache."""


def vllm_kv_cache_dtype(value: str) -> str:
    """A KV cache dtype as vLLM spells it (aliases and case mapped); raises UnknownNameError for the rest."""
    key = str(value).strip().lower()
    key = KV_CACHE_DTYPE_ALIASES.get(key, key)
    if key in VLLM_KV_CACHE_DTYPES:
        return key
    fix = (
        "use 'auto' (the model's own 16-bit dtype: vLLM takes 'bfloat16' only for models whose cache defaults to "
        "fp8, and has no fp32 cache) or 'fp8'."
        if key in SIXTEEN_BIT_KV
        else "use 'auto' (the model dtype) or 'fp8'."
    )
    raise UnknownNameError("KV cache dtype", str(value)[:40], VLLM_KV_CACHE_DTYPES, fix)


def kv_bytes_per_element(kv_dtype: str, activation_bytes: int) -> int:
    """Bytes per KV element for a --kv-cache-dtype value."""
    key = kv_dtype.strip().lower()
    if key not in KV_DTYPE_BYTES:
        raise UnknownNameError("KV cache dtype", kv_dtype, KV_DTYPE_BYTES, "use 'auto' (the model dtype) or 'fp8'.")
    return KV_DTYPE_BYTES[key] or activation_bytes


def flat_format(bytes_per_param: float) -> WeightFormat:
    """Every tensor at `bytes_per_param` (the tutorial's rule of thumb, for raw numbers without a config)."""
    if not 0 < bytes_per_param <= 4:
        from sizing.errors import InvalidInputError

        raise InvalidInputError(
            f"--bytes-per-param={bytes_per_param!r} must be in (0, 4]: 2 for bf16, 1 for 8-bit, "
            "0.5 for 4-bit. To fix: pass one of those, or --weights FORMAT."
        )
    dtype = "fp32" if bytes_per_param >= 4 else ("bf16" if bytes_per_param >= 2 else "fp16")
    return WeightFormat(
        name=f"{bytes_per_param:g}-bytes-per-param",
        linear_bits=8 * bytes_per_param,
        other_bits=8 * bytes_per_param,
        applies_to="all",
        group_size=0,
        scale_bytes=0,
        zero_bytes=0,
        compute_dtype=dtype,
        vllm_quantization="",
        source="raw --bytes-per-param",
        min_compute_capability=0,
    )

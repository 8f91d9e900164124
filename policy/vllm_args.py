"""What a node actually runs: the vLLM settings in its user data (`vllm serve MODEL --flag value ...`, or the
OpenAI server module with --model), read whatever the encoding (base64, gzip, base64 twice), so that the memory policy
judges the flags the engine starts with rather than the tags beside them. Secrets are searched in every layer, and
with quotes and line continuations removed (a token split as "hf_abc""def" is the same token to the shell)."""

from __future__ import annotations

import binascii
import re
import shlex
import zlib

from components import fleet_tags as tag
from components.user_data_codec import decode_user_data

MAX_LAYERS = 3
"""Encodings peeled off user data (base64, gzip, base64 again); cloud-init itself expands one gzip layer."""
FLAG_TAGS = {
    "--tensor-parallel-size": tag.TENSOR_PARALLEL,
    "-tp": tag.TENSOR_PARALLEL,
    "--pipeline-parallel-size": tag.PIPELINE_PARALLEL,
    "-pp": tag.PIPELINE_PARALLEL,
    "--max-model-len": tag.MAX_MODEL_LEN,
    "--gpu-memory-utilization": tag.GPU_MEMORY_UTILIZATION,
    "--kv-cache-dtype": tag.KV_DTYPE,
}
"""vLLM flags that decide the memory a replica needs, and the declaration tag each stands for."""
SPLICED = re.compile(r"""["'\\]|\\\n""")
"""Quotes and backslashes: removed, adjacent shell words join (hf_ab""cd is hf_abcd to the shell)."""


def layers(encoded: str) -> list[str]:
    """The user data as given and every decoded layer below it (base64, gzip-compressed or not), outermost first."""
    found, text = [encoded], encoded
    for _ in range(MAX_LAYERS):
        try:
            text = decode_user_data(text.strip())
        except (binascii.Error, ValueError, zlib.error):
            break
        found.append(text)
    return found


def spliced(text: str) -> str:
    """The text with quotes and backslashes removed, for finding a secret split across shell words."""
    return SPLICED.sub("", text)


def _flags(words: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, word in enumerate(words):
        name, _, inline = word.partition("=")
        if name in FLAG_TAGS:
            value = inline or (words[i + 1] if i + 1 < len(words) else "")
            out[FLAG_TAGS[name]] = value
    return out


def vllm_settings(script: str) -> dict[str, str]:
    """The declaration tags the vLLM command line in a script amounts to (empty: no vLLM command found)."""
    for line in script.splitlines():
        if " serve " not in line and "api_server" not in line:
            continue
        try:
            words = shlex.split(line, comments=False)
        except ValueError:
            words = line.split()
        if "serve" in words:
            return _flags(words[words.index("serve") + 1 :])
        if any(w.endswith("vllm.entrypoints.openai.api_server") for w in words):
            return _flags(words)
    return {}

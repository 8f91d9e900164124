#!/usr/bin/env bash
# The engine installs alone (`make engine-only`, run by .ci/run): a fresh virtual environment, `pip install .` without
# extras (pydantic and PyYAML only), then the engine's commands run from outside the repository (the installed package,
# not the checkout) and every command that needs Pulumi is refused with exit 2 and the extra to install, no traceback.
# Usage: tools/engine_only.sh [VENV]  (default: a temporary folder, removed afterwards). PYTHON picks the interpreter.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
VENV=${1:-$WORK/venv}
started=$SECONDS

# the checkout's files as a clone would have them (tracked and new, not ignored), so that pip's build/ stays out of it
mkdir "$WORK/src"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && xargs -0 tar --ignore-failed-read -cf - --) \
  | tar -xf - -C "$WORK/src"
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$WORK/src"
PY=$VENV/bin/python
for module in pulumi pulumi_aws boto3; do
  if "$PY" -c "import $module" 2>/dev/null; then
    echo "engine-only: $module is installed without the pulumi extra" >&2
    exit 1
  fi
done
installed=$((SECONDS - started))

failures=0
# check EXPECTED_EXIT TEXT_IN_OUTPUT COMMAND...: the command's exit code, a line its output must hold, no traceback
check() {
  local expected=$1 text=$2 code=0
  shift 2
  (cd "$WORK" && LLMFLEET_CACHE_DIR="$WORK/cache" "$PY" "$@") >"$WORK/out" 2>&1 || code=$?
  if [ "$code" -ne "$expected" ] || ! grep -qF -- "$text" "$WORK/out" || grep -q "Traceback" "$WORK/out"; then
    echo "engine-only: FAIL python $* (exit $code, expected $expected and '$text'):" >&2
    tail -n 5 "$WORK/out" >&2
    failures=$((failures + 1))
  else
    echo "engine-only: ok   python $* (exit $code)"
  fi
}

check 0 "total" -m sizing memory llama-3.1-8b
check 0 "TPOT" -m sizing speed --model llama-3.1-8b --gpu L4
check 0 "Choice:" -m sizing plan
check 0 "Total:" -m sizing plan --stack "$ROOT/stacks/Pulumi.dev.yaml"
check 2 "pip install '.[pulumi]'" -m sizing report "$ROOT/stacks/Pulumi.dev.yaml"
check 2 "pip install '.[pulumi]'" -m preview "$ROOT/stacks/Pulumi.dev.yaml"
check 2 "pip install '.[pulumi,test]'" -m policy
check 2 "pip install '.[pulumi]'" -m provider
check 0 "sizing.plan: 0 failed" -c "import doctest, sizing; r = doctest.testmod(sizing); print(f'sizing.plan: {r.failed} failed of {r.attempted}')"

echo "engine-only: install ${installed} s, all checks $((SECONDS - started)) s, ${failures} failed"
[ "$failures" -eq 0 ]

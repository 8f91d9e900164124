"""Calibration from the user's own benchmarks: result files of `vllm bench serve`, GuideLLM and AIPerf read into load
points (results.py), the speed model's efficiencies fitted to them within physical bounds (fit.py), and the fit kept
as a TOML file with its provenance (store.py)."""

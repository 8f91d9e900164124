"""Model architectures: ModelSpec, reading Hugging Face config.json files, presets, parameter counts."""

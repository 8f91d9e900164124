# Single-node replica: bridge networking (the port published, the metadata service blocked for containers).
exec docker run --rm --name vllm --gpus all --ipc host -p {{port}}:{{port}} "${LOGS[@]}" \
  --env-file "$RUN_DIR/env" -e HF_HOME=/data/hf \
  -v "$DATA:/data" --entrypoint vllm "$IMAGE" serve "$MODEL_REF" {{vllm_args}}

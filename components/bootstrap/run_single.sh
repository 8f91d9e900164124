exec docker run --rm --name vllm --gpus all --ipc host --network host \
  --env-file /run/llmfleet/env \
  -v /opt/llmfleet/hf:/root/.cache/huggingface -v /opt/llmfleet/models:/models \
  {{image}} {{model_ref}} {{vllm_args}}

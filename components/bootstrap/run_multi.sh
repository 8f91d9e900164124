# Multi-node replica: this Auto Scaling group is one replica of {{nodes}} nodes. The node with the lowest private IP
# is the Ray head and runs the API server; the others join it as Ray workers. If any node is lost, Ray loses a
# worker, vLLM exits, and the head waits here until the group has {{nodes}} nodes again before serving.
ASG=$(imds meta-data/tags/instance/aws:autoscaling:groupName)
SELF_IP=$(imds meta-data/local-ipv4)
until [ "$(aws ec2 describe-instances --region "$REGION" \
    --filters "Name=tag:aws:autoscaling:groupName,Values=$ASG" Name=instance-state-name,Values=running \
    --query 'length(Reservations[].Instances[])' --output text)" -ge {{nodes}} ]; do sleep 10; done
HEAD_IP=$(aws ec2 describe-instances --region "$REGION" \
    --filters "Name=tag:aws:autoscaling:groupName,Values=$ASG" Name=instance-state-name,Values=running \
    --query 'Reservations[].Instances[].PrivateIpAddress' --output text | tr '\t' '\n' | sort -V | head -n 1)
EFA_DEVICES=$(for d in /dev/infiniband/uverbs*; do [ -e "$d" ] && printf -- '--device=%s ' "$d"; done; true)
DOCKER=(docker run --rm --name vllm --gpus all --ipc host --network host --ulimit memlock=-1 --cap-add IPC_LOCK
        --env-file /run/llmfleet/env -e FI_PROVIDER=efa -e NCCL_SOCKET_IFNAME=^docker,lo
        -v /opt/llmfleet/hf:/root/.cache/huggingface -v /opt/llmfleet/models:/models --entrypoint bash)
if [ "$SELF_IP" = "$HEAD_IP" ]; then
  # shellcheck disable=SC2086
  exec "${DOCKER[@]}" $EFA_DEVICES {{image}} -c "ray start --head --port=6379 && \
    until [ \$(ray list nodes --filter state=ALIVE --format json 2>/dev/null | grep -c node_id) -ge {{nodes}} ]; do sleep 5; done && \
    exec vllm serve {{model_ref}} {{vllm_args}}"
else
  # shellcheck disable=SC2086
  exec "${DOCKER[@]}" $EFA_DEVICES {{image}} -c "ray start --address=$HEAD_IP:6379 --block"
fi

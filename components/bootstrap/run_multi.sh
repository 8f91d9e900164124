# Multi-node replica of {{nodes}} nodes, vLLM multiprocessing across nodes (no Ray): `vllm serve ... --nnodes N
# --node-rank R --master-addr <rank 0 IP>`, ranks above 0 with --headless, as vLLM v0.19.0 documents it in
# docs/serving/parallelism_scaling.md ("Running vLLM with MultiProcessing").
# Ranks: each node claims the lowest free rank with an instance tag; on a clash the lower instance id keeps it and the
# other claims again. A replacement node takes the rank its predecessor freed. Rank 0 serves the API.
NODES={{nodes}}
SELF_IP=$(imds meta-data/local-ipv4)
peers() {
  aws ec2 describe-instances --region "$REGION" \
    --filters "Name=tag:aws:autoscaling:groupName,Values=$ASG" Name=instance-state-name,Values=pending,running \
    --query "Reservations[].Instances[].[InstanceId,PrivateIpAddress,Tags[?Key=='{{rank_tag}}']|[0].Value]" --output text
}
claim_rank() {
  local taken mine clash free rank
  while :; do
    taken=$(peers)
    mine=$(awk -v id="$INSTANCE_ID" '$1 == id && $3 != "None" {print $3}' <<<"$taken")
    if [ -n "$mine" ]; then
      clash=$(awk -v id="$INSTANCE_ID" -v r="$mine" '$3 == r && $1 < id' <<<"$taken")
      if [ -z "$clash" ]; then
        echo "$mine"
        return 0
      fi
      aws ec2 delete-tags --region "$REGION" --resources "$INSTANCE_ID" --tags "Key={{rank_tag}}" >/dev/null
    else
      free=""
      for ((rank = 0; rank < NODES; rank++)); do
        if ! awk -v r="$rank" '$3 == r {found = 1} END {exit !found}' <<<"$taken"; then free=$rank; break; fi
      done
      if [ -n "$free" ]; then
        aws ec2 create-tags --region "$REGION" --resources "$INSTANCE_ID" --tags "Key={{rank_tag}},Value=$free" >/dev/null
      fi
    fi
    sleep {{settle_s}}
  done
}
# Rank 0's address and instance id, once the replica has settled: every rank held by exactly one instance (a
# transient claim of rank 0 that loses a clash is never taken for the master).
settled_master() {
  awk -v n="$NODES" '$3 != "None" {held[$3]++; if ($3 == "0") {ip = $2; id = $1}}
    END {for (r = 0; r < n; r++) if (held[r] != 1) exit 1; print ip, id}'
}
RANK=$(claim_rank)
until settled=$(peers | settled_master); do sleep {{settle_s}}; done
read -r MASTER MASTER_ID <<<"$settled"
echo "$MASTER" >"$RUN_DIR/master"
# Only rank 0 serves the API, so only it is a load-balancer target: llmfleet-watch registers it once its /health
# answers (again after every start of the server), and any node of the replica that is going away deregisters it.
echo "$RANK" >"$RUN_DIR/rank"
echo "$MASTER_ID" >"$RUN_DIR/serving-id"
rm -f "$RUN_DIR/registered"
echo "rank $RANK of $NODES on $SELF_IP; rank 0 at $MASTER"
EFA_DEVICES=()
for dev in "$ROOT"/dev/infiniband/uverbs*; do
  if [ -e "$dev" ]; then EFA_DEVICES+=(--device "${dev#"$ROOT"}"); fi
done
HEADLESS=()
if [ "$RANK" -ne 0 ]; then HEADLESS=(--headless); fi
chown -R {{container_uid}}:{{container_uid}} "$DATA"
# Host networking (NCCL and torch.distributed between nodes); the container runs as uid {{container_uid}}, which
# iptables keeps off the metadata service.
exec docker run --rm --name vllm --gpus all --ipc host --network host --user {{container_uid}}:{{container_uid}} \
  --ulimit memlock=-1 --cap-add IPC_LOCK "${EFA_DEVICES[@]}" "${LOGS[@]}" \
  --env-file "$RUN_DIR/env" -e HOME=/data/home -e HF_HOME=/data/hf -e FI_PROVIDER=efa -e VLLM_HOST_IP="$SELF_IP" \
  -v "$DATA:/data" --entrypoint vllm "$IMAGE" serve {{model_ref}} {{vllm_args}} \
  --nnodes "$NODES" --node-rank "$RANK" --master-addr "$MASTER" --master-port {{master_port}} "${HEADLESS[@]}"

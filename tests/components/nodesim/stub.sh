#!/bin/bash
# Stand-in for the commands a node's bootstrap calls (docker, aws, curl, systemctl, iptables, mount tools), in bash
# so that a simulated boot costs milliseconds. Every call is appended to $SIM_STATE/calls (fields separated by \x1f:
# the node, the command, its arguments). Answers come from $SIM_STATE:
#   fail-secret, fail-pull, cached-image      flags that change an answer
#   health-fails                              how many of the next /health checks fail
#   fail-crt                                  the CRT S3 client fails (a bucket in another region)
#   fail-sync                                 every S3 sync fails (no access to the bucket)
#   dlami-nvme                                the AMI mounted the instance store at /opt/dlami/nvme
#   dlami-nvme-after                          ... after this many more checks of that mount
#   raid-member                               the first instance-store disk is a member of the AMI's volume
#   spot-notice, rebalance                    IMDS spot/instance-action, events/recommendations/rebalance answer
#                                             with this file (else 404)
#   lifecycle-state                           IMDS autoscaling/target-lifecycle-state (default InService)
#   busy-polls                                how many of the next /metrics answers show a running request
#   weights-cached                            the fleet's weights cache holds a complete copy (its marker exists)
set -u
cmd=$(basename "$0")
state=$SIM_STATE
node=${SIM_INSTANCE:-i-0000000000000000a}
(IFS=$'\x1f'; printf '%s\x1f%s\x1f%s\n' "$node" "$cmd" "$*" >>"$state/calls")

opt() {  # the value after option $1 in the remaining arguments
  local want=$1; shift
  while [ $# -gt 1 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done
}

case $cmd in
  curl)
    url=${*: -1}
    case $url in
      */api/token) echo token ;;
      */placement/region) echo us-east-1 ;;
      */meta-data/instance-id) echo "$node" ;;
      */aws:autoscaling:groupName) echo asg-replicas ;;
      */spot/instance-action) cat "$state/spot-notice" 2>/dev/null || exit 22 ;;
      */recommendations/rebalance) cat "$state/rebalance" 2>/dev/null || exit 22 ;;
      */autoscaling/target-lifecycle-state) cat "$state/lifecycle-state" 2>/dev/null || echo InService ;;
      */health)
        left=$(cat "$state/health-fails" 2>/dev/null || echo 0)
        if [ "$left" -gt 0 ]; then echo $((left - 1)) >"$state/health-fails"; exit 22; fi ;;
      */metrics)  # vLLM's exposition (v0.19: one series per engine)
        left=$(cat "$state/busy-polls" 2>/dev/null || echo 0); running=0
        if [ "$left" -gt 0 ]; then echo $((left - 1)) >"$state/busy-polls"; running=1; fi
        printf 'vllm:num_requests_running{engine="0",model_name="m"} %s.0\n' "$running"
        printf 'vllm:num_requests_waiting{engine="0",model_name="m"} 0.0\n' ;;
      *) exit 22 ;;
    esac ;;
  aws)
    case "$1 $2" in
      "secretsmanager get-secret-value" | "ssm get-parameter")
        if [ -e "$state/fail-secret" ]; then echo "An error occurred (AccessDeniedException)" >&2; exit 254; fi
        echo s3cr3t-value ;;
      "ecr get-login-password") echo ecr-password ;;
      "logs put-log-events")  # what reached CloudWatch Logs: shipped/<stream, / as _>
        stream=$(opt --log-stream-name "$@"); mkdir -p "$state/shipped"
        events=$(opt --log-events "$@"); cat "${events#file://}" >"$state/shipped/${stream//\//_}" ;;
      "cloudwatch put-metric-data")  # what reached CloudWatch: the metric data, appended to metrics.json
        data=$(opt --metric-data "$@"); cat "${data#file://}" >>"$state/metrics.json" ;;
      "s3api head-object")  # the weights cache's completion marker
        [ -e "$state/weights-cached" ] || { echo "An error occurred (404) when calling the HeadObject operation" >&2; exit 254; } ;;
      "s3 cp")  # an upload from stdin (the cache's marker): what reached S3, appended to uploaded
        cat >>"$state/uploaded" ;;
      "s3 sync")  # which transfer client the AWS config file asks for: recorded as the call's last field
        client=$(sed -n 's/^ *preferred_transfer_client = //p' "${AWS_CONFIG_FILE:-/dev/null}")
        printf '%s\x1fs3-client\x1f%s\n' "$node" "${client:-auto}" >>"$state/calls"
        [ ! -e "$state/fail-sync" ] || exit 1
        [ "$client" != crt ] || [ ! -e "$state/fail-crt" ] || exit 1 ;;
    esac ;;
  docker)
    case $1 in
      pull) [ ! -e "$state/fail-pull" ] || exit 1 ;;
      login) cat >/dev/null ;;  # --password-stdin: reads the password (the writer would get SIGPIPE otherwise)
      image) [ -e "$state/cached-image" ] || exit 1 ;;
    esac ;;
  mountpoint)  # only the AMI's instance-store mount exists, if at all
    [[ ${*: -1} == */opt/dlami/nvme ]] || exit 1
    if [ -e "$state/dlami-nvme-after" ]; then
      left=$(cat "$state/dlami-nvme-after")
      if [ "$left" -le 0 ]; then touch "$state/dlami-nvme"; else echo $((left - 1)) >"$state/dlami-nvme-after"; fi
    fi
    [ -e "$state/dlami-nvme" ] || exit 1 ;;
  blkid)  # no filesystem yet, unless the AMI made the disk part of its own volume
    if [ -e "$state/raid-member" ]; then echo linux_raid_member; else exit 2; fi ;;
  iptables) [[ " $* " != *" -C "* ]] || exit 1 ;;  # the rule is not there yet
  nvidia-smi)  # two GPUs: utilization %, memory used and total MiB (the query's csv,noheader,nounits)
    if [ -e "$state/no-gpu" ]; then exit 9; fi
    printf '40, 41000, 46068\n60, 42000, 46068\n' ;;
  journalctl) echo "2026-11-27T15:00:00+0000 node run-node.sh[1]: journal line of llmfleet.service" ;;
esac
exit 0

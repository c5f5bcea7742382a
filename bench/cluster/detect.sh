#!/usr/bin/env bash
# How fast a cluster notices a lost node: three nodes on loopback, one of them SIGKILLed
# (its sockets close) or SIGSTOPped (it goes silent: only the BASP connection timeout
# notices), and the time until a survivor's herald_cluster_nodes drops, polled every 10 ms.
#
#   bench/cluster/detect.sh [BINARY] [RUNS]     (defaults: build/herald, 5)
#
# Extra flags for every node come from HERALD_FLAGS (e.g. "--peer-timeout 2").
set -euo pipefail
bin=${1:-build/herald}
runs=${2:-5}
base=$((20000 + RANDOM % 20000))
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

nodes_seen() { curl -s --max-time 1 "127.0.0.1:$1/metrics" | awk '/^herald_cluster_nodes /{print $2}'; }
now_ms() { date +%s%3N; }

start_cluster() {
  pids=()
  local seeds="127.0.0.1:$((base + 11)),127.0.0.1:$((base + 12)),127.0.0.1:$((base + 13))"
  for i in 1 2 3; do
    # shellcheck disable=SC2086
    "$bin" --listen "127.0.0.1:$((base + i))" --node "n$i" --cluster-listen "127.0.0.1:$((base + 10 + i))" \
      --peers "$seeds" --log-level warn ${HERALD_FLAGS:-} >"$tmp/n$i.log" 2>&1 &
    pids+=($!)
  done
  local deadline=$(($(now_ms) + 20000))
  for i in 1 2 3; do
    until [[ "$(nodes_seen $((base + i)))" == 3 ]]; do
      (($(now_ms) < deadline)) || { echo "cluster did not form" >&2; cat "$tmp"/n*.log >&2; exit 1; }
      sleep 0.05
    done
  done
}

measure() { # $1: signal
  local signal=$1 t0 t1
  start_cluster
  t0=$(now_ms)
  kill "-$signal" "${pids[2]}"
  until [[ "$(nodes_seen $((base + 1)))" == 2 ]]; do
    (($(now_ms) - t0 < 60000)) || { echo "no detection within 60 s" >&2; exit 1; }
    sleep 0.01
  done
  t1=$(now_ms)
  echo $((t1 - t0))
  cleanup_nodes
}

cleanup_nodes() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  base=$((base + 100))
}

for signal in KILL STOP; do
  results=()
  for ((r = 1; r <= runs; r++)); do
    printf 'detect: SIG%s run %d/%d ... ' "$signal" "$r" "$runs" >&2
    ms=$(measure "$signal")
    base=$((base + 100)) # the run's nodes are gone (measure ran in a subshell)
    echo "${ms} ms" >&2
    results+=("$ms")
  done
  sorted=$(printf '%s\n' "${results[@]}" | sort -n | tr '\n' ' ')
  echo "SIG$signal: detected in (ms, sorted) $sorted; flags: ${HERALD_FLAGS:-defaults}"
done

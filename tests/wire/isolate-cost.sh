#!/usr/bin/env bash
# What --isolate costs (docs/isolation.md, "Cost"): runs a program through
# one server per mode, the modes taking turns, ROUNDS times each, and prints
# each run's wall time and the time the program reports itself (matmul's
# "N dispatches ...: T s"), then the medians. A measurement, not a test.
#
#   isolate-cost.sh BUILD_DIR ROUNDS ["MODE OPTIONS"...] -- PROGRAM [ARGS...]
#
# Modes default to "--no-isolate" and "--isolate", e.g.
#   isolate-cost.sh build 10 -- build/examples/matmul-virtio --n 256 --iters 200
#   isolate-cost.sh build 10 --no-isolate --isolate "--isolate --no-seccomp" -- ...
set -u
build=$1 rounds=$2
shift 2
modes=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do modes+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#modes[@]} -gt 0 ] || modes=(--no-isolate --isolate)
server=$build/src/server/wgv-server
tmp=$(mktemp -d /tmp/wgv-isolate-cost.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_RUNTIME_DIR=$tmp

socks=()
for i in "${!modes[@]}"; do
  sock=$tmp/m$i.sock
  # shellcheck disable=SC2086
  "$server" --socket "$sock" ${modes[$i]} 2>>"$tmp/m$i.log" &
  for _ in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
  [ -S "$sock" ] || { echo "server ${modes[$i]} did not start: $(cat "$tmp/m$i.log")" >&2; exit 1; }
  socks+=("$sock")
done

for r in $(seq 1 "$rounds"); do
  for i in "${!modes[@]}"; do
    t0=$(date +%s%N)
    out=$(WGV_SERVER=${socks[$i]} "$@" 2>&1) || { echo "mode $i run $r failed: $out" >&2; exit 1; }
    wall=$((($(date +%s%N) - t0) / 1000000))
    inner=$(echo "$out" | sed -n 's/.*: \([0-9.]*\) s,.*/\1/p' | head -1)
    echo "$i $r wall_ms $wall reported_s ${inner:--}"
  done
done >"$tmp/runs"
cat "$tmp/runs"
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
for i in "${!modes[@]}"; do
  w=$(awk -v m="$i" '$1 == m { print $4 }' "$tmp/runs" | median)
  r=$(awk -v m="$i" '$1 == m && $6 != "-" { print $6 }' "$tmp/runs" | median)
  echo "${modes[$i]}: median wall $w ms, median reported $r s ($rounds runs)"
done

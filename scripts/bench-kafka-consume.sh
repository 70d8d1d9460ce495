#!/usr/bin/env bash
# Consume rate and the broker's CPU per fetched MB, A/B between two builds in one run.
# For each round and each build (order alternating between rounds): start `quill start` (embedded Keeper) on free
# ports with a fresh data dir, fill a topic with `quill perf produce` (untimed), then read it all with
# `quill perf consume` (Confluent.Kafka, one consumer in a fresh group) while the broker's CPU time (utime+stime from
# /proc/<pid>/stat) is taken before and after. Prints each run and the medians per build.
# Usage: scripts/bench-kafka-consume.sh [records] [record-size] [partitions] [rounds] [other-checkout]
#   other-checkout: a second worktree (e.g. main's HEAD) built the same way; "this" is the checkout of the script.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${1:-300000}; SIZE=${2:-1000}; PARTITIONS=${3:-4}; ROUNDS=${4:-3}; OTHER=${5:-}
WORK=$(mktemp -d /tmp/quill-bench-consume.XXXXXX)
BROKER_PID=""
cleanup() { [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Clock ticks of CPU the process has used: user and system.
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)

declare -A DLL
build() { dotnet build -c Release "$1/src/Quill" -v q -nologo > /dev/null; DLL[$2]="$1/src/Quill/bin/Release/net10.0/quill.dll"; }
build "$PWD" this
BUILDS=(this)
if [ -n "$OTHER" ]; then build "$OTHER" other; BUILDS=(other this); fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); dotnet $(dotnet --version); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "this: $(git log --oneline -1)"
[ -n "$OTHER" ] && echo "other: $(git -C "$OTHER" log --oneline -1)"
echo "records=$RECORDS record-size=$SIZE partitions=$PARTITIONS rounds=$ROUNDS"

# One run: prints "fetch.MB.sec MB broker-user-cpu-seconds broker-system-cpu-seconds".
run() {
  local quill="dotnet ${DLL[$1]}" kafka_port keeper_port start line
  kafka_port=$(free_port); keeper_port=$(free_port)
  rm -rf "$WORK/data"
  $quill start --kafka-port "$kafka_port" --keeper-port "$keeper_port" --data-dir "$WORK/data" > "$WORK/broker.out" 2>&1 &
  BROKER_PID=$!
  local bootstrap=127.0.0.1:$kafka_port
  start=$(now_ms)
  until $quill topics --bootstrap-server "$bootstrap" --list > /dev/null 2>&1; do
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "quill start exited:" >&2; cat "$WORK/broker.out" >&2; exit 1; }
    [ $(( $(now_ms) - start )) -lt 60000 ] || { echo "quill start did not serve within 60 s" >&2; exit 1; }
    sleep 0.1
  done
  $quill topics --bootstrap-server "$bootstrap" --create --topic bench --partitions "$PARTITIONS" --replication-factor 1 > /dev/null
  $quill perf produce --bootstrap-server "$bootstrap" --topic bench --num-records "$RECORDS" --record-size "$SIZE" --producer-props acks=1 linger.ms=5 > /dev/null 2>&1
  sync
  local user0 sys0 user1 sys1
  read -r user0 sys0 <<< "$(cpu_ticks "$BROKER_PID")"
  line=$($quill perf consume --bootstrap-server "$bootstrap" --topic bench --messages "$RECORDS" 2>/dev/null | tail -1)
  read -r user1 sys1 <<< "$(cpu_ticks "$BROKER_PID")"
  kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true; BROKER_PID=""
  # kafka-consumer-perf-test's line: field 3 MB consumed, field 9 fetch.MB.sec (group join excluded).
  echo "$line" | awk -F', ' -v user="$(( user1 - user0 ))" -v sys="$(( sys1 - sys0 ))" -v tck="$TICKS" \
    '{printf "%s %s %.2f %.2f\n", $9, $3, user / tck, sys / tck}'
}

declare -A RESULTS
for round in $(seq 1 "$ROUNDS"); do
  order=("${BUILDS[@]}")
  # Alternate which build goes first, so a drift in the machine's load does not favour one.
  if [ $(( round % 2 )) -eq 0 ] && [ ${#BUILDS[@]} -eq 2 ]; then order=("${BUILDS[1]}" "${BUILDS[0]}"); fi
  for b in "${order[@]}"; do
    read -r mbs mb user sys <<< "$(run "$b")"
    printf "round %d %-5s fetch %7.1f MB/s %7.1f MB  broker CPU user %5.2f s + sys %5.2f s = %6.2f CPU ms/MB  (load %s)\n" \
      "$round" "$b" "$mbs" "$mb" "$user" "$sys" "$(python3 -c "print(1000*($user+$sys)/$mb)")" "$(cut -d' ' -f1 /proc/loadavg)"
    RESULTS[$b]+="$mbs,$mb,$user,$sys "
  done
done

echo
printf "%-6s %18s %26s %10s %10s\n" "build" "median fetch MB/s" "median broker CPU ms/MB" "user" "sys"
for b in "${BUILDS[@]}"; do
  python3 - "$b" ${RESULTS[$b]} <<'PY'
import statistics, sys
runs = [tuple(map(float, r.split(','))) for r in sys.argv[2:]]
median = statistics.median
print("%-6s %18.1f %26.2f %10.2f %10.2f" % (sys.argv[1], median(r[0] for r in runs), median(1000 * (r[2] + r[3]) / r[1] for r in runs),
      median(1000 * r[2] / r[1] for r in runs), median(1000 * r[3] / r[1] for r in runs)))
PY
done

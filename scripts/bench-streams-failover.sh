#!/usr/bin/env bash
# Failover of a highly available Quill.Streams job: examples/WordCount (exactly-once, the default) runs as two
# instances (--keeper, one --job-id) against a local `quill start`, with lines written at a steady rate. KILLS times:
# the leader is killed with SIGKILL; the script measures how long after the kill the standby's first checkpoint
# completes (a checkpoint file with a higher id than any before the kill is written) and how long until the first new
# output is committed (a read_committed kcat consumer sees records again after the gap); then it starts the killed
# instance again (a new process, a new instance id) as the new standby and waits until it is waiting.
# Prints each takeover and the median and range of both times. A takeover cannot be faster than the Keeper session
# timeout (the dead leader's latch node goes with its session): SESSION_MS (default 5000, the examples' default; Keeper
# raises one below 2 x tickTime, 4000 ms with `quill start`'s defaults, to that).
# Usage: scripts/bench-streams-failover.sh [kills] [checkpoint interval ms] [session timeout ms] [lines per second]
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-5}; INTERVAL_MS=${2:-500}; SESSION_MS=${3:-5000}; RATE=${4:-200}
command -v kcat >/dev/null || { echo "kcat is missing: apt-get install kcat" >&2; exit 2; }
WORK=$(mktemp -d /tmp/quill-bench-failover.XXXXXX)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
now() { date +%s.%N; }

dotnet build -c Release src/Quill -v q -nologo >/dev/null
dotnet build -c Release examples/WordCount -v q -nologo >/dev/null
QUILL=src/Quill/bin/Release/net10.0/quill.dll
WORDCOUNT=examples/WordCount/bin/Release/net10.0/WordCount.dll

KAFKA_PORT=$(free_port); KEEPER_PORT=$(free_port)
dotnet "$QUILL" start --kafka-port "$KAFKA_PORT" --keeper-port "$KEEPER_PORT" --data-dir "$WORK/data" > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
FEED_PID=; READER_PID=
declare -A PIDS=() # instance id -> pid
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ -n "$FEED_PID" ] && kill "$FEED_PID" 2>/dev/null || true
  [ -n "$READER_PID" ] && kill "$READER_PID" 2>/dev/null || true
  kill "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
BOOTSTRAP=127.0.0.1:$KAFKA_PORT
for _ in $(seq 1 120); do kcat -b "$BOOTSTRAP" -L -m 2 >/dev/null 2>&1 && break; sleep 0.5; done
for topic in lines counts; do
  dotnet "$QUILL" topics --bootstrap-server "$BOOTSTRAP" --create --topic "$topic" --partitions 2 >/dev/null
done

# The input: RATE lines a second, three words each (one of 7, one of 13, one of its own), until the script ends.
# (The generator ends when kcat does: its next line fails.)
kcat -b "$BOOTSTRAP" -P -t lines -X linger.ms=5 2>"$WORK/feed.log" < <(python3 -u -c "
import sys, time
rate = int(sys.argv[1]); start = time.time(); i = 0
while True:
    print(f'a{i % 7} b{i % 13} u{i}')
    i += 1
    delay = start + i / rate - time.time()
    if delay > 0: time.sleep(delay)
" "$RATE") &
FEED_PID=$!

# What a read_committed reader sees: the arrival time of each burst of records after at least 1 s without any.
# (The stamper ends when kcat does: end of its input.)
kcat -b "$BOOTSTRAP" -C -t counts -o end -u -q -f '%k\n' -X isolation.level=read_committed -X fetch.wait.max.ms=10 2>"$WORK/reader.err" \
  > >(python3 -u -c "
import sys, time
last = 0.0
for _ in sys.stdin:
    t = time.time()
    if t - last >= 1.0: print('%.3f' % t, flush=True)
    last = t
" > "$WORK/bursts") &
READER_PID=$!

JOB=wc-bench; STARTED=0
start_instance() { # -> the new instance's id in NAME
  STARTED=$((STARTED + 1)); NAME=i$STARTED
  dotnet "$WORDCOUNT" --bootstrap-server "$BOOTSTRAP" --input lines --output counts --parallelism 2 \
    --checkpoint-dir "$WORK/chk" --checkpoint-interval-ms "$INTERVAL_MS" \
    --keeper "127.0.0.1:$KEEPER_PORT" --job-id "$JOB" --ha-session-timeout-ms "$SESSION_MS" --instance-id "$NAME" \
    > "$WORK/$NAME.log" 2>&1 &
  PIDS[$NAME]=$!
}
role() { # instance -> leader, standby or none (its last role line, or a stop after it)
  local line; line=$(grep -E "instance $1 of job $JOB: (leader|standby)|instance $1: " "$WORK/$1.log" 2>/dev/null | tail -1 || true)
  case "$line" in
    *"of job $JOB: leader"*) echo leader ;;
    *"of job $JOB: standby"*) echo standby ;;
    *) echo none ;;
  esac
}
wait_for() { # description, then a command that succeeds once it holds; 120 s at most
  local what=$1 deadline=$(( $(date +%s) + 120 )); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out waiting for $what; logs in $WORK (kept)" >&2; trap - EXIT; exit 1; }
    sleep 0.02
  done
}
newest_file() { ls "$WORK/chk"/chk-*.json 2>/dev/null | sort | tail -1 || true; }
newest_id() { local f; f=$(newest_file); f=${f##*/chk-}; f=${f%.json}; echo $((10#${f:-0})); }
first_file_after() { # id -> the oldest checkpoint file with a higher id
  local f n
  for f in $(ls "$WORK/chk"/chk-*.json 2>/dev/null | sort); do
    n=${f##*/chk-}; n=${n%.json}
    if [ $((10#$n)) -gt "$1" ]; then echo "$f"; return; fi
  done
}
leader_count() { local n=0 i; for i in "${!PIDS[@]}"; do [ "$(role "$i")" = leader ] && n=$((n + 1)); done; [ "$n" = 1 ]; }
standby_of() { [ "$(role "$1")" = standby ]; }
new_checkpoint() { [ "$(newest_id)" -gt "$1" ]; }
new_burst() { awk -v t="$1" '$1 > t { found = 1 } END { exit !found }' "$WORK/bursts"; }

start_instance; wait_for "the first instance leading" bash -c "grep -q 'of job $JOB: leader' '$WORK/$NAME.log'"
start_instance; wait_for "the second instance waiting" standby_of "$NAME"
CHECKPOINT_TIMES=(); OUTPUT_TIMES=()
for k in $(seq 1 "$KILLS"); do
  # Let the leader run a while (a few checkpoints, output committed) before the kill.
  before=$(newest_id); wait_for "checkpoints before kill $k" new_checkpoint $((before + 3)); sleep 1
  wait_for "one leader" leader_count
  for i in "${!PIDS[@]}"; do [ "$(role "$i")" = leader ] && LEADER=$i; done
  killed_at=$(now); kill -9 "${PIDS[$LEADER]}"; wait "${PIDS[$LEADER]}" 2>/dev/null || true; unset "PIDS[$LEADER]"
  id=$(newest_id)
  wait_for "a checkpoint of the new leader" new_checkpoint "$id"
  # When its file was written (renamed into place after; the pointer in Keeper and the commit follow at once).
  checkpoint_s=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$killed_at" "$(stat -c %.3Y "$(first_file_after "$id")")")
  wait_for "new committed output" new_burst "$killed_at"
  output_s=$(awk -v t="$killed_at" '$1 > t { printf "%.2f", $1 - t; exit }' "$WORK/bursts")
  CHECKPOINT_TIMES+=("$checkpoint_s"); OUTPUT_TIMES+=("$output_s")
  echo "kill $k: leader $LEADER killed; the standby's first checkpoint after ${checkpoint_s} s, new committed output after ${output_s} s"
  start_instance; wait_for "$NAME waiting as the standby" standby_of "$NAME"
done

stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "median %.2f s, range %.2f-%.2f s", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'; }
echo "kills=$KILLS session_timeout_ms=$SESSION_MS checkpoint_interval_ms=$INTERVAL_MS lines_per_second=$RATE"
echo "SIGKILL to the standby's first completed checkpoint: $(stats "${CHECKPOINT_TIMES[@]}") (${CHECKPOINT_TIMES[*]})"
echo "SIGKILL to the first new committed output:           $(stats "${OUTPUT_TIMES[@]}") (${OUTPUT_TIMES[*]})"

#!/usr/bin/env bash
# Memory of checkpointing state on disk: examples/WordCount with the on-disk backend (8 MiB cache) counts KEYS distinct
# words (one run of a local `quill start`), checkpointing every 2 s; once a checkpoint covers the whole input and two
# more intervals have passed, prints the job process's peak resident set (VmHWM) and its checkpoint files' sizes.
# With OTHER_DLL (a WordCount.dll of another build) both run alternately, ROUNDS times each, for an A/B in one run.
# Usage: scripts/bench-streams-checkpoint-memory.sh [keys] [rounds] [other WordCount.dll]
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${1:-1000000}; ROUNDS=${2:-1}; OTHER_DLL=${3:-}
command -v kcat >/dev/null || { echo "kcat is missing: apt-get install kcat" >&2; exit 2; }
WORK=$(mktemp -d /tmp/quill-bench-ckmem.XXXXXX)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

dotnet build -c Release src/Quill -v q -nologo >/dev/null
dotnet build -c Release examples/WordCount -v q -nologo >/dev/null
THIS_DLL=examples/WordCount/bin/Release/net10.0/WordCount.dll

KAFKA_PORT=$(free_port); KEEPER_PORT=$(free_port)
dotnet src/Quill/bin/Release/net10.0/quill.dll start --kafka-port "$KAFKA_PORT" --keeper-port "$KEEPER_PORT" \
  --data-dir "$WORK/data" > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
JOB_PID=
cleanup() {
  [ -n "$JOB_PID" ] && kill -9 "$JOB_PID" 2>/dev/null || true
  kill "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
BOOTSTRAP=127.0.0.1:$KAFKA_PORT
for _ in $(seq 1 120); do kcat -b "$BOOTSTRAP" -L -m 2 >/dev/null 2>&1 && break; sleep 0.5; done

# Ten distinct words a line: KEYS / 10 lines, every word once.
LINES=$(( (KEYS + 9) / 10 ))
python3 -c "
import sys
n = int(sys.argv[1])
with open(sys.argv[2], 'w') as f:
    for i in range(n):
        f.write(' '.join('word%09d' % (i * 10 + j) for j in range(10)) + '\n')
" "$LINES" "$WORK/lines.txt"
dotnet src/Quill/bin/Release/net10.0/quill.dll topics --bootstrap-server "$BOOTSTRAP" --create --topic lines --partitions 1 >/dev/null
kcat -b "$BOOTSTRAP" -P -t lines -l "$WORK/lines.txt"

run() { # tag dll
  local tag=$1 dll=$2 dir=$WORK/$1 start newest covered=""
  mkdir -p "$dir"
  dotnet "$dll" --bootstrap-server "$BOOTSTRAP" --input lines --output "counts-$tag" --parallelism 1 \
    --checkpoint-dir "$dir/chk" --checkpoint-interval-ms 2000 --state-backend disk --state-dir "$dir/state" \
    --state-cache-mb 8 > "$dir/job.log" 2>&1 &
  JOB_PID=$!
  start=$(date +%s)
  while [ $(( $(date +%s) - start )) -lt 900 ]; do
    newest=$(ls "$dir/chk"/chk-*.json 2>/dev/null | sort | tail -1 || true)
    if [ -n "$newest" ] && grep -q "\"lines:0\":$LINES" "$newest" 2>/dev/null; then
      if [ -z "$covered" ]; then covered=$newest; elif [ "$newest" != "$covered" ]; then break; fi
    fi
    kill -0 "$JOB_PID" 2>/dev/null || { echo "$tag: the job exited; its log: $dir/job.log" >&2; cat "$dir/job.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -n "$covered" ] || { echo "$tag: no checkpoint covered the input within 900 s" >&2; exit 1; }
  sleep 4.5
  local hwm; hwm=$(awk '/VmHWM/ {print $2}' "/proc/$JOB_PID/status")
  kill -9 "$JOB_PID"; wait "$JOB_PID" 2>/dev/null || true; JOB_PID=
  newest=$(ls "$dir/chk"/chk-*.json | sort | tail -1)
  local states=${newest%.json}.state
  echo "build=$tag keys=$KEYS seconds_to_cover=$(( $(date +%s) - start - 5 )) peak_rss_mb=$(( hwm / 1024 ))" \
    "checkpoint_file_kb=$(( $(stat -c %s "$newest") / 1024 )) state_files_kb=$( [ -d "$states" ] && du -sk "$states" | cut -f1 || echo 0)"
  rm -rf "$dir"
}

for round in $(seq 1 "$ROUNDS"); do
  run "this-$round" "$THIS_DLL"
  [ -n "$OTHER_DLL" ] && run "other-$round" "$OTHER_DLL"
done

#!/usr/bin/env bash
# One producer (acks=1, 100-byte records) and one consumer, both Confluent.Kafka, in one run:
#   - loopback TCP bandwidth (iperf3), for scale;
#   - the client's own ceiling: librdkafka's in-process mock broker (`quill perf ... --mock`);
#   - a `quill start` broker (embedded Keeper) on free ports and a temp dir: startup time, VmRSS idle and under load.
# Usage: scripts/bench-kafka.sh [records] [record-size] [partitions]
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${1:-2000000}; SIZE=${2:-100}; PARTITIONS=${3:-4}   # the mock auto-creates topics with 4 partitions
WORK=$(mktemp -d /tmp/quill-bench-kafka.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# records/sec from kafka-producer-perf-test's final line; records/s and MB/s from the consumer's result line.
produce_rate() { tail -1 "$1" | sed -E 's/^[0-9]+ records sent, ([0-9.]+) records\/sec \(([0-9.]+) MB\/sec\).*/\1 \2/'; }
consume_rate() { tail -1 "$1" | awk -F', ' '{print $10, $9}'; }
command -v iperf3 >/dev/null || { echo "iperf3 is missing: apt-get install iperf3" >&2; exit 2; }

dotnet build -c Release src/Quill -v q -nologo >/dev/null
QUILL="dotnet src/Quill/bin/Release/net10.0/quill.dll"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); dotnet $(dotnet --version); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "records=$RECORDS record-size=$SIZE partitions=$PARTITIONS acks=1"

# Loopback bandwidth: one TCP stream for 5 s.
IPERF_PORT=$(free_port)
iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" > "$WORK/iperf-server.out" 2>&1 &
IPERF_PID=$!; PIDS+=("$IPERF_PID")
sleep 0.5
LOOPBACK_GBIT=$(iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -t 5 -J | python3 -c 'import json,sys;print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))')
kill "$IPERF_PID"; wait "$IPERF_PID" 2>/dev/null || true

PRODUCER_PROPS=(acks=1 linger.ms=5)
# The ceiling: the same producer and consumer against librdkafka's mock broker in their own process.
$QUILL perf produce --mock --topic warmup --num-records 200000 --record-size "$SIZE" --producer-props "${PRODUCER_PROPS[@]}" > /dev/null
$QUILL perf produce --mock --topic bench --num-records "$RECORDS" --record-size "$SIZE" --producer-props "${PRODUCER_PROPS[@]}" | tee "$WORK/mock-produce.out" | tail -1
# The mock keeps only the newest few MB per partition, so its consumer run reads what it holds (about 190k records).
$QUILL perf consume --mock --topic bench --messages "$RECORDS" --mock-record-size "$SIZE" 2>/dev/null | tee "$WORK/mock-consume.out" | tail -1

BROKER="not run"
if $QUILL start --help > /dev/null 2>&1; then
  KAFKA_PORT=$(free_port); KEEPER_PORT=$(free_port)
  START_MS=$(now_ms)
  $QUILL start --kafka-port "$KAFKA_PORT" --keeper-port "$KEEPER_PORT" --data-dir "$WORK/data" > "$WORK/broker.out" 2>&1 &
  BROKER_PID=$!; PIDS+=("$BROKER_PID")
  BOOTSTRAP=127.0.0.1:$KAFKA_PORT
  # Started = answers a Metadata request (quill topics --list), which needs the broker registered in Keeper.
  until $QUILL topics --bootstrap-server "$BOOTSTRAP" --list > /dev/null 2>&1; do
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "quill start exited:"; cat "$WORK/broker.out"; exit 1; }
    [ $(( $(now_ms) - START_MS )) -lt 60000 ] || { echo "quill start did not serve within 60 s:"; tail -20 "$WORK/broker.out"; exit 1; }
    sleep 0.1
  done
  STARTUP_MS=$(( $(now_ms) - START_MS ))
  sleep 2
  RSS_IDLE=$(rss_kb "$BROKER_PID")
  $QUILL topics --bootstrap-server "$BOOTSTRAP" --create --topic bench --partitions "$PARTITIONS" --replication-factor 1 > /dev/null
  $QUILL perf produce --bootstrap-server "$BOOTSTRAP" --topic warmup --num-records 200000 --record-size "$SIZE" --producer-props "${PRODUCER_PROPS[@]}" > /dev/null
  # Sample the broker's resident memory while the producer and consumer run.
  ( peak=0; while kill -0 "$BROKER_PID" 2>/dev/null; do r=$(rss_kb "$BROKER_PID"); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" > "$WORK/rss-peak"; sleep 0.2; done ) &
  PIDS+=("$!")
  $QUILL perf produce --bootstrap-server "$BOOTSTRAP" --topic bench --num-records "$RECORDS" --record-size "$SIZE" --producer-props "${PRODUCER_PROPS[@]}" | tee "$WORK/broker-produce.out" | tail -1
  $QUILL perf consume --bootstrap-server "$BOOTSTRAP" --topic bench --messages "$RECORDS" 2>/dev/null | tee "$WORK/broker-consume.out" | tail -1
  # A second consumer nobody here wrote: kcat (librdkafka's simple consumer, no group), timed end to end.
  KCAT_RATE=0
  if command -v kcat > /dev/null; then
    KCAT_START=$(now_ms)
    KCAT_COUNT=$(kcat -C -b "$BOOTSTRAP" -t bench -o beginning -e -q | wc -l)
    KCAT_MS=$(( $(now_ms) - KCAT_START ))
    KCAT_RATE=$(( KCAT_COUNT * 1000 / (KCAT_MS > 0 ? KCAT_MS : 1) ))
  fi
  RSS_LOAD=$(cat "$WORK/rss-peak" 2>/dev/null || echo 0)
  BROKER="ran"
fi

echo
echo "loopback TCP (iperf3, 1 stream): $LOOPBACK_GBIT Gbit/s"
printf "%-22s %16s %10s %16s %10s\n" "" "produce rec/s" "MB/s" "consume rec/s" "MB/s"
read -r MP_RATE MP_MB <<< "$(produce_rate "$WORK/mock-produce.out")"
read -r MC_RATE MC_MB <<< "$(consume_rate "$WORK/mock-consume.out")"
printf "%-22s %16.0f %10.2f %16.0f %10.2f\n" "mock (client ceiling)" "$MP_RATE" "$MP_MB" "$MC_RATE" "$MC_MB"
if [ "$BROKER" = ran ]; then
  read -r BP_RATE BP_MB <<< "$(produce_rate "$WORK/broker-produce.out")"
  read -r BC_RATE BC_MB <<< "$(consume_rate "$WORK/broker-consume.out")"
  printf "%-22s %16.0f %10.2f %16.0f %10.2f\n" "quill start" "$BP_RATE" "$BP_MB" "$BC_RATE" "$BC_MB"
  [ "$KCAT_RATE" -gt 0 ] && echo "kcat -C (whole run, startup included): $KCAT_RATE records/s ($KCAT_COUNT records in $KCAT_MS ms)"
  python3 -c "print('broker/ceiling: produce %.0f%%, consume %.0f%%' % (100*$BP_RATE/$MP_RATE, 100*$BC_RATE/$MC_RATE))"
  echo "broker startup: ${STARTUP_MS} ms to serve Metadata; VmRSS idle $((RSS_IDLE / 1024)) MiB, under load (peak) $((RSS_LOAD / 1024)) MiB"
else
  echo "quill start: not available in this build (mock ceiling only)"
fi
echo "(the mock keeps only the newest few MB of each partition, so its consume figure covers ~190k records and is a weak ceiling)"
echo "(consume rates are the fetch phase: kafka-consumer-perf-test's fetch.nMsg.sec and fetch.MB.sec, group join excluded)"

#!/usr/bin/env bash
# A 3-server Keeper ensemble against a 3-server Apache ZooKeeper 3.8 ensemble on this machine, in one run: same
# client (`quill perf keeper`), same durability (fsync on every commit), sessions spread over the two followers of
# each. Then the time from the leader's kill -9 until a write succeeds again (kazoo, a fresh create every 10 ms).
# Usage: scripts/bench-keeper-ensemble.sh [ops] [sessions] [depth] [rounds] [kills]
set -euo pipefail
cd "$(dirname "$0")/.."
OPS=${1:-50000}; SESSIONS=${2:-16}; DEPTH=${3:-4}; ROUNDS=${4:-3}; KILLS=${5:-3}
WORK=$(mktemp -d /tmp/quill-bench-ensemble.XXXXXX)
dpkg -s zookeeper >/dev/null 2>&1 || { echo "Apache ZooKeeper is missing: apt-get install zookeeper" >&2; exit 2; }
/usr/bin/python3 -c 'import kazoo' 2>/dev/null || { echo "kazoo is missing: apt-get install python3-kazoo" >&2; exit 2; }
dotnet build -c Release src/Quill -v q -nologo >/dev/null
QUILL="dotnet $PWD/src/Quill/bin/Release/net10.0/quill.dll"
CP=$(cd /usr/share/java && echo "$PWD/zookeeper.jar:$PWD/zookeeper-jute.jar:$PWD/slf4j-log4j12.jar:$PWD/log4j-1.2.jar")
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
declare -A PID CLIENT
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# Writes zoo.cfg and myid for side $1 (zk|keeper) and records the client ports.
configure() {
  local side=$1 servers="" i
  for i in 1 2 3; do
    CLIENT[$side$i]=$(free_port)
    servers+="server.$i=127.0.0.1:$(free_port):$(free_port);127.0.0.1:${CLIENT[$side$i]}"$'\n'
  done
  for i in 1 2 3; do
    mkdir -p "$WORK/$side$i/data"; echo $i > "$WORK/$side$i/data/myid"
    printf 'tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nforceSync=yes\nmaxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\n%s' \
      "$WORK/$side$i/data" "$servers" > "$WORK/$side$i/zoo.cfg"
    printf 'log4j.rootLogger=WARN,FILE\nlog4j.appender.FILE=org.apache.log4j.FileAppender\nlog4j.appender.FILE.File=zk.log\nlog4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n' > "$WORK/$side$i/log4j.properties"
  done
}
start() {
  local side=$1 i=$2
  if [ "$side" = zk ]; then
    (cd "$WORK/zk$i" && exec java -Xmx1g -Dzookeeper.jmx.log4j.disable=true -Dlog4j.configuration=file:log4j.properties \
       -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg > out.log 2>&1) &
  else
    (cd "$WORK/keeper$i" && exec $QUILL keeper start --config zoo.cfg > out.log 2>&1) &
  fi
  PID[$side$i]=$!; PIDS+=($!)
}
mode() { python3 -c "import socket,sys
try:
  s=socket.create_connection(('127.0.0.1',$1),timeout=2);s.sendall(b'srvr');d=b''
  while True:
    c=s.recv(4096)
    if not c: break
    d+=c
  print([l[6:] for l in d.decode().splitlines() if l.startswith('Mode: ')][0])
except Exception: print('down')"; }
leader_of() { local side=$1 i; for i in 1 2 3; do [ "$(mode ${CLIENT[$side$i]})" = leader ] && { echo $i; return; }; done; echo 0; }
wait_quorum() {
  local side=$1 n
  for n in $(seq 1 300); do
    local l=0 f=0 i m
    for i in 1 2 3; do m=$(mode ${CLIENT[$side$i]}); [ "$m" = leader ] && l=$((l+1)); [ "$m" = follower ] && f=$((f+1)); done
    [ $l = 1 ] && [ $f = 2 ] && return 0
    sleep 0.2
  done
  echo "$side ensemble did not form" >&2; exit 2
}
followers() { local side=$1 l i out=""; l=$(leader_of $side); for i in 1 2 3; do [ $i != "$l" ] && out+="${out:+,}127.0.0.1:${CLIENT[$side$i]}"; done; echo "$out"; }

for side in zk keeper; do configure $side; for i in 1 2 3; do start $side $i; done; done
wait_quorum zk; wait_quorum keeper
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); dotnet $(dotnet --version); $(java -version 2>&1 | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
for mix in write-heavy read-heavy; do
  for side in zk keeper; do $QUILL perf keeper --server "$(followers $side)" --mix $mix --ops 10000 --sessions $SESSIONS --depth $DEPTH > /dev/null; done
  for round in $(seq 1 $ROUNDS); do
    for side in zk keeper; do
      printf '%-9s %s\n' "$([ $side = zk ] && echo zookeeper || echo keeper)" "$($QUILL perf keeper --server "$(followers $side)" --mix $mix --ops $OPS --sessions $SESSIONS --depth $DEPTH | tail -1)"
    done
  done
done

# Failover: kill -9 the leader while a client (on the followers) creates a node every 10 ms; report how long writes stopped.
cat > "$WORK/failover.py" <<'PY'
import sys, time, os, signal
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10, connection_retry={"max_tries": -1, "delay": 0.01, "max_delay": 0.1}, command_retry=None)
zk.start(timeout=30); zk.ensure_path("/failover")
for i in range(20): zk.create("/failover/n", sequence=True)
os.kill(int(sys.argv[2]), signal.SIGKILL); killed = time.monotonic()
while True:
    try:
        zk.create_async("/failover/n", sequence=True).get(timeout=5); break
    except Exception:
        time.sleep(0.01)
print("%.0f" % ((time.monotonic() - killed) * 1000)); os._exit(0)
PY
for side in zk keeper; do
  times=()
  for k in $(seq 1 $KILLS); do
    wait_quorum $side
    l=$(leader_of $side)
    times+=($(/usr/bin/python3 "$WORK/failover.py" "$(followers $side)" ${PID[$side$l]}))
    start $side $l
  done
  printf '%-9s writes back after leader kill -9 (ms): %s\n' "$([ $side = zk ] && echo zookeeper || echo keeper)" "${times[*]}"
done

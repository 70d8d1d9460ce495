#!/usr/bin/env bash
# Keeper against Apache ZooKeeper 3.8 on this machine, same client, same durability (fsync on every commit),
# one run. Prints the `quill perf keeper` summary line for each server and mix.
# Usage: scripts/bench-keeper.sh [ops] [sessions] [depth]
set -euo pipefail
cd "$(dirname "$0")/.."
OPS=${1:-100000}; SESSIONS=${2:-16}; DEPTH=${3:-4}
WORK=$(mktemp -d /tmp/quill-bench-keeper.XXXXXX)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
dpkg -s zookeeper >/dev/null 2>&1 || { echo "Apache ZooKeeper is missing: apt-get install zookeeper" >&2; exit 2; }

dotnet build -c Release src/Quill -v q -nologo >/dev/null
QUILL="dotnet src/Quill/bin/Release/net10.0/quill.dll"

ZK_PORT=$(free_port); KEEPER_PORT=$(free_port)
mkdir -p "$WORK/zk" "$WORK/keeper"
for side in zk keeper; do
  port=$([ $side = zk ] && echo $ZK_PORT || echo $KEEPER_PORT)
  cat > "$WORK/$side/zoo.cfg" <<CFG
tickTime=2000
dataDir=$WORK/$side/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
forceSync=yes
4lw.commands.whitelist=*
admin.enableServer=false
CFG
done
cat > "$WORK/zk/log4j.properties" <<'L4J'
log4j.rootLogger=WARN,FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=zk.log
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
L4J
CP=$(cd /usr/share/java && echo "$PWD/zookeeper.jar:$PWD/zookeeper-jute.jar:$PWD/slf4j-log4j12.jar:$PWD/log4j-1.2.jar")
(cd "$WORK/zk" && exec java -Xmx2g -Dzookeeper.jmx.log4j.disable=true -Dlog4j.configuration=file:log4j.properties \
   -cp "$CP" org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg > zk.out 2>&1) &
ZK_PID=$!
$QUILL keeper start --config "$WORK/keeper/zoo.cfg" > "$WORK/keeper/keeper.out" 2>&1 &
KEEPER_PID=$!
trap 'kill $ZK_PID $KEEPER_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
for port in $ZK_PORT $KEEPER_PORT; do
  for i in $(seq 1 100); do
    [ "$(python3 -c "import socket;s=socket.create_connection(('127.0.0.1',$port));s.sendall(b'ruok');print(s.recv(4).decode())" 2>/dev/null)" = imok ] && break
    sleep 0.2
  done
done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); dotnet $(dotnet --version); $(java -version 2>&1 | head -1)"
for mix in write-heavy read-heavy; do
  # Warm both servers (JIT on both sides), then measure, alternating servers.
  $QUILL perf keeper --server 127.0.0.1:$ZK_PORT --mix $mix --ops 20000 --sessions $SESSIONS --depth $DEPTH > /dev/null
  $QUILL perf keeper --server 127.0.0.1:$KEEPER_PORT --mix $mix --ops 20000 --sessions $SESSIONS --depth $DEPTH > /dev/null
  for round in 1 2 3; do
    echo "zookeeper $($QUILL perf keeper --server 127.0.0.1:$ZK_PORT --mix $mix --ops $OPS --sessions $SESSIONS --depth $DEPTH | tail -1)"
    echo "keeper    $($QUILL perf keeper --server 127.0.0.1:$KEEPER_PORT --mix $mix --ops $OPS --sessions $SESSIONS --depth $DEPTH | tail -1)"
  done
done

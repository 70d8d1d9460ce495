#!/usr/bin/env bash
# The long form of the ensemble fault tests (tests/Quill.Keeper.Ensemble.Tests): start a 3-server ensemble, run the
# kazoo workload for --duration seconds while the nemesis kills and restarts servers, pauses the leader and/or cuts
# the network between servers (through proxies on 127.0.0.1: the leader or a follower isolated, with 5 servers also a
# bridge; half black holes, half resets), heal,
# take final reads on every server, and check the history (linearizability per key, lost writes, sequential nodes,
# ephemerals). Prints the faults, the check and, when it fails, the smallest window it found and the server logs.
# The temp directory with the history, configs and logs is kept and named in the report.
# Usage: scripts/keeper-fault-test.sh [--target zookeeper|keeper] [--duration SECONDS]
#                                     [--faults kill,kill-follower,pause,partition|none] [--servers N]
#                                     [--workers N] [--seed N] [--check-budget SECONDS]
#        (partition = partition-leader,partition-follower,partition-bridge; the bridge only with --servers 5 or more)
#        scripts/keeper-fault-test.sh check HISTORY.jsonl     (check a kept history again)
# Exit code: 0 the history checks clean, 1 it does not, 2 the run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
PROJECT=tests/Quill.Keeper.Ensemble.Tests
dotnet build "$PROJECT" -c Release -nologo -v q -clp:ErrorsOnly > /dev/null
DLL="$PROJECT/bin/Release/net10.0/Quill.Keeper.Ensemble.Tests.dll"
if [ "${1:-}" = check ]; then exec dotnet "$DLL" "$@"; fi
exec dotnet "$DLL" fault-test --target zookeeper --duration 300 --faults kill,pause "$@"

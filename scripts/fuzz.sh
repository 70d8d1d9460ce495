#!/usr/bin/env bash
# The long form of the live mutated-frame fuzz test: the same test the suite runs in a short form (20,000 frames),
# with as many frames as asked for.
#
#   scripts/fuzz.sh keeper [FRAMES] [SEED]     e.g. scripts/fuzz.sh keeper 1000000
#   scripts/fuzz.sh broker [FRAMES] [SEED]     e.g. scripts/fuzz.sh broker 1000000
#
# keeper: Keeper runs as the real `quill keeper start` process; mutated frames of every request type go at it in
# rounds, and after each round a kazoo client checks that it is still served and that all it wrote before is still
# there. broker: the same against `quill start` with mutated Kafka requests (produce batches mostly re-signed so the
# mutations reach the records), and after each round a Confluent.Kafka client checks that every record it was
# acknowledged is still at its offset, that it can read everything stored in the fuzzed topics, and that lookups by
# time answer. Either fails on a crash, a hang (a connection not closed, a check not answered within 60 s), anything
# lost, or an error line in the server's log. FRAMES and SEED reach the test as QUILL_FUZZ_FRAMES and QUILL_FUZZ_SEED; the summary (frames,
# connections, time, warnings by kind) is printed at the end. Needs python3-kazoo for keeper (scripts/test.sh installs it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

target="${1:-}"
export QUILL_FUZZ_FRAMES="${2:-1000000}"
[ -n "${3:-}" ] && export QUILL_FUZZ_SEED="$3"

case "$target" in
  keeper)
    project=tests/Quill.Keeper.Tests
    filter="FullyQualifiedName~Quill.Keeper.Tests.Fuzzing.LiveFuzzTests"
    ;;
  broker)
    project=tests/Quill.Broker.Compat.Tests
    filter="FullyQualifiedName~Quill.Broker.Compat.Tests.Fuzzing.BrokerLiveFuzzTests"
    ;;
  *)
    echo "usage: scripts/fuzz.sh keeper|broker [FRAMES] [SEED]" >&2
    exit 2
    ;;
esac

dotnet build "$project" -c Release -nologo -clp:ErrorsOnly
start=$(date +%s)
status=0
dotnet test "$project" -c Release --no-build --filter "$filter" --logger "console;verbosity=detailed" || status=$?
echo "fuzz $target: $QUILL_FUZZ_FRAMES frames, $(( $(date +%s) - start )) s, exit $status"
exit $status

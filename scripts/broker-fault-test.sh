#!/usr/bin/env bash
# The long form of the broker fault test (tests/Quill.Broker.Compat.Tests/Faults; the suite runs a 40 s form): one
# Keeper and three brokers, each behind a TCP proxy on 127.0.0.1 that every client and every other broker reaches it
# through; a topic with RF 3 and min.insync.replicas 2; idempotent acks=all writers and a consumer group for --duration
# seconds while the nemesis kills partition leaders and the controller (SIGKILL, then a restart), pauses brokers
# (SIGSTOP past replica.lag.time.max.ms) and cuts brokers off (black hole or reset at the proxy), one at a time; heal,
# wait for every ISR to be whole and the readers to be through, read the log and every replica's segment files, and
# check the history: every acknowledged record exactly once at its offset, no duplicates, each writer's order, every
# replica identical below the high watermark, the readers got everything and never skipped.
# The run's directory (history.jsonl, broker logs) is kept and named in the report.
# Usage: scripts/broker-fault-test.sh [--duration SECONDS] [--faults kill,pause,controller,partition,restart|none] [--seed N]
#                                     [--partitions N] [--writers N] [--readers N] [--nemeses N]
#        (--nemeses 2 or 3: that many nemeses at once, faults overlapping on different brokers)
# Exit code: 0 the history checks clean, 1 it does not, 2 the run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
PROJECT=tests/Quill.Broker.Compat.Tests
dotnet build "$PROJECT" -c Release -nologo -v q -clp:ErrorsOnly > /dev/null
exec dotnet "$PROJECT/bin/Release/net10.0/Quill.Broker.Compat.Tests.dll" fault-test --duration 300 --faults kill,pause,controller,partition,restart "$@"

#!/usr/bin/env bash
# The whole test suite: installs what the tests need (Debian and npm packages), builds the solution in Release,
# runs every test project (QUILL_TEST_LANES of them at a time, default 2) and ends with one line "N passed, N failed"
# (totals over all projects).
# Exits non-zero if a test failed, a project crashed, or the build failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# How many test projects run at a time (see below).
LANES="${QUILL_TEST_LANES:-2}"
[[ "$LANES" =~ ^[1-9]$ ]] || { echo "QUILL_TEST_LANES must be 1 to 9, not '$LANES'"; exit 1; }

# golang-go and the two Go Kafka libraries build tests/go (GOPATH mode, offline); gcc is cgo's compiler for sarama's
# zstd (DataDog/zstd over libzstd), only a Recommends of golang-go.
DEBIAN_PACKAGES=(zookeeper python3-kazoo kcat python3-confluent-kafka iperf3 libcurator-framework-java libcurator-recipes-java
  golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev gcc)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_debian_packages() {
  local missing=() package
  for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" </dev/null
}

install_npm_packages() {
  [ -d tests/node/node_modules ] && return 0
  echo "== installing npm packages in tests/node"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error </dev/null)
}

# Counters of one trx file as "passed failed", or nothing if the file has none.
trx_counts() {
  local counters passed failed
  counters="$(grep -o '<Counters [^>]*>' "$1" | head -n 1)"
  [ -n "$counters" ] || return 0
  passed="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  failed="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  echo "${passed:-0} ${failed:-0}"
}

install_debian_packages || { echo "installing Debian packages failed"; exit 1; }
install_npm_packages || { echo "installing npm packages failed"; exit 1; }

echo "== dotnet build Quill.slnx -c Release"
if ! dotnet build Quill.slnx -c Release -nologo -clp:ErrorsOnly; then
  echo "build failed"
  exit 1
fi

total_passed=0
total_failed=0
status=0

RESULTS="$ROOT/artifacts/test-results"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# The projects run in QUILL_TEST_LANES queues side by side (default 2; 1 runs them one after another). Most tests wait
# on sockets, processes and timeouts rather than the CPU, so two queues nearly halve the time on a two-core machine.
# Nothing is shared between projects: every server takes a free port and its own temp directory. Each lane takes the
# next project from one list, the slowest first so the lanes end together; a project not named below runs after them.
SLOWEST_FIRST=(Quill.Broker.Compat.Tests Quill.Streams.Tests Quill.Compat.Tests Quill.Keeper.Ensemble.Tests
  Quill.Tools.Tests Quill.Cli.Tests Quill.Keeper.Client.Tests Quill.Keeper.Tests)
projects=()
for name in "${SLOWEST_FIRST[@]}"; do
  [ -f "tests/$name/$name.csproj" ] && projects+=("tests/$name/$name.csproj")
done
for project in tests/*.Tests/*.csproj; do
  [[ " ${projects[*]} " == *" $project "* ]] || projects+=("$project")
done
printf '%s\n' "${projects[@]}" >"$RESULTS/queue"
: >"$RESULTS/queue.next"

# The next project of the queue, or nothing once it is empty (flock: one lane at a time takes a line).
next_project() {
  (
    flock 9
    taken="$(wc -l <"$RESULTS/queue.next")"
    line="$(sed -n "$((taken + 1))p" "$RESULTS/queue")"
    [ -n "$line" ] && echo "$line" >>"$RESULTS/queue.next"
    echo "$line"
  ) 9>"$RESULTS/queue.lock"
}

# One project: dotnet test into its own log and trx; then, under a lock so projects never interleave, its output and
# a line "-- NAME: N passed, N failed". Writes "passed failed status" to NAME.counts for the totals.
run_project() {
  local project="$1" name trx log code counts passed failed start seconds
  name="$(basename "$project" .csproj)"
  trx="$RESULTS/$name.trx"
  log="$RESULTS/$name.log"
  start="$(date +%s)"
  # --blame-hang-timeout ends a test that hangs and reports it, so one stuck test cannot stall the whole run.
  dotnet test "$project" --no-build -c Release --nologo \
    --logger "trx;LogFileName=$trx" --results-directory "$RESULTS/$name" \
    --blame-hang-timeout 5min --blame-hang-dump-type none </dev/null >"$log" 2>&1
  code=$?
  seconds=$(($(date +%s) - start))

  counts="$([ -f "$trx" ] && trx_counts "$trx")"
  passed="${counts% *}"
  failed="${counts#* }"
  passed="${passed:-0}"
  failed="${failed:-0}"
  {
    flock 9
    echo "== $name (${seconds}s)"
    cat "$log"
    if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then
      # No test failed but dotnet test did: the test host crashed or the project could not run. A project with no
      # tests at all is not an error (xunit reports that with exit code 0).
      echo "!! $name: dotnet test exited with $code and no failed test: counted as 1 failed"
      failed=1
    fi
    echo "-- $name: $passed passed, $failed failed"
  } 9>"$RESULTS/output.lock"
  echo "$passed $failed $code" >"$RESULTS/$name.counts"
}

lane() {
  local project
  while project="$(next_project)" && [ -n "$project" ]; do
    run_project "$project"
  done
}

# Formatting is part of the build's contract (.editorconfig says the style); a drift fails the run like a test. The
# check needs the CPU but no test waits for it, so with lanes it runs beside the tests and its output comes when it
# ends (with one lane, first, as it always did).
format_check() {
  local log="$RESULTS/format.log" code
  dotnet format Quill.slnx --verify-no-changes --no-restore -v q </dev/null >"$log" 2>&1
  code=$?
  {
    flock 9
    echo "== dotnet format --verify-no-changes"
    cat "$log"
    if [ "$code" -ne 0 ]; then
      echo "!! dotnet format found files to reformat: run 'dotnet format Quill.slnx' and commit the result (counted as 1 failed)"
      echo "0 1 $code" >"$RESULTS/format.counts"
    else
      echo "0 0 0" >"$RESULTS/format.counts"
    fi
  } 9>"$RESULTS/output.lock"
}
if [ "$LANES" -eq 1 ]; then
  format_check
  format_pid=
else
  format_check &
  format_pid=$!
fi

echo "== running ${#projects[@]} test projects in $LANES lane(s)"
lane_pids=()
for _ in $(seq "$LANES"); do
  lane &
  lane_pids+=($!)
done
for pid in "${lane_pids[@]}" $format_pid; do wait "$pid"; done

for project in format "${projects[@]}"; do
  name="$(basename "$project" .csproj)"
  if [ -f "$RESULTS/$name.counts" ]; then
    read -r passed failed code <"$RESULTS/$name.counts"
  else
    # The lane died before it recorded the project (it should not): counted as failed, as a crash would be.
    echo "!! $name: no result recorded: counted as 1 failed"
    passed=0 failed=1 code=1
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  [ "$code" -ne 0 ] || [ "$failed" -ne 0 ] && status=1
done

rm -f "$RESULTS"/queue "$RESULTS"/queue.next "$RESULTS"/*.lock "$RESULTS"/*.counts

echo "$total_passed passed, $total_failed failed"
exit "$status"

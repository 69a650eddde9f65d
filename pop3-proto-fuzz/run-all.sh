#!/usr/bin/env bash
# Long fuzzing campaigns: every target (or the ones named) for a while each.
#
#   pop3-proto-fuzz/run-all.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 1800 (30 minutes). Environment:
#   PARALLEL=N   targets run at the same time (default 1; each is one libFuzzer job)
#   RUNS=N       also stop a target after N executions (default: no limit)
#   FUZZ_ARGS    extra libFuzzer flags
#   SANITIZER    cargo-fuzz sanitizer (default none: the crate forbids unsafe code,
#                and without ASan a target runs about twice as fast; try address)
# Corpora grow in pop3-proto-fuzz/corpus/<target>/ (seeded from seeds/<target>/,
# not committed), crashes land in artifacts/<target>/, logs in logs/<target>.log.
# At the end a table gives each target's executions and libFuzzer's final cov:/ft:.
# The exit status is non-zero when any target found something.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
secs="${1:-1800}"
[ $# -gt 0 ] && shift
all=(parse_command parse_reply framing dot_decode dot_stuff roundtrip url client server sync)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
parallel="${PARALLEL:-1}"
runs="${RUNS:--1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
toolchain=+nightly
if ! cargo +nightly --version >/dev/null 2>&1; then
  toolchain=""
  export RUSTC_BOOTSTRAP=1
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
(cd "$root" && cargo $toolchain fuzz build --fuzz-dir pop3-proto-fuzz -O -s "${SANITIZER:-none}")
bin="$CARGO_TARGET_DIR/$triple/release"

max_len() {
  case "$1" in
    url) echo 512 ;;
    parse_command|parse_reply) echo 1024 ;;
    client|server|roundtrip) echo 4096 ;;
    *) echo 2048 ;;
  esac
}

run_one() {
  local t="$1"
  mkdir -p "$here/corpus/$t" "$here/artifacts/$t" "$here/logs"
  local log="$here/logs/$t.log"
  set +e
  "$bin/$t" -dict="$here/pop3.dict" -max_total_time="$secs" -runs="$runs" \
    -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$here/artifacts/$t/" ${FUZZ_ARGS:-} \
    "$here/corpus/$t" "$here/seeds/$t" >"$log" 2>&1
  local rc=$?
  set -e
  echo "$rc" >"$here/logs/$t.rc"
}

summary() {
  printf '\n%-14s %12s %8s %8s %6s %s\n' target executions cov ft secs result
  local failed=0
  for t in "${targets[@]}"; do
    local log="$here/logs/$t.log" rc
    rc="$(cat "$here/logs/$t.rc" 2>/dev/null || echo '?')"
    local execs cov ft time
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
    ft="$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
    time="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)"
    local result=ok
    if [ "$rc" != 0 ]; then result="FINDING (see $log)"; failed=1; fi
    printf '%-14s %12s %8s %8s %6s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${time:-?}" "$result"
  done
  return $failed
}

running=0
for t in "${targets[@]}"; do
  echo "fuzzing $t for ${secs}s"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true
summary

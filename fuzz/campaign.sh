#!/usr/bin/env bash
# A fuzzing campaign over every libFuzzer target of the fuzz build (called by `./run fuzz`).
#   fuzz/campaign.sh BUILD_DIR [SECONDS] [TARGET...]
# Each target runs SECONDS (default 300) with its seeds (fuzz/corpus/<target>) and a work
# corpus that persists between campaigns (BUILD_DIR/fuzz-work/<target>, the directory the
# ctest run also uses); crashes, leaks and timeouts land in BUILD_DIR/fuzz-artifacts/<target>/.
# Prints one summary line per target and exits 1 if any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."

build=${1:?usage: fuzz/campaign.sh BUILD_DIR [SECONDS] [TARGET...]}
secs=${2:-300}
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

for t in "${targets[@]}"; do
  if [ ! -x "$build/fuzz/fuzz_$t" ]; then
    echo "campaign: $build/fuzz/fuzz_$t missing (build the fuzz preset first)" >&2
    exit 2
  fi
done

summary=()
failed=0
for t in "${targets[@]}"; do
  bin=$build/fuzz/fuzz_$t
  work=$build/fuzz-work/$t
  art=$build/fuzz-artifacts/$t
  log=$build/fuzz-logs/$t.log
  mkdir -p "$work" "$art" "$(dirname "$log")"
  before=$(find "$work" -type f | wc -l)
  echo "== fuzz $t: ${secs}s =="
  "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$art/" "$work" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  after=$(find "$work" -type f | wc -l)
  crashes=$(find "$art" -type f | wc -l)
  status=ok
  if [ $rc -ne 0 ]; then
    status="FAILED (exit $rc, see $log)"
    failed=1
  fi
  summary+=("$(printf '%-18s %12s %8d %8d  %s' "$t" "${runs:-?}" $((after - before)) "$crashes" "$status")")
done

echo
printf '%-18s %12s %8s %8s  %s\n' target runs new crashes status
printf '%s\n' "${summary[@]}"
exit $failed

#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a budget (seconds per target; default 60) with cargo fuzz
# (libFuzzer), seeded from tests/fixtures, and prints per target the executions and the
# coverage reached (libFuzzer's cov: edges and ft: features). Exits non-zero if any target
# crashed; the crashing input is in fuzz/artifacts/<target>/ and replays with
#   cargo fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>
#
# Stable Rust: no sanitizer (`--sanitizer none`; AddressSanitizer needs nightly, and safe
# Rust does not need it to find panics, overflows with debug assertions, or hangs).
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-60}"
targets=(cloud_frame mqtt_command bridge config http_body)
if [ -n "${FUZZ_TARGETS:-}" ]; then read -r -a targets <<<"$FUZZ_TARGETS"; fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "--- installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

fixtures=tests/fixtures/anova-messages
corpus=fuzz/corpus
mkdir -p "$corpus"
# Seed corpora (not committed: fuzz/corpus is ignored; what libFuzzer adds stays between runs).
seed() { # seed TARGET NAME CONTENT
  mkdir -p "$corpus/$1"
  printf '%b' "$3" >"$corpus/$1/seed-$2"
}
for f in "$fixtures"/*.json; do
  name=$(basename "$f" .json)
  mkdir -p "$corpus/cloud_frame"
  cp "$f" "$corpus/cloud_frame/seed-$name"
done
# A device list, then a state: the registry normalises it.
{ cat "$fixtures/EVENT_APC_WIFI_LIST.a4+a7.real.json"; printf '\0'; cat "$fixtures/EVENT_APC_STATE.a7.cooking.real.json"; } \
  >"$corpus/cloud_frame/seed-list-then-state"
seed mqtt_command start '\n{"cook": true, "target_temperature": 57.5, "timer": "1h30m", "food": "poultry", "id": "a"}'
seed mqtt_command target '\n{"target_temperature": "135F", "transaction": 7}'
seed mqtt_command nothing '\n{"id": "x"}'
seed mqtt_command mode '\n{"mode": "heat", "display_unit": "F"}'
seed mqtt_command oven '\n{"cook": true, "stages": [{"temperature": 180, "steam": 30, "timer": "20m"}], "id": "o"}'
seed mqtt_command plain-target 'target_temperature\n57.5C'
seed mqtt_command plain-cook 'cook\n"ON"'
seed mqtt_command plain-timer 'timer\n90m'
seed http_body rest '\x00{"cook": true, "target_temperature": 60, "id": "r1"}'
seed http_body rest-id '\x00{"id": 12}'
seed http_body stream '\x01{"type": "command", "id": "s1", "device": "a7cookerid000000000001", "command": {"target_temperature": 58}}'
mkdir -p "$corpus/config"
for f in config/*.toml; do cp "$f" "$corpus/config/seed-$(basename "$f")"; done
seed config env '[anova]\ntoken = "anova-x"\n\x00MQTT__URL=mqtts://user:pw@broker:8883\nANOVA__COMMAND_TIMEOUT=5s\nLOG__LEVEL=debug'
mkdir -p "$corpus/bridge"

# The fuzz workspace has its own target directory; CARGO_TARGET_DIR moves it.
echo "--- cargo fuzz build (release, debug assertions, no sanitizer)"
(cd fuzz && cargo fuzz build --sanitizer none --debug-assertions)

failed=()
summary=()
mkdir -p fuzz/logs
for t in "${targets[@]}"; do
  log="fuzz/logs/$t.log"
  echo "--- fuzz $t for ${budget}s"
  if (cd fuzz && cargo fuzz run --sanitizer none --debug-assertions "$t" -- \
        -max_total_time="$budget" -timeout=10 -print_final_stats=1) >"$log" 2>&1; then
    status=ok
  else
    status=CRASHED
    failed+=("$t")
    grep -aE "panicked|ERROR|Test unit written|SUMMARY" "$log" | head -5 || true
  fi
  last=$(grep -aE '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(sed -nE 's/^#([0-9]+)[[:space:]].*/\1/p' <<<"$last")
  summary+=("$(printf '%-13s %-8s %4ss  execs %10s  cov %6s  ft %7s  corpus %6s' \
    "$t" "$status" "$budget" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
done

echo "=== fuzz summary (budget ${budget}s per target; logs in fuzz/logs/) ==="
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi

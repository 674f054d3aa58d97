#!/usr/bin/env bash
# Every test, in order of speed; exits non-zero when any suite fails or when a suite ran no test.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"
profile=${FOUNDRY_PROFILE:-$([ -n "${CI:-}" ] && echo ci || echo default)}
failed=()

run() { # run NAME COMMAND...
  local name=$1; shift
  echo "::: $name: $*"
  "$@"
  local rc=$?
  # pytest's exit code 5 means it collected no test: that is a failure here.
  if [ $rc -ne 0 ]; then failed+=("$name (exit $rc)"); fi
}

# The npm wrapper node_modules/.bin/forge exits 0 whatever the binary it starts returns (a failing
# test passed this script through it): run the platform binary it wraps, or a forge on PATH.
forge_bin=$(ls node_modules/@foundry-rs/forge-*/bin/forge 2>/dev/null | head -n 1)
forge_bin=${forge_bin:-forge}
mkdir -p .build
forge_suite() { # forge exits 0 when it finds no test: that is a failure here
  # SettlementGasTest runs in gas_suite, under --isolate: run here, without it, it would rewrite
  # its committed per-transaction snapshots with in-transaction figures.
  FOUNDRY_PROFILE="$profile" "$forge_bin" test --no-match-contract SettlementGasTest 2>&1 | tee .build/forge-test.log
  local rc=${PIPESTATUS[0]}
  if grep -q "No tests found" .build/forge-test.log; then return 5; fi
  return "$rc"
}
# Gas: each GasReport test's total against the committed .gas-snapshot (see `make gas`). Those
# tests do not fuzz, so the figures are the same under every profile.
# Then each settlement's gas as one transaction (SettlementGasTest under --isolate, the figures
# issue 13 sets targets for) against its committed named snapshots, snapshots/SettlementGasTest.json.
gas_suite() {
  "$forge_bin" snapshot --match-contract GasReportTest --check --tolerance 1 2>&1 | tee .build/forge-gas.log
  local rc=${PIPESTATUS[0]}
  if grep -q "No tests found" .build/forge-gas.log; then return 5; fi
  if [ "$rc" -ne 0 ]; then return "$rc"; fi
  "$forge_bin" test --isolate --match-contract SettlementGasTest --gas-snapshot-check true 2>&1 | tee .build/forge-gas-tx.log
  rc=${PIPESTATUS[0]}
  if grep -q "No tests found" .build/forge-gas-tx.log; then return 5; fi
  return "$rc"
}
# Types and lint first: quick, and a type error usually explains a failing test.
run mypy mypy
run ruff ruff check .
run contracts forge_suite
run gas gas_suite
# Every deployable contract within EIP-170's 24,576 bytes, as public networks enforce (the dev
# chains do too) and initcode within EIP-3860's 49,152: forge build --sizes fails when one is
# larger. The Foundry suites' own helpers (tests/foundry: the invariant handler) are never
# deployed to a chain and are left out.
run sizes "$forge_bin" build --sizes --skip test --skip script --skip 'tests/foundry/**'

# Static analysis: any medium or high finding fails the run (see slither.config.json), and so
# does a function Slither could not analyse (it would otherwise be a silent blind spot).
slither_suite() {
  slither . --config-file slither.config.json --skip-clean --fail-medium 2>&1 | tee .build/slither.log
  local rc=${PIPESTATUS[0]}
  if grep -q "Impossible to generate IR" .build/slither.log; then return 3; fi
  return "$rc"
}
run slither slither_suite
# A throwaway PostgreSQL for the index test, when the server package is installed.
pg_dir=""
if pg=$(scripts/pg_test_server.sh start 2>/dev/null); then
  pg_dir=${pg%% *}
  export API_TEST_POSTGRES_URL=${pg#* }
  trap 'scripts/pg_test_server.sh stop "$pg_dir"' EXIT
else
  echo "(no PostgreSQL server: the PostgreSQL index test will be skipped)"
fi

# ape's incremental build has been seen to keep a stale contract: build from scratch once.
run compile ape compile --force
run python .venv/bin/python -m pytest -q -p no:cacheprovider
run ape ape test tests/ape -q -p no:cacheprovider -o addopts=-ra

if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all suites passed"

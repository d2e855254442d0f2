#!/usr/bin/env bash
# Record the cassette used by tests/test_stop_e2e.py from the real embedded model.
set -euo pipefail
cd "$(dirname "$0")/../.."
cassette=tests/cassettes/stop.sqlite
work=$(mktemp -d)
rm -f "$cassette"
# Must match the budgets in tests/test_stop_e2e.py exactly.
budget=(--lm-calls 1 --lm-responses 2 --utility-budget 2 --n-tests 1 --meta-budget 2 --max-tokens 900 --sample-seed stop-e2e)
common=(--cache readwrite --cache-path "$cassette" --runs-dir "$work")
selftaught self-improve --task fibonacci -T 1 "${budget[@]}" "${common[@]}"
run=$(ls -d "$work"/*-self-improve)
# Which candidate becomes I_1 depends on timed scores, so transfer is tested on these files.
rm -rf tests/cassettes/improvers && mkdir tests/cassettes/improvers
cp "$run"/improver_*.py tests/cassettes/improvers/
selftaught transfer tests/cassettes/improvers --tasks parity "${budget[@]}" "${common[@]}"
sqlite3 "$cassette" "VACUUM" 2>/dev/null || python -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('VACUUM')" "$cassette"
rm -f "$cassette-wal" "$cassette-shm"
ls -la "$cassette"

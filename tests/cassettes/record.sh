#!/usr/bin/env bash
# Record the cassette used by tests/test_stop_e2e.py from the real embedded model.
set -euo pipefail
cd "$(dirname "$0")/../.."
cassette=tests/cassettes/stop.sqlite
work=$(mktemp -d)
rm -f "$cassette"
# Must match the budgets in tests/test_stop_e2e.py exactly. The instance secret is fixed so
# that replayed runs score on the recorded instances.
budget=(--lm-calls 1 --lm-responses 2 --utility-budget 2 --n-tests 1 --meta-budget 2 --max-tokens 900
        --sample-seed stop-e2e --accept paper --workers 1 --improver-slots 2 --final-runs 0 --improver-time-limit 3000)
common=(--cache readwrite --cache-path "$cassette" --runs-dir "$work" --instance-secret tests/cassettes/instance_secret)
selftaught self-improve --task fibonacci -T 1 "${budget[@]}" "${common[@]}"
run=$(ls -d "$work"/*-self-improve)
# Which candidate becomes I_1 depends on timed scores, so transfer is tested on these files.
rm -rf tests/cassettes/improvers && mkdir tests/cassettes/improvers
cp "$run"/improver_*.py tests/cassettes/improvers/
selftaught transfer tests/cassettes/improvers --tasks parity "${budget[@]}" "${common[@]}"
# Paired acceptance on parity (deterministic scores): a hand-written candidate that really
# differs (keeps the seed program unless a rewrite beats it) and one that returns its first
# rewrite unscored; downstream, every improver sends the seed improver's requests.
accept=(--lm-calls 1 --lm-responses 2 --utility-budget 3 --n-tests 2 --meta-budget 2 --max-tokens 600
        --sample-seed accept-e2e --accept paired --race-first-runs 2 --race-max-runs 6 --final-runs 2
        --workers 1 --improver-slots 2 --improver-time-limit 3000)
selftaught self-improve --task parity -T 2 --seed-improver tests/cassettes/acceptance/seed.py "${accept[@]}" "${common[@]}"
sqlite3 "$cassette" "VACUUM" 2>/dev/null || python -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('VACUUM')" "$cassette"
rm -f "$cassette-wal" "$cassette-shm"
ls -la "$cassette"

#!/usr/bin/env bash
# Runs Vitest with files and tests in a random order, printing the seed so a failing order can be replayed:
#   KENV_TEST_SEED=<seed> npm test
set -euo pipefail
seed="${KENV_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "vitest: shuffled order, seed ${seed} (replay with KENV_TEST_SEED=${seed} npm test)"
exec npx vitest run --sequence.shuffle --sequence.seed="${seed}" "$@"

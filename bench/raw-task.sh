#!/usr/bin/env bash
# The raw baseline of one task, as a user would run it by hand (bench/cases-fixed-cost.ts):
# a worktree on its own branch, then Claude Code's print mode in it. Usage: raw-task.sh REPO CLAUDE N
set -euo pipefail
repo=$1 claude=$2 n=$3
# An empty folder of its own: `git worktree remove` (the case's reset) then takes it away whole.
wt=$(mktemp -d /tmp/pcc-bench-raw-XXXXXX)
git -C "$repo" worktree add -q -b "raw-$n" "$wt" HEAD
cd "$wt"
printf 'commit a file %s' "$n" | "$claude" -p --output-format stream-json --verbose --dangerously-skip-permissions > /dev/null

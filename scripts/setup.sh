#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: system packages, npm dependencies, build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
npm ci
npm run build

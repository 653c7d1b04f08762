#!/usr/bin/env bash
# The integration suite: starts the real servers it needs (scripts/services.sh, idempotent),
# builds the Kafka client if needed, and runs test/integration against them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh up kafka redis mariadb hbase
eval "$(scripts/services.sh env)"
scripts/setup-kafka.sh
exec vitest run --config vitest.integration.config.ts "$@"

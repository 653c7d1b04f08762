#!/usr/bin/env bash
# The integration suite: starts the real servers it needs (scripts/services.sh, idempotent),
# builds the Kafka client if needed, and runs test/integration against them.
# Afterwards it deletes the Kafka topics the run created (every test names its own, e.g.
# it-1a2b3c4d.publish), so the test broker does not pile up partitions from run to run: a broker
# with tens of thousands of them takes minutes to start. Topics named herald.* and internal
# topics (__*) are never deleted. HERALD_KEEP_TEST_TOPICS=1 keeps them, for a post-mortem.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh up kafka redis mariadb hbase
eval "$(scripts/services.sh env)"
scripts/setup-kafka.sh

topics() {
  scripts/services.sh tool kafka org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$HERALD_KAFKA_BROKERS" --list 2>/dev/null | LC_ALL=C sort
}

before=$(mktemp)
trap 'rm -f "$before"' EXIT
topics >"$before" || true

status=0
vitest run --config vitest.integration.config.ts "$@" || status=$?

if [[ ${HERALD_KEEP_TEST_TOPICS:-0} != 1 ]]; then
  mapfile -t created < <(topics | LC_ALL=C comm -13 "$before" - | grep -Ev '^(__|herald\.)' || true)
  if ((${#created[@]} > 0)); then
    # TopicCommand takes a regular expression: one alternation of the exact names, dots escaped.
    pattern="^($(printf '%s\n' "${created[@]}" | sed 's/[.]/\\./g' | paste -sd '|'))\$"
    if scripts/services.sh tool kafka org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$HERALD_KAFKA_BROKERS" --delete --topic "$pattern" >/dev/null 2>&1; then
      echo "test-integration: deleted the ${#created[@]} Kafka topics this run created"
    else
      echo "test-integration: could not delete the ${#created[@]} Kafka topics this run created (the suite's result stands)" >&2
    fi
  fi
fi
exit "$status"

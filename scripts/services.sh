#!/usr/bin/env bash
# Local backing services for Herald's development and tests: one script, no Docker.
#
#   scripts/services.sh up     [NAME...]          start (all known services if no NAME); idempotent
#   scripts/services.sh down   [--purge] [NAME...] stop; --purge also wipes the service's data
#   scripts/services.sh status [NAME...]          one line each; exit 0 if all running, 3 if not
#   scripts/services.sh env                       `export HERALD_...=...` lines for running services
#   scripts/services.sh tool kafka CLASS [ARG...] run a Kafka CLI class from the cached jars, e.g.
#                                                 org.apache.kafka.tools.TopicCommand --list
#                                                 --bootstrap-server 127.0.0.1:9092
#
# Services: kafka (Apache Kafka, KRaft, single broker+controller on 127.0.0.1).
# Jars, data and logs live in ${HERALD_SERVICES_DIR:-$HOME/.cache/herald-services}/<name>/,
# outside the work tree. Jars come from Maven Central through scripts/services/<name>/pom.xml.
#
# Environment:
#   HERALD_SERVICES_DIR            cache root (default $HOME/.cache/herald-services)
#   HERALD_KAFKA_PORT              broker port (default 9092)
#   HERALD_KAFKA_CONTROLLER_PORT   KRaft controller port (default broker port + 1)
#   HERALD_KAFKA_START_TIMEOUT     seconds `up` waits for the broker (default 120)
#   JAVA_HOME                      java to run (default: java on PATH)
#
# Adding a service NAME: append it to KNOWN_SERVICES and define NAME_up, NAME_down (gets
# "purge" or ""), NAME_status (prints one line, returns 0 when running), NAME_env (prints
# export lines) and optionally NAME_tool.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVICES_DIR=${HERALD_SERVICES_DIR:-$HOME/.cache/herald-services}
KNOWN_SERVICES=(kafka)

say() { printf 'services: %s\n' "$*"; }
warn() { printf 'services: %s\n' "$*" >&2; }
die() {
  warn "error: $*"
  exit 1
}

java_bin() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "java not found (install a JDK 17+ or set JAVA_HOME)"
  fi
}

# port_open HOST PORT: something accepts TCP connections there.
port_open() {
  # shellcheck disable=SC2016 # $0/$1 expand in the inner shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# pid_of PIDFILE PATTERN: print the pid recorded in PIDFILE if that process is alive and its
# command line contains PATTERN (guards against a recycled pid); fail otherwise.
pid_of() {
  local pidfile=$1 pattern=$2 pid cmdline
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$pattern"* ]] || return 1
  printf '%s\n' "$pid"
}

# stop_pid PID LABEL: SIGTERM, wait up to 30 s, then SIGKILL.
stop_pid() {
  local pid=$1 label=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  warn "$label (pid $pid) still running 30 s after SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  die "$label (pid $pid) did not exit after SIGKILL"
}

# with_lock NAME CMD...: run CMD holding the service's lock, so that concurrent `up`/`down`
# calls (parallel test runners) do not start two brokers.
with_lock() {
  local name=$1
  shift
  mkdir -p "$SERVICES_DIR/$name"
  (
    exec 9>"$SERVICES_DIR/$name/.lock"
    flock -w 300 9 || die "timed out waiting for the $name lock ($SERVICES_DIR/$name/.lock)"
    "$@"
  )
}

# ---------------------------------------------------------------------------------------------
# kafka: Apache Kafka (version pinned in scripts/services/kafka/pom.xml), KRaft combined mode.

KAFKA_HOST=127.0.0.1
KAFKA_PORT=${HERALD_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${HERALD_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_START_TIMEOUT=${HERALD_KAFKA_START_TIMEOUT:-120}
KAFKA_SRC=$SCRIPT_DIR/services/kafka
KAFKA_HOME=$SERVICES_DIR/kafka
KAFKA_LIB=$KAFKA_HOME/lib
KAFKA_DATA=$KAFKA_HOME/data
KAFKA_LOGS=$KAFKA_HOME/logs
KAFKA_PIDFILE=$KAFKA_HOME/kafka.pid
KAFKA_CONF=$KAFKA_HOME/server.properties
KAFKA_CLUSTER_ID_FILE=$KAFKA_HOME/cluster.id
KAFKA_BROKERS=$KAFKA_HOST:$KAFKA_PORT

kafka_pid() { pid_of "$KAFKA_PIDFILE" "kafka.Kafka $KAFKA_CONF"; }

kafka_pom_hash() { sha256sum "$KAFKA_SRC/pom.xml" | cut -d' ' -f1; }

kafka_jars_current() {
  [[ -f $KAFKA_LIB/.pom.sha256 && $(<"$KAFKA_LIB/.pom.sha256") == "$(kafka_pom_hash)" ]]
}

# Fetch the runtime classpath unless lib/ was filled from this very pom.
kafka_fetch() {
  kafka_jars_current && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found: needed once to fetch the Kafka jars"
  say "kafka: fetching jars from Maven Central into $KAFKA_LIB"
  rm -rf "$KAFKA_LIB.tmp"
  mkdir -p "$KAFKA_LOGS"
  if ! mvn -B -q -f "$KAFKA_SRC/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB.tmp" >"$KAFKA_LOGS/mvn.log" 2>&1; then
    rm -rf "$KAFKA_LIB.tmp"
    tail -n 30 "$KAFKA_LOGS/mvn.log" >&2
    die "kafka: mvn dependency:copy-dependencies failed (full output: $KAFKA_LOGS/mvn.log)"
  fi
  kafka_pom_hash >"$KAFKA_LIB.tmp/.pom.sha256"
  rm -rf "$KAFKA_LIB"
  mv "$KAFKA_LIB.tmp" "$KAFKA_LIB"
}

# kafka_tool CLASS ARG...: run a class from the jars with a small, quick-starting JVM.
kafka_tool() {
  local java
  java=$(java_bin)
  [[ -d $KAFKA_LIB ]] || die "kafka: no jars in $KAFKA_LIB yet (run: $0 up kafka)"
  "$java" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SRC/tools-log4j2.properties" \
    -cp "$KAFKA_LIB/*" "$@"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  cat >"$KAFKA_CONF.tmp" <<EOF
# Generated by scripts/services.sh on every \`up kafka\`; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA

# Topics: created explicitly by Herald, 12 partitions unless asked otherwise.
auto.create.topics.enable=false
num.partitions=12
default.replication.factor=1
min.insync.replicas=1

# Single node: every internal topic has one replica. Fewer internal partitions than the
# default 50 make the first consumer group and the first transaction quicker.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests: no delay before the first rebalance, allow short session timeouts and heartbeats,
# abort timed-out transactions promptly.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
group.consumer.min.session.timeout.ms=1000
group.consumer.min.heartbeat.interval.ms=500
transaction.abort.timed.out.transaction.cleanup.interval.ms=5000

# Keep the footprint small (the cleaner's dedupe buffer defaults to 128 MiB of heap).
log.cleaner.dedupe.buffer.size=33554432
num.network.threads=2
num.io.threads=4
EOF
  mv "$KAFKA_CONF.tmp" "$KAFKA_CONF"
}

# Format the storage once, with a cluster id kept in the cache.
kafka_format() {
  local id
  if [[ -f $KAFKA_DATA/meta.properties ]]; then
    [[ -s $KAFKA_CLUSTER_ID_FILE ]] \
      || sed -n 's/^cluster\.id=//p' "$KAFKA_DATA/meta.properties" >"$KAFKA_CLUSTER_ID_FILE"
    return 0
  fi
  if [[ -s $KAFKA_CLUSTER_ID_FILE ]]; then
    id=$(<"$KAFKA_CLUSTER_ID_FILE")
  else
    id=$(kafka_tool kafka.tools.StorageTool random-uuid)
    [[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: StorageTool random-uuid printed '$id'"
    printf '%s\n' "$id" >"$KAFKA_CLUSTER_ID_FILE"
  fi
  say "kafka: formatting $KAFKA_DATA (cluster id $id)"
  kafka_tool kafka.tools.StorageTool format -t "$id" -c "$KAFKA_CONF" --standalone -g >/dev/null \
    || die "kafka: formatting $KAFKA_DATA failed"
}

# Instant protocol-level probe: send an ApiVersions v0 request and expect a response with our
# correlation id (0x2a) and error code NONE (0) or UNSUPPORTED_VERSION (35).
kafka_ping() {
  local reply
  # shellcheck disable=SC2016 # $0/$1 expand in the inner shell
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x04hrld" >&3
    head -c 10 <&3 | od -An -v -tx1' "$KAFKA_HOST" "$KAFKA_PORT" 2>/dev/null) || return 1
  reply=${reply//[[:space:]]/}
  [[ ${reply:8:12} == 0000002a0000 || ${reply:8:12} == 0000002a0023 ]]
}

# Real readiness: an Admin client asks the broker for the cluster id (a metadata request) and
# it must be ours.
kafka_healthy() {
  local out want
  want=$(<"$KAFKA_CLUSTER_ID_FILE")
  out=$(timeout 30 "$SHELL_SELF" tool kafka org.apache.kafka.tools.ClusterTool cluster-id \
    --bootstrap-server "$KAFKA_BROKERS" --config "$KAFKA_HOME/admin.properties" 2>&1) || return 1
  [[ $out == *"Cluster ID: $want"* ]]
}

kafka_log_tail() {
  local f
  for f in "$KAFKA_LOGS/kafka.out" "$KAFKA_LOGS/server.log"; do
    [[ -s $f ]] || continue
    warn "---- last lines of $f ----"
    tail -n 30 "$f" >&2
  done
}

kafka_up() {
  local pid java start i
  if pid=$(kafka_pid); then
    if kafka_ping; then
      say "kafka: already running (pid $pid, $KAFKA_BROKERS)"
      kafka_jars_current \
        || warn "kafka: scripts/services/kafka/pom.xml changed since the jars were fetched; run: $0 down kafka && $0 up kafka"
      return 0
    fi
    die "kafka: pid $pid is alive but $KAFKA_BROKERS does not answer; see $KAFKA_LOGS (or: $0 down kafka)"
  fi
  rm -f "$KAFKA_PIDFILE"
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    die "kafka: $KAFKA_BROKERS is taken by a process this script did not start"
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
    die "kafka: controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is taken"
  fi

  java=$(java_bin)
  kafka_fetch
  kafka_write_config
  printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n' >"$KAFKA_HOME/admin.properties"
  kafka_format

  say "kafka: starting on $KAFKA_BROKERS (controller $KAFKA_HOST:$KAFKA_CONTROLLER_PORT)"
  start=$SECONDS
  # setsid: own session, so a Ctrl-C or the end of the calling shell does not reach the broker.
  # The inner bash writes its pid, then execs java under that same pid. 9>&-: the broker must
  # not inherit the lock taken by with_lock.
  # shellcheck disable=SC2016 # $$/$0/$@ expand in the inner shell
  setsid bash -c 'echo "$$" >"$0"; exec "$@"' "$KAFKA_PIDFILE" \
    "$java" -Xms256m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_LOGS" \
    -Dlog4j2.configurationFile="$KAFKA_SRC/log4j2.properties" \
    -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_CONF" \
    </dev/null >>"$KAFKA_LOGS/kafka.out" 2>&1 9>&- &

  for ((i = 0; i < 50; i++)); do
    [[ -s $KAFKA_PIDFILE ]] && break
    sleep 0.1
  done
  while ((SECONDS - start < KAFKA_START_TIMEOUT)); do
    if ! pid=$(kafka_pid); then
      kafka_log_tail
      rm -f "$KAFKA_PIDFILE"
      die "kafka: the broker exited during startup (logs: $KAFKA_LOGS)"
    fi
    if kafka_ping && kafka_healthy; then
      say "kafka: up (pid $pid, $KAFKA_BROKERS) in $((SECONDS - start)) s"
      return 0
    fi
    sleep 0.5
  done
  kafka_log_tail
  die "kafka: no healthy broker on $KAFKA_BROKERS after ${KAFKA_START_TIMEOUT} s (pid $pid still running; logs: $KAFKA_LOGS)"
}

kafka_down() {
  local purge=$1 pid
  if pid=$(kafka_pid); then
    say "kafka: stopping (pid $pid)"
    stop_pid "$pid" kafka
    say "kafka: stopped"
  else
    say "kafka: not running"
  fi
  rm -f "$KAFKA_PIDFILE"
  if [[ $purge == purge ]]; then
    rm -rf "$KAFKA_DATA" "$KAFKA_CLUSTER_ID_FILE"
    say "kafka: data purged ($KAFKA_DATA)"
  fi
}

kafka_status() {
  local pid
  if pid=$(kafka_pid); then
    if kafka_ping; then
      say "kafka: running (pid $pid, $KAFKA_BROKERS)"
      return 0
    fi
    say "kafka: not answering (pid $pid alive, $KAFKA_BROKERS silent)"
    return 1
  fi
  say "kafka: stopped"
  return 1
}

kafka_env() {
  echo "export HERALD_KAFKA_BROKERS=$KAFKA_BROKERS"
}

# ---------------------------------------------------------------------------------------------

SHELL_SELF=$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")

usage() {
  sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$SHELL_SELF" >&2
  exit 2
}

is_known() {
  local s
  for s in "${KNOWN_SERVICES[@]}"; do
    [[ $s == "$1" ]] && return 0
  done
  return 1
}

# Sets NAMES to the requested services, or all known ones when none are given.
NAMES=()
select_services() {
  local n
  NAMES=()
  if (($# == 0)); then
    NAMES=("${KNOWN_SERVICES[@]}")
    return 0
  fi
  for n in "$@"; do
    is_known "$n" || die "unknown service '$n' (known: ${KNOWN_SERVICES[*]})"
    NAMES+=("$n")
  done
}

main() {
  (($# > 0)) || usage
  local cmd=$1 purge="" n rc=0 i
  shift
  case $cmd in
    up)
      select_services "$@"
      for n in "${NAMES[@]}"; do
        with_lock "$n" "${n}_up"
      done
      ;;
    down)
      local args=()
      for n in "$@"; do
        if [[ $n == --purge ]]; then purge=purge; else args+=("$n"); fi
      done
      select_services ${args[@]+"${args[@]}"}
      # Reverse order of start.
      for ((i = ${#NAMES[@]} - 1; i >= 0; i--)); do
        with_lock "${NAMES[i]}" "${NAMES[i]}_down" "$purge"
      done
      ;;
    status)
      select_services "$@"
      for n in "${NAMES[@]}"; do
        "${n}_status" || rc=3
      done
      return "$rc"
      ;;
    env)
      (($# == 0)) || die "env takes no arguments"
      for n in "${KNOWN_SERVICES[@]}"; do
        if "${n}_status" >/dev/null; then
          "${n}_env"
        fi
      done
      ;;
    tool)
      (($# >= 2)) || die "usage: $0 tool NAME CLASS [ARG...]"
      n=$1
      shift
      is_known "$n" || die "unknown service '$n' (known: ${KNOWN_SERVICES[*]})"
      declare -F "${n}_tool" >/dev/null || die "service '$n' has no tool command"
      "${n}_tool" "$@"
      ;;
    -h | --help | help) usage ;;
    *)
      warn "unknown command '$cmd'"
      usage
      ;;
  esac
}

main "$@"

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
# Services, all listening on 127.0.0.1 only:
#   kafka    Apache Kafka, KRaft, single broker+controller
#   redis    Redis from Debian's redis-server package; data kept in an append-only file
#   mariadb  MariaDB from Debian's mariadb-server package; database `herald` and user
#            herald/herald, who may also create databases named herald_*
#   hbase    Apache HBase standalone (master, regionserver and ZooKeeper in one JVM, local
#            disk) plus a REST gateway JVM serving the subset of the HBase REST API Herald uses
# Jars, data and logs live in ${HERALD_SERVICES_DIR:-$HOME/.cache/herald-services}/<name>/,
# outside the work tree. Jars come from Maven Central through scripts/services/<name>/pom.xml;
# missing Debian packages are installed with apt-get (as root, or through sudo -n). Redis and
# MariaDB run as our own processes with our own config and data, never as the system service.
#
# Environment:
#   HERALD_SERVICES_DIR            cache root (default $HOME/.cache/herald-services)
#   HERALD_KAFKA_PORT              broker port (default 9092)
#   HERALD_KAFKA_CONTROLLER_PORT   KRaft controller port (default broker port + 1)
#   HERALD_KAFKA_START_TIMEOUT     seconds `up` waits for the broker (default 300: after an unclean
#                                  stop the broker recovers every partition, ~1 min per 10,000)
#   JAVA_HOME                      java to run (default: java on PATH)
#   HERALD_REDIS_PORT              Redis port (default 6379)
#   HERALD_REDIS_START_TIMEOUT     seconds `up` waits for Redis (default 30)
#   HERALD_MYSQL_PORT              MariaDB port (default 3306)
#   HERALD_MYSQL_START_TIMEOUT     seconds `up` waits for MariaDB (default 60)
#   HERALD_HBASE_REST_PORT         HBase REST gateway port (default 18080; HBase's own 16000,
#                                  16010, 16020, 16030 are fixed)
#   HERALD_HBASE_ZK_PORT           HBase's ZooKeeper port (default 2181)
#   HERALD_HBASE_START_TIMEOUT     seconds `up` waits for HBase (default 180)
#
# Adding a service NAME: append it to KNOWN_SERVICES and define NAME_up, NAME_down (gets
# "purge" or ""), NAME_status (prints one line, returns 0 when running), NAME_env (prints
# export lines) and optionally NAME_tool.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVICES_DIR=${HERALD_SERVICES_DIR:-$HOME/.cache/herald-services}
KNOWN_SERVICES=(kafka redis mariadb hbase)

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

# find_bin NAME: print the path of an installed program (daemons live in /usr/sbin, which is
# not on every user's PATH); fail if there is none.
find_bin() {
  PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin command -v "$1" 2>/dev/null
}

# ensure_debs NAME "PROG..." PKG...: when any of the programs is missing, install the Debian
# packages with apt-get, quietly (output in NAME's logs/apt.log). Package scripts must not start
# the distribution's own instance, which would take our port: unless the machine already has a
# /usr/sbin/policy-rc.d (Docker images do), one that denies every start is in place meanwhile.
ensure_debs() {
  local name=$1 progs=$2 p missing="" log rc=0 sudo=() policy=/usr/sbin/policy-rc.d own_policy=""
  shift 2
  for p in $progs; do
    find_bin "$p" >/dev/null || missing+=" $p"
  done
  [[ -z $missing ]] && return 0
  command -v apt-get >/dev/null 2>&1 \
    || die "$name: missing$missing and no apt-get here: install $* by hand"
  if ((EUID != 0)); then
    if ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
      die "$name: missing$missing; run as root or: sudo apt-get install $*"
    fi
    sudo=(sudo -n)
  fi
  log=$SERVICES_DIR/$name/logs/apt.log
  mkdir -p "${log%/*}"
  say "$name: missing$missing; installing Debian packages: $* (log: $log)"
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# Temporary, from herald scripts/services.sh\nexit 101\n' \
      | ${sudo[@]+"${sudo[@]}"} tee "$policy" >/dev/null \
      && ${sudo[@]+"${sudo[@]}"} chmod 755 "$policy" && own_policy=$policy
  fi
  {
    ${sudo[@]+"${sudo[@]}"} apt-get -q update \
      && ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
        -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold --no-install-recommends install "$@"
  } >"$log" 2>&1 || rc=$?
  if [[ -n $own_policy ]]; then ${sudo[@]+"${sudo[@]}"} rm -f "$own_policy"; fi
  if ((rc != 0)); then
    tail -n 20 "$log" >&2
    die "$name: apt-get install $* failed (full output: $log)"
  fi
  for p in "$@"; do
    say "$name: installed $p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null)"
  done
  for p in $progs; do
    find_bin "$p" >/dev/null || die "$name: $p still missing after installing $*"
  done
}

# start_bg PIDFILE LOGFILE CMD...: start CMD detached. setsid: own session, so a Ctrl-C or the
# end of the calling shell does not reach it. The inner bash writes its pid, then execs CMD under
# that same pid. 9>&-: the service must not inherit the lock taken by with_lock.
start_bg() {
  local pidfile=$1 log=$2 i
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$/$0/$@ expand in the inner shell
  setsid bash -c 'echo "$$" >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 9>&- &
  for ((i = 0; i < 50; i++)); do
    [[ -s $pidfile ]] && return 0
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------------
# kafka: Apache Kafka (version pinned in scripts/services/kafka/pom.xml), KRaft combined mode.

KAFKA_HOST=127.0.0.1
KAFKA_PORT=${HERALD_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${HERALD_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_START_TIMEOUT=${HERALD_KAFKA_START_TIMEOUT:-300}
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

# How many partition directories the broker's data dir holds (what its start-up time grows with).
kafka_partition_dirs() {
  find "$KAFKA_DATA" -mindepth 1 -maxdepth 1 -type d -name '*-[0-9]*' 2>/dev/null | wc -l
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
  die "kafka: no healthy broker on $KAFKA_BROKERS after ${KAFKA_START_TIMEOUT} s (pid $pid still running; logs: $KAFKA_LOGS). The data dir holds $(kafka_partition_dirs) partition directories: a broker with many recovers slowly; raise HERALD_KAFKA_START_TIMEOUT, or start afresh with: $0 down --purge kafka"
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
# redis: Debian's redis-server, our own instance (generated config, AOF persistence).

REDIS_HOST=127.0.0.1
REDIS_PORT=${HERALD_REDIS_PORT:-6379}
REDIS_START_TIMEOUT=${HERALD_REDIS_START_TIMEOUT:-30}
REDIS_HOME=$SERVICES_DIR/redis
REDIS_DATA=$REDIS_HOME/data
REDIS_LOGS=$REDIS_HOME/logs
REDIS_PIDFILE=$REDIS_HOME/redis.pid
REDIS_CONF=$REDIS_HOME/redis.conf
REDIS_URL=redis://$REDIS_HOST:$REDIS_PORT

# Redis rewrites its process title; the template in redis.conf keeps the config path in it.
redis_pid() { pid_of "$REDIS_PIDFILE" "$REDIS_CONF"; }

redis_ping() {
  local cli out
  cli=$(find_bin redis-cli) || return 1
  out=$(timeout 3 "$cli" -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) || return 1
  [[ $out == PONG ]]
}

redis_write_config() {
  mkdir -p "$REDIS_DATA" "$REDIS_LOGS"
  cat >"$REDIS_CONF.tmp" <<CONF
# Generated by scripts/services.sh on every \`up redis\`; edit the script, not this file.
bind $REDIS_HOST
port $REDIS_PORT
# Loopback only and no password: protected mode would refuse nothing we accept anyway.
protected-mode no
daemonize no
supervised no
proc-title-template "{title} {listen-addr} {server-mode} {config-file}"
logfile $REDIS_LOGS/redis.log
loglevel notice
always-show-logo no
dir $REDIS_DATA
# A restarted Redis keeps its data: append-only file, fsync once a second.
appendonly yes
appendfsync everysec
appenddirname appendonly
save ""
CONF
  mv "$REDIS_CONF.tmp" "$REDIS_CONF"
}

redis_log_tail() {
  local f
  for f in "$REDIS_LOGS/redis.out" "$REDIS_LOGS/redis.log"; do
    [[ -s $f ]] || continue
    warn "---- last lines of $f ----"
    tail -n 20 "$f" >&2
  done
}

redis_up() {
  local pid server start
  if pid=$(redis_pid); then
    if redis_ping; then
      say "redis: already running (pid $pid, $REDIS_URL)"
      return 0
    fi
    die "redis: pid $pid is alive but $REDIS_HOST:$REDIS_PORT does not answer PING; see $REDIS_LOGS (or: $0 down redis)"
  fi
  rm -f "$REDIS_PIDFILE"
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then
    die "redis: $REDIS_HOST:$REDIS_PORT is taken by a process this script did not start (the system redis-server? stop it, or set HERALD_REDIS_PORT)"
  fi
  ensure_debs redis "redis-server redis-cli" redis-server redis-tools
  server=$(find_bin redis-server)
  redis_write_config

  say "redis: starting on $REDIS_HOST:$REDIS_PORT"
  start=$SECONDS
  start_bg "$REDIS_PIDFILE" "$REDIS_LOGS/redis.out" "$server" "$REDIS_CONF"
  while ((SECONDS - start < REDIS_START_TIMEOUT)); do
    if ! pid=$(redis_pid); then
      redis_log_tail
      rm -f "$REDIS_PIDFILE"
      die "redis: the server exited during startup (logs: $REDIS_LOGS)"
    fi
    if redis_ping; then
      say "redis: up (pid $pid, $REDIS_URL) in $((SECONDS - start)) s"
      return 0
    fi
    sleep 0.1
  done
  redis_log_tail
  die "redis: no PONG from $REDIS_HOST:$REDIS_PORT after ${REDIS_START_TIMEOUT} s (pid $pid still running; logs: $REDIS_LOGS)"
}

redis_down() {
  local purge=$1 pid
  if pid=$(redis_pid); then
    say "redis: stopping (pid $pid)"
    stop_pid "$pid" redis
    say "redis: stopped"
  else
    say "redis: not running"
  fi
  rm -f "$REDIS_PIDFILE"
  if [[ $purge == purge ]]; then
    rm -rf "$REDIS_DATA"
    say "redis: data purged ($REDIS_DATA)"
  fi
}

redis_status() {
  local pid
  if pid=$(redis_pid); then
    if redis_ping; then
      say "redis: running (pid $pid, $REDIS_URL)"
      return 0
    fi
    say "redis: not answering (pid $pid alive, $REDIS_HOST:$REDIS_PORT silent)"
    return 1
  fi
  say "redis: stopped"
  return 1
}

redis_env() {
  echo "export HERALD_REDIS_URL=$REDIS_URL"
}

# ---------------------------------------------------------------------------------------------
# mariadb: Debian's mariadb-server, our own instance (--no-defaults: /etc/mysql is ignored).

MARIADB_HOST=127.0.0.1
MARIADB_PORT=${HERALD_MYSQL_PORT:-3306}
MARIADB_START_TIMEOUT=${HERALD_MYSQL_START_TIMEOUT:-60}
MARIADB_HOME=$SERVICES_DIR/mariadb
MARIADB_DATA=$MARIADB_HOME/data
MARIADB_LOGS=$MARIADB_HOME/logs
MARIADB_SOCK=$MARIADB_HOME/mysqld.sock
MARIADB_PIDFILE=$MARIADB_HOME/mariadb.pid
MARIADB_INIT_MARK=$MARIADB_DATA/.herald-initialized
MARIADB_URL=mysql://herald:herald@$MARIADB_HOST:$MARIADB_PORT/herald

mariadb_pid() { pid_of "$MARIADB_PIDFILE" "--datadir=$MARIADB_DATA "; }

# As root, mariadbd refuses to start unless told to run as root.
mariadb_user_args() {
  if ((EUID == 0)); then printf '%s\n' --user=root; fi
}

# Instant probe: the server answers on its socket.
mariadb_ping() {
  local admin
  admin=$(find_bin mariadb-admin) || return 1
  timeout 3 "$admin" --no-defaults --socket="$MARIADB_SOCK" -uroot --connect-timeout=2 ping \
    >/dev/null 2>&1
}

# Real readiness: user herald runs a query over TCP.
mariadb_healthy() {
  local client out
  client=$(find_bin mariadb) || return 1
  out=$(MYSQL_PWD=herald timeout 5 "$client" --no-defaults -h"$MARIADB_HOST" -P"$MARIADB_PORT" \
    --protocol=tcp --connect-timeout=3 -uherald -N -B -e 'SELECT 1' herald 2>/dev/null) || return 1
  [[ $out == 1 ]]
}

# Create the system tables once. The mark is written last, so an interrupted run starts over.
mariadb_init_db() {
  local user_args
  [[ -f $MARIADB_INIT_MARK ]] && return 0
  mapfile -t user_args < <(mariadb_user_args)
  say "mariadb: initialising $MARIADB_DATA"
  rm -rf "$MARIADB_DATA"
  mkdir -p "$MARIADB_DATA" "$MARIADB_LOGS"
  if ! "$(find_bin mariadb-install-db)" --no-defaults --datadir="$MARIADB_DATA" \
    --auth-root-authentication-method=normal --skip-test-db ${user_args[@]+"${user_args[@]}"} \
    >"$MARIADB_LOGS/install-db.log" 2>&1; then
    tail -n 20 "$MARIADB_LOGS/install-db.log" >&2
    die "mariadb: mariadb-install-db failed (full output: $MARIADB_LOGS/install-db.log)"
  fi
  : >"$MARIADB_INIT_MARK"
}

# Idempotent: database herald, user herald (TCP from 127.0.0.1 and the socket), which may also
# create and drop the per-run databases herald_* of the tests. No anonymous users. Runs as the
# passwordless root@localhost, over our socket.
mariadb_setup_sql() {
  timeout 30 "$(find_bin mariadb)" --no-defaults --socket="$MARIADB_SOCK" -uroot <<'SQL'
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS herald;
CREATE USER IF NOT EXISTS 'herald'@'127.0.0.1' IDENTIFIED BY 'herald';
CREATE USER IF NOT EXISTS 'herald'@'localhost' IDENTIFIED BY 'herald';
ALTER USER 'herald'@'127.0.0.1' IDENTIFIED BY 'herald';
ALTER USER 'herald'@'localhost' IDENTIFIED BY 'herald';
GRANT ALL PRIVILEGES ON herald.* TO 'herald'@'127.0.0.1', 'herald'@'localhost';
GRANT ALL PRIVILEGES ON `herald\_%`.* TO 'herald'@'127.0.0.1', 'herald'@'localhost';
SQL
}

mariadb_log_tail() {
  local f
  for f in "$MARIADB_LOGS/mariadb.out" "$MARIADB_LOGS/mariadb.err"; do
    [[ -s $f ]] || continue
    warn "---- last lines of $f ----"
    tail -n 20 "$f" >&2
  done
}

mariadb_up() {
  local pid start user_args
  if pid=$(mariadb_pid); then
    if mariadb_healthy; then
      say "mariadb: already running (pid $pid, $MARIADB_HOST:$MARIADB_PORT)"
      return 0
    fi
    die "mariadb: pid $pid is alive but user herald gets no answer on $MARIADB_HOST:$MARIADB_PORT; see $MARIADB_LOGS (or: $0 down mariadb)"
  fi
  rm -f "$MARIADB_PIDFILE"
  if port_open "$MARIADB_HOST" "$MARIADB_PORT"; then
    die "mariadb: $MARIADB_HOST:$MARIADB_PORT is taken by a process this script did not start (the system mariadb/mysql? stop it, or set HERALD_MYSQL_PORT)"
  fi
  # A Unix socket path is limited to 108 bytes.
  ((${#MARIADB_SOCK} < 100)) \
    || die "mariadb: socket path $MARIADB_SOCK is too long (set a shorter HERALD_SERVICES_DIR)"
  ensure_debs mariadb "mariadbd mariadb-install-db mariadb mariadb-admin" \
    mariadb-server mariadb-client
  mariadb_init_db
  mapfile -t user_args < <(mariadb_user_args)

  say "mariadb: starting on $MARIADB_HOST:$MARIADB_PORT"
  start=$SECONDS
  rm -f "$MARIADB_SOCK"
  # utf8mb4 as Debian's own config has it (the compiled-in default is latin1).
  start_bg "$MARIADB_PIDFILE" "$MARIADB_LOGS/mariadb.out" \
    "$(find_bin mariadbd)" --no-defaults --datadir="$MARIADB_DATA" --socket="$MARIADB_SOCK" \
    --port="$MARIADB_PORT" --bind-address="$MARIADB_HOST" --pid-file="$MARIADB_PIDFILE" \
    --log-error="$MARIADB_LOGS/mariadb.err" ${user_args[@]+"${user_args[@]}"} \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
  while ((SECONDS - start < MARIADB_START_TIMEOUT)); do
    if ! pid=$(mariadb_pid); then
      mariadb_log_tail
      rm -f "$MARIADB_PIDFILE"
      die "mariadb: the server exited during startup (logs: $MARIADB_LOGS)"
    fi
    if mariadb_ping; then
      mariadb_setup_sql || die "mariadb: creating database and user herald failed"
      if mariadb_healthy; then
        say "mariadb: up (pid $pid, $MARIADB_HOST:$MARIADB_PORT) in $((SECONDS - start)) s"
        return 0
      fi
    fi
    sleep 0.2
  done
  mariadb_log_tail
  die "mariadb: no answer to user herald on $MARIADB_HOST:$MARIADB_PORT after ${MARIADB_START_TIMEOUT} s (pid $pid still running; logs: $MARIADB_LOGS)"
}

mariadb_down() {
  local purge=$1 pid
  if pid=$(mariadb_pid); then
    say "mariadb: stopping (pid $pid)"
    stop_pid "$pid" mariadb
    say "mariadb: stopped"
  else
    say "mariadb: not running"
  fi
  rm -f "$MARIADB_PIDFILE"
  if [[ $purge == purge ]]; then
    rm -rf "$MARIADB_DATA"
    say "mariadb: data purged ($MARIADB_DATA)"
  fi
}

mariadb_status() {
  local pid
  if pid=$(mariadb_pid); then
    if mariadb_healthy; then
      say "mariadb: running (pid $pid, $MARIADB_HOST:$MARIADB_PORT)"
      return 0
    fi
    say "mariadb: not answering (pid $pid alive, no reply to user herald on $MARIADB_HOST:$MARIADB_PORT)"
    return 1
  fi
  say "mariadb: stopped"
  return 1
}

mariadb_env() {
  echo "export HERALD_MYSQL_URL=$MARIADB_URL"
}

# ---------------------------------------------------------------------------------------------
# hbase: Apache HBase (version pinned in scripts/services/hbase/pom.xml), standalone: one JVM
# runs HMaster, a regionserver and ZooKeeper (MiniZooKeeperCluster) on the local filesystem.
# A second JVM runs scripts/services/hbase/HeraldHBaseRest.java, the subset of the HBase REST
# API that Herald uses: the registry here serves no hbase-rest or hbase-thrift artifact.

HBASE_HOST=127.0.0.1
HBASE_ZK_PORT=${HERALD_HBASE_ZK_PORT:-2181}
HBASE_REST_PORT=${HERALD_HBASE_REST_PORT:-18080}
HBASE_START_TIMEOUT=${HERALD_HBASE_START_TIMEOUT:-180}
# Fixed: the master (16000, info 16010) and regionserver (16020, info 16030) ports.
HBASE_PORTS=(16000 16010 16020 16030)
HBASE_SRC=$SCRIPT_DIR/services/hbase
HBASE_HOME=$SERVICES_DIR/hbase
HBASE_LIB=$HBASE_HOME/lib
HBASE_GW=$HBASE_HOME/gateway
HBASE_CONF_DIR=$HBASE_HOME/conf
HBASE_DATA=$HBASE_HOME/data
HBASE_TMP=$HBASE_HOME/tmp
HBASE_LOGS=$HBASE_HOME/logs
HBASE_PIDFILE=$HBASE_HOME/hbase.pid
HBASE_REST_PIDFILE=$HBASE_HOME/rest.pid
HBASE_REST_URL=http://$HBASE_HOST:$HBASE_REST_PORT
HBASE_ZK=$HBASE_HOST:$HBASE_ZK_PORT

# The JDK 17 flags of HBase's bin/hbase and conf/hbase-env.sh (netty and Hadoop reflection).
HBASE_JVM_FLAGS=(
  -Djava.awt.headless=true
  -Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true
  --add-modules jdk.unsupported
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.nio=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/java.util.concurrent=ALL-UNNAMED
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-exports java.base/sun.net.dns=ALL-UNNAMED
  --add-exports java.base/sun.net.util=ALL-UNNAMED
)

# The marker properties make the pid checks specific to this cache directory.
hbase_pid() { pid_of "$HBASE_PIDFILE" "-Dherald.hbase.home=$HBASE_HOME org.apache.hadoop.hbase.master.HMaster start"; }
hbase_rest_pid() { pid_of "$HBASE_REST_PIDFILE" "-Dherald.hbase.home=$HBASE_HOME HeraldHBaseRest"; }

hbase_pom_hash() { sha256sum "$HBASE_SRC/pom.xml" | cut -d' ' -f1; }
hbase_gw_hash() { cat "$HBASE_SRC/pom.xml" "$HBASE_SRC/HeraldHBaseRest.java" | sha256sum | cut -d' ' -f1; }

hbase_jars_current() {
  [[ -f $HBASE_LIB/.pom.sha256 && $(<"$HBASE_LIB/.pom.sha256") == "$(hbase_pom_hash)" ]]
}

# Fetch the runtime classpath unless lib/ was filled from this very pom.
hbase_fetch() {
  hbase_jars_current && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found: needed once to fetch the HBase jars"
  say "hbase: fetching jars from Maven Central into $HBASE_LIB"
  rm -rf "$HBASE_LIB.tmp"
  mkdir -p "$HBASE_LOGS"
  if ! mvn -B -q -f "$HBASE_SRC/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$HBASE_LIB.tmp" >"$HBASE_LOGS/mvn.log" 2>&1; then
    rm -rf "$HBASE_LIB.tmp"
    tail -n 30 "$HBASE_LOGS/mvn.log" >&2
    die "hbase: mvn dependency:copy-dependencies failed (full output: $HBASE_LOGS/mvn.log)"
  fi
  hbase_pom_hash >"$HBASE_LIB.tmp/.pom.sha256"
  rm -rf "$HBASE_LIB"
  mv "$HBASE_LIB.tmp" "$HBASE_LIB"
}

# Compile the REST gateway against lib/ unless gateway/ was built from this source and pom.
hbase_compile_gateway() {
  local javac
  [[ -f $HBASE_GW/.sha256 && $(<"$HBASE_GW/.sha256") == "$(hbase_gw_hash)" ]] && return 0
  javac=$(dirname "$(java_bin)")/javac
  [[ -x $javac ]] || javac=$(command -v javac) \
    || die "hbase: javac not found (the REST gateway is compiled once; install a JDK, not a JRE)"
  say "hbase: compiling the REST gateway (scripts/services/hbase/HeraldHBaseRest.java)"
  rm -rf "$HBASE_GW.tmp"
  mkdir -p "$HBASE_GW.tmp" "$HBASE_LOGS"
  if ! "$javac" -nowarn -d "$HBASE_GW.tmp" -cp "$HBASE_LIB/*" "$HBASE_SRC/HeraldHBaseRest.java" \
    >"$HBASE_LOGS/javac.log" 2>&1; then
    cat "$HBASE_LOGS/javac.log" >&2
    rm -rf "$HBASE_GW.tmp"
    die "hbase: compiling HeraldHBaseRest.java failed"
  fi
  hbase_gw_hash >"$HBASE_GW.tmp/.sha256"
  rm -rf "$HBASE_GW"
  mv "$HBASE_GW.tmp" "$HBASE_GW"
}

hbase_write_config() {
  mkdir -p "$HBASE_CONF_DIR" "$HBASE_DATA" "$HBASE_TMP" "$HBASE_LOGS"
  # The info servers (16010, 16030) look up hbase-webapps/<name> on the classpath; the jars on
  # Maven Central do not ship those pages (the binary tarball does), so empty ones stand in:
  # /jmx, /conf, /stacks and /logLevel work, the HTML status pages do not.
  mkdir -p "$HBASE_CONF_DIR"/hbase-webapps/{master,regionserver,static}
  cat >"$HBASE_CONF_DIR/hbase-site.xml.tmp" <<EOF
<?xml version="1.0"?>
<!-- Generated by scripts/services.sh on every \`up hbase\`; edit the script, not this file. -->
<configuration>
  <!-- Standalone: master, regionserver and ZooKeeper in one JVM, data on the local disk. -->
  <property><name>hbase.cluster.distributed</name><value>false</value></property>
  <property><name>hbase.rootdir</name><value>file://$HBASE_DATA/hbase</value></property>
  <property><name>hbase.tmp.dir</name><value>$HBASE_TMP</value></property>
  <property><name>hbase.zookeeper.property.dataDir</name><value>$HBASE_DATA/zookeeper</value></property>
  <property><name>hbase.zookeeper.quorum</name><value>$HBASE_HOST</value></property>
  <property><name>hbase.zookeeper.property.clientPort</name><value>$HBASE_ZK_PORT</value></property>
  <!-- The local filesystem has no hflush/hsync capability: without this the master aborts. -->
  <property><name>hbase.unsafe.stream.capability.enforce</name><value>false</value></property>
  <property><name>hbase.wal.provider</name><value>filesystem</value></property>
  <!-- Loopback only, and never the machine's hostname (which may not resolve). -->
  <property><name>hbase.master.hostname</name><value>$HBASE_HOST</value></property>
  <property><name>hbase.unsafe.regionserver.hostname</name><value>$HBASE_HOST</value></property>
  <property><name>hbase.master.ipc.address</name><value>$HBASE_HOST</value></property>
  <property><name>hbase.regionserver.ipc.address</name><value>$HBASE_HOST</value></property>
  <property><name>hbase.master.info.bindAddress</name><value>$HBASE_HOST</value></property>
  <property><name>hbase.regionserver.info.bindAddress</name><value>$HBASE_HOST</value></property>
  <property><name>hbase.master.port</name><value>16000</value></property>
  <property><name>hbase.master.info.port</name><value>16010</value></property>
  <property><name>hbase.regionserver.port</name><value>16020</value></property>
  <property><name>hbase.regionserver.info.port</name><value>16030</value></property>
  <!-- A small test instance: less heap for caches, quicker balancer and chore idling. -->
  <property><name>hbase.regionserver.handler.count</name><value>16</value></property>
  <property><name>hbase.balancer.period</name><value>600000</value></property>
</configuration>
EOF
  mv "$HBASE_CONF_DIR/hbase-site.xml.tmp" "$HBASE_CONF_DIR/hbase-site.xml"
}

# hbase_http PATH [SECONDS]: GET PATH from the REST gateway (HTTP/1.0 over bash's /dev/tcp, no
# curl needed); prints the status code, a space, and the body.
hbase_http() {
  local reply
  # shellcheck disable=SC2016 # $0..$3 expand in the inner shell
  reply=$(timeout "${2:-5}" bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s:%s\r\nAccept: application/json\r\n\r\n" "$2" "$0" "$1" >&3
    cat <&3' "$HBASE_HOST" "$HBASE_REST_PORT" "$1" 2>/dev/null) || return 1
  reply=${reply//$'\r'/}
  [[ $reply =~ ^HTTP/1\.[01]\ ([0-9]{3}) ]] || return 1
  printf '%s %s\n' "${BASH_REMATCH[1]}" "${reply#*$'\n\n'}"
}

# Quick probe: the gateway answers and the master reports its version.
hbase_ping() {
  local r
  r=$(hbase_http /version/cluster 10) || return 1
  [[ $r == '200 "'* ]]
}

# Real readiness: the master has finished initializing (until then table admin calls get
# PleaseHoldException, a 503, although /version/cluster already answers) and a read of hbase:meta
# goes through the regionserver (a Get of a missing row: 404, where an unassigned meta gives 503).
hbase_healthy() {
  local r
  hbase_ping || return 1
  r=$(hbase_http /hbase:meta/schema 15) || return 1
  [[ $r == 200* ]] || return 1
  r=$(hbase_http /hbase:meta/herald-services-probe 15) || return 1
  [[ $r == 404* ]]
}

hbase_version() {
  local r
  r=$(hbase_http /version/cluster 10) || return 1
  r=${r#200 \"}
  printf '%s\n' "${r%%\"*}"
}

hbase_log_tail() {
  local f
  for f in "$HBASE_LOGS/master.out" "$HBASE_LOGS/master.log" "$HBASE_LOGS/rest.out" \
    "$HBASE_LOGS/rest.log"; do
    [[ -s $f ]] || continue
    warn "---- last lines of $f ----"
    tail -n 30 "$f" >&2
  done
}

hbase_start_master() {
  local java
  java=$(java_bin)
  say "hbase: starting HMaster (ZooKeeper $HBASE_ZK, master 16000/16010, regionserver 16020/16030)"
  start_bg "$HBASE_PIDFILE" "$HBASE_LOGS/master.out" \
    "$java" -Xms256m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=50 -XX:OnOutOfMemoryError="kill -9 %p" \
    "${HBASE_JVM_FLAGS[@]}" \
    -Dhbase.log.dir="$HBASE_LOGS" -Dhbase.log.file=master.log \
    -Dlog4j2.configurationFile="$HBASE_SRC/log4j2.properties" \
    -cp "$HBASE_CONF_DIR:$HBASE_LIB/*" \
    -Dherald.hbase.home="$HBASE_HOME" org.apache.hadoop.hbase.master.HMaster start
}

hbase_start_rest() {
  local java
  java=$(java_bin)
  say "hbase: starting the REST gateway on $HBASE_REST_URL"
  start_bg "$HBASE_REST_PIDFILE" "$HBASE_LOGS/rest.out" \
    "$java" -Xms64m -Xmx384m -XX:+UseSerialGC -XX:OnOutOfMemoryError="kill -9 %p" \
    "${HBASE_JVM_FLAGS[@]}" -Dsun.net.httpserver.nodelay=true \
    -Dhbase.log.dir="$HBASE_LOGS" -Dhbase.log.file=rest.log \
    -Dlog4j2.configurationFile="$HBASE_SRC/log4j2.properties" \
    -cp "$HBASE_CONF_DIR:$HBASE_LIB/*:$HBASE_GW" \
    -Dherald.hbase.home="$HBASE_HOME" HeraldHBaseRest "$HBASE_REST_PORT" "$HBASE_HOST"
}

hbase_up() {
  local pid rpid start p
  if pid=$(hbase_pid); then
    if rpid=$(hbase_rest_pid) && hbase_ping; then
      say "hbase: already running (master pid $pid, REST pid $rpid, $HBASE_REST_URL, ZooKeeper $HBASE_ZK)"
      hbase_jars_current \
        || warn "hbase: scripts/services/hbase/pom.xml changed since the jars were fetched; run: $0 down hbase && $0 up hbase"
      return 0
    fi
    if ! rpid=$(hbase_rest_pid); then
      # The master runs but the gateway died: restart the gateway only.
      port_open "$HBASE_HOST" "$HBASE_REST_PORT" \
        && die "hbase: $HBASE_HOST:$HBASE_REST_PORT is taken by a process this script did not start"
      hbase_compile_gateway
      hbase_start_rest
    fi
  else
    if rpid=$(hbase_rest_pid); then
      warn "hbase: REST gateway (pid $rpid) runs without a master; restarting it"
      stop_pid "$rpid" "hbase REST gateway"
    fi
    rm -f "$HBASE_PIDFILE" "$HBASE_REST_PIDFILE"
    for p in "$HBASE_ZK_PORT" "${HBASE_PORTS[@]}" "$HBASE_REST_PORT"; do
      if port_open "$HBASE_HOST" "$p"; then
        die "hbase: port $HBASE_HOST:$p is taken by a process this script did not start"
      fi
    done
    hbase_fetch
    hbase_compile_gateway
    hbase_write_config
    hbase_start_master
  fi

  start=$SECONDS
  while ((SECONDS - start < HBASE_START_TIMEOUT)); do
    if ! pid=$(hbase_pid); then
      hbase_log_tail
      if rpid=$(hbase_rest_pid); then stop_pid "$rpid" "hbase REST gateway"; fi
      rm -f "$HBASE_PIDFILE" "$HBASE_REST_PIDFILE"
      die "hbase: HMaster exited during startup (logs: $HBASE_LOGS)"
    fi
    # The gateway's HBase client reads ZooKeeper first: start it once ZooKeeper listens.
    if ! rpid=$(hbase_rest_pid); then
      if [[ -s $HBASE_REST_PIDFILE ]]; then
        hbase_log_tail
        die "hbase: the REST gateway exited during startup (logs: $HBASE_LOGS)"
      fi
      if port_open "$HBASE_HOST" "$HBASE_ZK_PORT"; then
        hbase_start_rest
      fi
    elif hbase_healthy; then
      say "hbase: up (HBase $(hbase_version), master pid $pid, REST pid $rpid, $HBASE_REST_URL, ZooKeeper $HBASE_ZK) in $((SECONDS - start)) s"
      return 0
    fi
    sleep 0.5
  done
  hbase_log_tail
  die "hbase: not healthy after ${HBASE_START_TIMEOUT} s (master pid $pid still running; logs: $HBASE_LOGS)"
}

hbase_down() {
  local purge=$1 pid start
  if pid=$(hbase_rest_pid); then
    say "hbase: stopping the REST gateway (pid $pid)"
    stop_pid "$pid" "hbase REST gateway"
  fi
  if pid=$(hbase_pid); then
    # A cluster shutdown through the master (what `hbase master stop --shutDownCluster` does)
    # flushes and closes every region. A plain SIGTERM takes longer here (~20 s: ZooKeeper, which
    # runs in the same JVM, goes first and the regionserver retries it) and leaves the WAL to be
    # replayed at the next start; it stays the fallback.
    say "hbase: stopping HMaster (pid $pid)"
    start=$SECONDS
    if timeout 60 "$SHELL_SELF" tool hbase org.apache.hadoop.hbase.master.HMaster stop \
      --shutDownCluster >"$HBASE_LOGS/stop.out" 2>&1; then
      while kill -0 "$pid" 2>/dev/null && ((SECONDS - start < 90)); do
        sleep 0.2
      done
    else
      warn "hbase: cluster shutdown request failed (see $HBASE_LOGS/stop.out); sending SIGTERM"
    fi
    stop_pid "$pid" "hbase master"
    say "hbase: stopped"
  else
    say "hbase: not running"
  fi
  rm -f "$HBASE_PIDFILE" "$HBASE_REST_PIDFILE"
  if [[ $purge == purge ]]; then
    rm -rf "$HBASE_DATA" "$HBASE_TMP"
    say "hbase: data purged ($HBASE_DATA)"
  fi
}

hbase_status() {
  local pid rpid
  if pid=$(hbase_pid); then
    if ! rpid=$(hbase_rest_pid); then
      say "hbase: REST gateway not running (master pid $pid alive; run: $0 up hbase)"
      return 1
    fi
    if hbase_ping; then
      say "hbase: running (master pid $pid, REST pid $rpid, $HBASE_REST_URL, ZooKeeper $HBASE_ZK)"
      return 0
    fi
    say "hbase: not answering (master pid $pid, REST pid $rpid alive, $HBASE_REST_URL/version/cluster fails)"
    return 1
  fi
  say "hbase: stopped"
  return 1
}

hbase_env() {
  echo "export HERALD_HBASE_REST_URL=$HBASE_REST_URL"
  echo "export HERALD_HBASE_ZK=$HBASE_ZK"
}

# hbase_tool CLASS ARG...: run a class from the HBase jars with this instance's hbase-site.xml,
# e.g. org.apache.hadoop.hbase.util.VersionInfo or org.apache.hadoop.hbase.zookeeper.ZKMainServer.
hbase_tool() {
  local java
  java=$(java_bin)
  [[ -d $HBASE_LIB ]] || die "hbase: no jars in $HBASE_LIB yet (run: $0 up hbase)"
  [[ -f $HBASE_CONF_DIR/hbase-site.xml ]] || hbase_write_config
  "$java" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "${HBASE_JVM_FLAGS[@]}" \
    -Dhbase.log.dir="$HBASE_LOGS" -Dhbase.log.file=tool.log \
    -Dlog4j2.configurationFile="$HBASE_SRC/log4j2.properties" \
    -cp "$HBASE_CONF_DIR:$HBASE_LIB/*" "$@"
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

#!/usr/bin/env bash
# Builds the Kafka client (@confluentinc/kafka-javascript, librdkafka) for the project's pinned
# Node.js, once. Only the kafka profile needs it; `npm ci` installs the package but does not build
# it (its install script is not approved: under npm's own Node it would build for the wrong ABI).
#
#   npm run setup:kafka          # build unless it already loads
#   npm run setup:kafka -- --force
#
# Steps: Debian build dependencies (apt-get, when root) → Node.js headers of this exact version
# from the npm registry package node-linux-<arch> (no nodejs.org download) → node-gyp rebuild with
# CKJS_LINKING=dynamic (librdkafka links against the system zstd/lz4/sasl/curl/ssl libraries
# instead of downloading their sources) → load check.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=node_modules/@confluentinc/kafka-javascript
say() { printf 'setup-kafka: %s\n' "$*"; }

force=0
[[ "${1:-}" == "--force" ]] && force=1

if [[ ! -d "$PKG" ]]; then
  say "$PKG is missing: run npm ci first"
  exit 1
fi
node_version=$(node -p 'process.versions.node')
if [[ $force == 0 ]] && node -e "require('@confluentinc/kafka-javascript')" 2>/dev/null; then
  say "already built for Node.js $node_version ($(node -p "require('@confluentinc/kafka-javascript').librdkafkaVersion" 2>/dev/null) librdkafka)"
  exit 0
fi

# 1. Debian build dependencies of librdkafka's dynamic linking.
debs=(libzstd-dev libsasl2-dev libcurl4-openssl-dev liblz4-dev libssl-dev zlib1g-dev)
missing=()
for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) == 0 ]]; then
    say "installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# 2. Headers of exactly this Node.js, from the npm registry (the machines reach no nodejs.org).
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) say "unsupported machine $(uname -m)"; exit 1 ;; esac
headers="${HERALD_CACHE_DIR:-$HOME/.cache/herald}/node-headers/node-v$node_version"
if [[ ! -f "$headers/include/node/node_version.h" ]]; then
  say "fetching Node.js $node_version headers (npm package node-linux-$arch@$node_version)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$node_version" >/dev/null)
  mkdir -p "$headers"
  tar -xzf "$tmp"/node-linux-"$arch"-"$node_version".tgz -C "$tmp" package/include
  rm -rf "$headers/include" && mv "$tmp/package/include" "$headers/include"
  rm -rf "$tmp"
fi

# 3. node-gyp (the copy bundled with npm), run by the project's Node.js.
npm_cli="${npm_execpath:-$(readlink -f "$(command -v npm)")}"
gyp="$(dirname "$npm_cli")/../node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$gyp" ]] || { say "node-gyp not found next to npm ($gyp)"; exit 1; }
say "building @confluentinc/kafka-javascript for Node.js $node_version (1-3 minutes)"
started=$SECONDS
# Under `npm run`, npm exports its config as npm_config_* (Debian's npm sets nodedir=/usr, the
# system Node 20's headers), and node-gyp lets those override --nodedir: pin it both ways. No -j:
# librdkafka's configure step is not declared as a dependency, so a parallel make races it.
export npm_config_nodedir="$headers" npm_package_config_node_gyp_nodedir="$headers"
(cd "$PKG" && CKJS_LINKING=dynamic node "$gyp" rebuild --nodedir="$headers" >"$OLDPWD/node_modules/.kafka-build.log" 2>&1) || {
  tail -30 node_modules/.kafka-build.log
  say "build failed; full log in node_modules/.kafka-build.log"
  exit 1
}

# 4. It must load under this Node.js.
node -e "const k=require('@confluentinc/kafka-javascript'); console.log('setup-kafka: built in $((SECONDS - started)) s: librdkafka ' + k.librdkafkaVersion + ' (' + k.features.join(',') + ')')"

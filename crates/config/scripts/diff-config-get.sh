#!/bin/bash
# Compares CONFIG GET * of Debian's redis-server and of shoal-config for the
# same command line, e.g.
#   crates/config/scripts/diff-config-get.sh /etc/redis/redis.conf --dir /tmp
# Set PASS when the config sets requirepass, PORT to pick another port.
# Needs: redis-server, redis-cli; builds the config_get example.
set -u
PORT=${PORT:-23470}
if [ -n "${PASS:-}" ]; then export REDISCLI_AUTH="$PASS"; fi
TARGET=${CARGO_TARGET_DIR:-/tmp/target-config}
CARGO_TARGET_DIR=$TARGET cargo build -q --manifest-path "$(dirname "$0")/../Cargo.toml" --example config_get || exit 1
out=$(mktemp -d)
redis-server "$@" --port "$PORT" --daemonize no --logfile "" --pidfile "" >"$out/redis.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" config get '*' | paste - - | sort >"$out/redis.tsv"
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
wait "$pid" 2>/dev/null
"$TARGET/debug/examples/config_get" "$@" --port "$PORT" --daemonize no --logfile "" --pidfile "" 2>"$out/shoal.err" |
    grep -v '^set-max-listpack' >"$out/shoal.tsv"
if diff "$out/redis.tsv" "$out/shoal.tsv"; then echo "same CONFIG GET *"; fi
cat "$out/shoal.err"
rm -rf "$out"

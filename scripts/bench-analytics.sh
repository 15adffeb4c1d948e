#!/usr/bin/env bash
# make bench, analytics (bench/analytics.py): a tenant of 200 agents and a year of conversations
# generated through the consumer's own SQL function, then the per-agent 30-day report and the
# records' first page with a text filter (p95), the event → figure lag at 500 messages/s, and
# the outbox's publish rate with analytics running against stopped. Its own throwaway cluster
# and release builds. KEFU_BENCH_ANALYTICS_SCALE (default 1: 1,000,000 conversations,
# 10,000,000 messages) makes a smaller run possible, e.g. 0.01.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT="${KEFU_BENCH_ANALYTICS_PG_PORT:-5438}"
ACCOUNTS_PORT="${KEFU_BENCH_ANALYTICS_ACCOUNTS_PORT:-18087}"
RECEPTION_PORT="${KEFU_BENCH_ANALYTICS_RECEPTION_PORT:-18088}"
ANALYTICS_PORT="${KEFU_BENCH_ANALYTICS_PORT:-18089}"
ensure_build_tools
DATA="$(mktemp -d /tmp/kefu-bench-analytics.XXXXXX)"
chmod 755 "$DATA"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
cluster_up "$DATA/pg" "$PORT" max_connections=100 shared_buffers=512MB maintenance_work_mem=256MB
# KEFU_BENCH_BUILD=debug: a quick dry run of this script (its figures mean nothing).
CONFIG="${KEFU_BENCH_BUILD:-release}"
log "building ($CONFIG)"
build() { if [ "$CONFIG" = release ]; then release_build "$@"; else swift build -c "$CONFIG" "$@"; fi; }
for product in kefu-accounts kefu-reception kefu-analytics; do build --product "$product"; done
bin="$(build --show-bin-path)"
ensure_jwt_keys "$DATA/keys"
export KEFU_PLATFORM_TOKEN="bench-platform-token-$(openssl rand -hex 8)"
export KEFU_DATABASE_URL="postgres://kefu_app:kefu_app@127.0.0.1:$PORT/kefu"
export KEFU_MIGRATION_DATABASE_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PORT/kefu" KEFU_SCHEMA_DIR="$ROOT/schema"
export KEFU_JWT_PRIVATE_KEY_FILE="$DATA/keys/jwt-es256.pem" KEFU_JWT_PUBLIC_KEY_FILES="$DATA/keys/jwt-es256.pub.pem"
export KEFU_SECRETS_KEY_FILE="$DATA/keys/secrets.key" KEFU_LOG_LEVEL=notice
export KEFU_ACCOUNTS_PORT="$ACCOUNTS_PORT" KEFU_RECEPTION_PORT="$RECEPTION_PORT" KEFU_ANALYTICS_PORT="$ANALYTICS_PORT"
export KEFU_RECEPTION_URL="http://127.0.0.1:$RECEPTION_PORT"
"$bin/kefu-accounts" >"$DATA/accounts.log" 2>&1 &
pids+=($!)
"$bin/kefu-reception" >"$DATA/reception.log" 2>&1 &
pids+=($!)
for port in "$ACCOUNTS_PORT" "$RECEPTION_PORT"; do
    for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 1; done
done
"$bin/kefu-analytics" >"$DATA/analytics.log" 2>&1 &
analytics_pid=$!
pids+=($analytics_pid)
for port in "$ACCOUNTS_PORT" "$RECEPTION_PORT" "$ANALYTICS_PORT"; do
    for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 1; done
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { tail -20 "$DATA"/*.log >&2; die "a service did not start"; }
done
log "analytics: scale ${KEFU_BENCH_ANALYTICS_SCALE:-1} of 1,000,000 conversations, then reads and 500 messages/s for ${KEFU_BENCH_SECONDS:-10}s"
KEFU_ACCOUNTS_LOG="$DATA/accounts.log" KEFU_BENCH_WORK="$DATA" KEFU_BENCH_PG_PORT="$PORT" \
    KEFU_BENCH_OWNER_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PORT/kefu" KEFU_BENCH_PGBENCH="$(pg_bin)/pgbench" \
    KEFU_BENCH_ANALYTICS_URL="http://127.0.0.1:$ANALYTICS_PORT" KEFU_BENCH_ANALYTICS_PID="$analytics_pid" \
    python3 bench/analytics.py || { tail -20 "$DATA/analytics.log" >&2; die "the analytics benchmark failed"; }

#!/usr/bin/env bash
# make bench, webhook delivery (bench/webhooks.py): deliveries per second to a local receiver
# against the same signed POSTs from a bare HTTP client, and the lag from an event's commit to
# its first attempt at 200 events per second. Its own throwaway cluster and release builds.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT="${KEFU_BENCH_WEBHOOK_PG_PORT:-5437}"
ACCOUNTS_PORT="${KEFU_BENCH_WEBHOOK_ACCOUNTS_PORT:-18085}"
RECEIVER_PORT="${KEFU_BENCH_WEBHOOK_RECEIVER_PORT:-18086}"
ensure_build_tools
DATA="$(mktemp -d /tmp/kefu-bench-webhooks.XXXXXX)"
chmod 755 "$DATA"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
cluster_up "$DATA/pg" "$PORT" max_connections=100
# KEFU_BENCH_BUILD=debug: a quick dry run of this script (its figures mean nothing).
CONFIG="${KEFU_BENCH_BUILD:-release}"
log "building ($CONFIG)"
build() { if [ "$CONFIG" = release ]; then release_build "$@"; else swift build -c "$CONFIG" "$@"; fi; }
build --product kefu-bench
build --product kefu-accounts
bin="$(build --show-bin-path)"
ensure_jwt_keys "$DATA/keys"
export KEFU_PLATFORM_TOKEN="bench-platform-token-$(openssl rand -hex 8)"
"$bin/kefu-bench" webhook-receiver --port "$RECEIVER_PORT" >"$DATA/receiver.log" 2>&1 &
pids+=($!)
KEFU_ACCOUNTS_PORT="$ACCOUNTS_PORT" KEFU_DATABASE_URL="postgres://kefu_app:kefu_app@127.0.0.1:$PORT/kefu" \
    KEFU_MIGRATION_DATABASE_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PORT/kefu" KEFU_SCHEMA_DIR="$ROOT/schema" \
    KEFU_JWT_PRIVATE_KEY_FILE="$DATA/keys/jwt-es256.pem" KEFU_JWT_PUBLIC_KEY_FILES="$DATA/keys/jwt-es256.pub.pem" \
    KEFU_SECRETS_KEY_FILE="$DATA/keys/secrets.key" KEFU_LOG_LEVEL=notice KEFU_WEBHOOK_ALLOW_PRIVATE=1 \
    "$bin/kefu-accounts" >"$DATA/accounts.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$ACCOUNTS_PORT/readyz" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "http://127.0.0.1:$ACCOUNTS_PORT/readyz" >/dev/null || { tail -20 "$DATA/accounts.log" >&2; die "kefu-accounts did not start"; }
log "webhooks: ${KEFU_BENCH_WEBHOOK_COUNT:-2000} events at once, then 200 events/s for ${KEFU_BENCH_SECONDS:-10}s"
KEFU_ACCOUNTS_PORT="$ACCOUNTS_PORT" KEFU_ACCOUNTS_LOG="$DATA/accounts.log" KEFU_BENCH_WORK="$DATA" KEFU_BENCH_BIN="$bin" \
    KEFU_BENCH_OWNER_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PORT/kefu" KEFU_BENCH_PG_PORT="$PORT" \
    KEFU_BENCH_RECEIVER_URL="http://127.0.0.1:$RECEIVER_PORT" KEFU_BENCH_PGBENCH="$(pg_bin)/pgbench" \
    python3 bench/webhooks.py || { tail -20 "$DATA/accounts.log" >&2; die "the webhook benchmark failed"; }

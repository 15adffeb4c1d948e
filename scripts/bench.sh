#!/usr/bin/env bash
# make bench: each Kefu figure beside a baseline measured on the same machine in the same run.
# A throwaway cluster with durable defaults on its own port; release builds.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT="${KEFU_BENCH_PG_PORT:-5435}"
# As many clients as a service's default pool has connections.
CLIENTS="${KEFU_BENCH_CLIENTS:-8}"
SECONDS_PER_RUN="${KEFU_BENCH_SECONDS:-10}"
ensure_build_tools
DATA="$(mktemp -d /tmp/kefu-bench-pg.XXXXXX)"
chmod 755 "$DATA"
trap 'cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
cluster_up "$DATA/pg" "$PORT" max_connections=100

APP_URL="postgres://kefu_app:kefu_app@127.0.0.1:$PORT/kefu"
OWNER_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PORT/kefu"
log "building (release)"
swift build -c release --product kefu-bench
swift build -c release --product kefu-accounts
bin="$(swift build -c release --show-bin-path)"
KEFU_MIGRATION_DATABASE_URL="$OWNER_URL" KEFU_SCHEMA_DIR="$ROOT/schema" "$bin/kefu-accounts" migrate 2>/dev/null
psql "$OWNER_URL" -q -v ON_ERROR_STOP=1 -f bench/setup.sql

tenant="$(cat /proc/sys/kernel/random/uuid)"
pgbench_rate() {
    PGPASSWORD=kefu_app "$(pg_bin)/pgbench" -h 127.0.0.1 -p "$PORT" -U kefu_app -n -M "$1" \
        -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_PER_RUN" -D tenant="$tenant" -f bench/publish.pgbench kefu 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
kefu_rate() {
    "$bin/kefu-bench" publish --clients "$CLIENTS" --seconds "$SECONDS_PER_RUN" --database-url "$APP_URL" --tenant "$tenant" |
        sed -n 's/^publish_tx_per_second=//p'
}

log "event publish: $CLIENTS clients, ${SECONDS_PER_RUN}s per run, alternating, best of two"
best() { printf '%s\n' "$@" | sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
e1="$(pgbench_rate extended)"; p1="$(pgbench_rate prepared)"; k1="$(kefu_rate)"
e2="$(pgbench_rate extended)"; p2="$(pgbench_rate prepared)"; k2="$(kefu_rate)"
extended="$(best "$e1" "$e2")"; prepared="$(best "$p1" "$p2")"; kefu="$(best "$k1" "$k2")"
echo
echo "Event publish: one transaction (BEGIN, set the tenant, insert a row, insert the outbox event"
echo "with its NOTIFY trigger, COMMIT), $CLIENTS clients, same cluster, same run"
printf '  pgbench -M prepared (same SQL)   %10.1f tx/s   (runs: %s, %s)\n' "$prepared" "$p1" "$p2"
printf '  pgbench -M extended (same SQL)   %10.1f tx/s   (runs: %s, %s)\n' "$extended" "$e1" "$e2"
printf '  KefuCore publish                 %10.1f tx/s   (runs: %s, %s)\n' "$kefu" "$k1" "$k2"
printf '  ratio KefuCore / pgbench prepared  %s   (goal >= 0.60)\n' "$(ratio "$kefu" "$prepared")"
printf '  ratio KefuCore / pgbench extended  %s\n' "$(ratio "$kefu" "$extended")"

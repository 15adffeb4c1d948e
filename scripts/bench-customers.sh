#!/usr/bin/env bash
# make bench, the customer library (bench/customers.py): a tenant of a million customers beside
# ten small ones; p95 of a custom view's first and deep pages and its count, of phone and Chinese
# name searches, each against issue 12's goal; CSV import against COPY of the same rows. Its own
# throwaway cluster and release builds.
#   KEFU_BENCH_CUSTOMERS=100000 KEFU_BENCH_IMPORT_ROWS=5000   a quick run (figures for 1/10 and 1/20 the size)
#   KEFU_BENCH_BUILD=debug                                     a dry run of the script itself
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT="${KEFU_BENCH_CUSTOMERS_PG_PORT:-5439}"
CUSTOMERS_PORT="${KEFU_BENCH_CUSTOMERS_PORT:-18087}"
ensure_build_tools
ensure_packages 'command -v python3' python3
DATA="$(mktemp -d /tmp/kefu-bench-customers.XXXXXX)"
chmod 755 "$DATA"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
# The data set is 1.3 GB with its indexes: Postgres gets the memory a production server would
# give it for that (the default 128 MB would measure reads from the kernel's cache instead).
cluster_up "$DATA/pg" "$PORT" max_connections=100 shared_buffers=2GB
CONFIG="${KEFU_BENCH_BUILD:-release}"
log "building ($CONFIG)"
build() { if [ "$CONFIG" = release ]; then release_build "$@"; else swift build -c "$CONFIG" "$@"; fi; }
build --product kefu-bench
build --product kefu-customers
bin="$(build --show-bin-path)"
ensure_jwt_keys "$DATA/keys"
APP_URL="postgres://kefu_app:kefu_app@127.0.0.1:$PORT/kefu"
OWNER_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PORT/kefu"
KEFU_CUSTOMERS_PORT="$CUSTOMERS_PORT" KEFU_DATABASE_URL="$APP_URL" KEFU_MIGRATION_DATABASE_URL="$OWNER_URL" \
    KEFU_SCHEMA_DIR="$ROOT/schema" KEFU_JWT_PUBLIC_KEY_FILES="$DATA/keys/jwt-es256.pub.pem" \
    KEFU_SECRETS_KEY_FILE="$DATA/keys/secrets.key" KEFU_LOG_LEVEL=notice \
    "$bin/kefu-customers" >"$DATA/customers.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$CUSTOMERS_PORT/readyz" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "http://127.0.0.1:$CUSTOMERS_PORT/readyz" >/dev/null || { tail -20 "$DATA/customers.log" >&2; die "kefu-customers did not start"; }
log "customers: ${KEFU_BENCH_CUSTOMERS:-1000000} customers, then views, counts, searches and a ${KEFU_BENCH_IMPORT_ROWS:-100000}-row import"
KEFU_BENCH_CUSTOMERS_URL="http://127.0.0.1:$CUSTOMERS_PORT" KEFU_BENCH_APP_URL="$APP_URL" KEFU_BENCH_OWNER_URL="$OWNER_URL" \
    KEFU_BENCH_BIN="$bin" KEFU_BENCH_PRIVATE_KEY_FILE="$DATA/keys/jwt-es256.pem" KEFU_BENCH_WORK="$DATA" \
    python3 bench/customers.py || { tail -20 "$DATA/customers.log" >&2; die "the customer benchmark failed"; }

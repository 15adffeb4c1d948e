#!/usr/bin/env bash
# The API contract, checked from outside: accounts, reception, routing, customers and analytics run as built, the demo tenant is
# seeded through the APIs, and schemathesis sends every documented operation the examples and
# boundary cases of its OpenAPI document (fixed seed: the same cases every run). It fails on any
# 5xx, any status code, content type or body the document does not declare, and on an
# undocumented method not answered 405.
# Usage (make test runs it on its own cluster): contract-test.sh DATABASE_PORT
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PG_PORT="$1"
ACCOUNTS_PORT="${KEFU_CONTRACT_ACCOUNTS_PORT:-18181}"
RECEPTION_PORT="${KEFU_CONTRACT_RECEPTION_PORT:-18182}"
ROUTING_PORT="${KEFU_CONTRACT_ROUTING_PORT:-18183}"
CUSTOMERS_PORT="${KEFU_CONTRACT_CUSTOMERS_PORT:-18184}"
ANALYTICS_PORT="${KEFU_CONTRACT_ANALYTICS_PORT:-18185}"
python3 -c 'import schemathesis' 2>/dev/null || { log "installing schemathesis (PyPI)"; PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --user --no-warn-script-location schemathesis; }

WORK="$(mktemp -d /tmp/kefu-contract.XXXXXX)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
ensure_jwt_keys "$WORK/keys"
export KEFU_DATABASE_URL="postgres://kefu_app:kefu_app@127.0.0.1:$PG_PORT/kefu"
export KEFU_MIGRATION_DATABASE_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PG_PORT/kefu"
export KEFU_SCHEMA_DIR="$ROOT/schema" KEFU_DATA_DIR="$WORK"
export KEFU_PLATFORM_TOKEN="$(openssl rand -hex 24)"
export KEFU_ACCOUNTS_PORT="$ACCOUNTS_PORT" KEFU_RECEPTION_PORT="$RECEPTION_PORT" KEFU_ROUTING_PORT="$ROUTING_PORT" KEFU_CUSTOMERS_PORT="$CUSTOMERS_PORT" KEFU_ANALYTICS_PORT="$ANALYTICS_PORT" KEFU_ACCOUNTS_LOG="$WORK/accounts.log"
export KEFU_RECEPTION_URL="http://127.0.0.1:$RECEPTION_PORT"
bin="$(swift build --show-bin-path)"
for service in accounts reception routing customers analytics; do
    "$bin/kefu-$service" >"$WORK/$service.log" 2>&1 &
    pids+=($!)
done
for port in "$ACCOUNTS_PORT" "$RECEPTION_PORT" "$ROUTING_PORT" "$CUSTOMERS_PORT" "$ANALYTICS_PORT"; do
    for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 1; done
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { tail -20 "$WORK"/*.log >&2; die "a service under contract test did not start"; }
done
python3 scripts/seed-demo.py >/dev/null
token="$(python3 scripts/seed-demo.py --admin-token)"

check() {
    local name="$1" url="$2"; shift 2
    log "contract: $name"
    python3 -m schemathesis.cli run "$url/openapi.json" --phases examples,coverage --seed 20261126 --workers 1 \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,unsupported_method \
        --max-examples 20 "$@" >"$WORK/schemathesis-$name.log" 2>&1 \
        || { cat "$WORK/schemathesis-$name.log"; die "contract test of $name failed"; }
    grep -E -A1 "^Test cases:" "$WORK/schemathesis-$name.log" | tail -1 || true
}
check reception "http://127.0.0.1:$RECEPTION_PORT" -H "Authorization: Bearer $token"
check routing "http://127.0.0.1:$ROUTING_PORT" -H "Authorization: Bearer $token"
check customers "http://127.0.0.1:$CUSTOMERS_PORT" -H "Authorization: Bearer $token"
check analytics "http://127.0.0.1:$ANALYTICS_PORT" -H "Authorization: Bearer $token"
# Signing out or changing the admin's own password would end the session the run uses.
check accounts "http://127.0.0.1:$ACCOUNTS_PORT" -H "Authorization: Bearer $token" \
    --exclude-path-regex '^/v1/(auth/logout|me/password)$'

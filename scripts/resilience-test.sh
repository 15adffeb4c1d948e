#!/usr/bin/env bash
# Failures lose nothing (scripts/resilience.py): accounts and reception run as built while
# Postgres restarts under them, while they are killed mid-work and when they are asked to stop.
# Then routing as built, two replicas, over real sockets (scripts/routing-e2e.py).
# Usage (make test runs it last, on its own cluster): resilience-test.sh CLUSTER_DIR DATABASE_PORT
# KEEP_WORK=1 keeps the services' logs (the folder is printed first).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CLUSTER="$1"
PG_PORT="$2"
WORK="$(mktemp -d /tmp/kefu-resilience.XXXXXX)"
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
python3 -c 'import websockets.sync.client' 2>/dev/null || { log "installing websockets (PyPI)"; PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --user --no-warn-script-location 'websockets>=13'; }
ensure_jwt_keys "$WORK/keys"
export KEFU_DATABASE_URL="postgres://kefu_app:kefu_app@127.0.0.1:$PG_PORT/kefu"
export KEFU_MIGRATION_DATABASE_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PG_PORT/kefu"
export KEFU_SCHEMA_DIR="$ROOT/schema" KEFU_DATA_DIR="$WORK" KEFU_WORK="$WORK"
export KEFU_PLATFORM_TOKEN="$(openssl rand -hex 24)"
export KEFU_ACCOUNTS_PORT="${KEFU_RESILIENCE_ACCOUNTS_PORT:-18191}" KEFU_RECEPTION_PORT="${KEFU_RESILIENCE_RECEPTION_PORT:-18192}"
export KEFU_E2E_ROUTING_PORT="${KEFU_RESILIENCE_ROUTING_PORT:-18193}" KEFU_E2E_ROUTING_PORT_2="${KEFU_RESILIENCE_ROUTING_PORT_2:-18194}"
export KEFU_ACCOUNTS_LOG="$WORK/accounts.log"
export KEFU_BIN="$(swift build --show-bin-path)"
export KEFU_PSQL="$(pg_bin)/psql"
# The webhook receiver listens on 127.0.0.1; one second between attempts, so that the kill lands
# while deliveries wait for their next one.
export KEFU_WEBHOOK_ALLOW_PRIVATE=1 KEFU_WEBHOOK_RETRY_SCHEDULE="0,1,1,1,1,1,1,1" KEFU_WEBHOOK_TIMEOUT_SECONDS=5
# The receiver verifies deliveries with the library partners use.
python3 -c 'import standardwebhooks' 2>/dev/null || { log "installing standardwebhooks (PyPI)"; PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --user --no-warn-script-location standardwebhooks; }
# WeChat's side of the official-account tests (scripts/channels-e2e.py).
python3 -c 'import wechatpy' 2>/dev/null || { log "installing wechatpy (PyPI)"; PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --user --no-warn-script-location wechatpy; }
export KEFU_RESTART_POSTGRES="source '$ROOT/scripts/lib.sh'; cluster_restart '$CLUSTER'"
python3 scripts/resilience.py
python3 scripts/routing-e2e.py
python3 scripts/channels-e2e.py

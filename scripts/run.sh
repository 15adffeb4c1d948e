#!/usr/bin/env bash
# make run: packages if missing, the local cluster under .data/postgres (127.0.0.1:5433), keys,
# the build, and the five services in the background; waits until every /readyz answers.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DATA_DIR="$ROOT/.data"
PG_PORT="${KEFU_PG_PORT:-5433}"
export KEFU_DATA_DIR="$DATA_DIR"
export KEFU_DATABASE_URL="${KEFU_DATABASE_URL:-postgres://kefu_app:kefu_app@127.0.0.1:$PG_PORT/kefu}"
export KEFU_MIGRATION_DATABASE_URL="${KEFU_MIGRATION_DATABASE_URL:-postgres://kefu_owner:kefu_owner@127.0.0.1:$PG_PORT/kefu}"
export KEFU_SCHEMA_DIR="${KEFU_SCHEMA_DIR:-$ROOT/schema}"

ensure_build_tools
ensure_packages 'command -v python3' python3
mkdir -p "$DATA_DIR/logs" "$DATA_DIR/run"
chmod 755 "$DATA_DIR"
# The platform operator's token: from the environment, else made once and kept under .data.
if [ -z "${KEFU_PLATFORM_TOKEN:-}" ]; then
    [ -f "$DATA_DIR/platform-token" ] || (umask 077; openssl rand -hex 24 >"$DATA_DIR/platform-token")
    KEFU_PLATFORM_TOKEN="$(cat "$DATA_DIR/platform-token")"
fi
export KEFU_PLATFORM_TOKEN
cluster_up "$DATA_DIR/postgres" "$PG_PORT"
ensure_jwt_keys "$DATA_DIR/keys"

missing=()
for service in "${SERVICES[@]}"; do
    service_running "$service" || missing+=("$service")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "building"
    swift build
    bin="$(swift build --show-bin-path)"
    for service in "${missing[@]}"; do
        log "starting kefu-$service"
        nohup "$bin/kefu-$service" >>"$DATA_DIR/logs/$service.log" 2>&1 </dev/null &
        echo $! >"$DATA_DIR/run/$service.pid"
    done
else
    log "all services are already running (make stop, then make run, to restart them)"
fi

for service in "${SERVICES[@]}"; do
    port="$(service_port "$service")"
    for _ in $(seq 1 120); do
        curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        service_running "$service" || die "kefu-$service exited; see .data/logs/$service.log"
        sleep 1
    done
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 || die "kefu-$service is not ready after 120 s; see .data/logs/$service.log"
done

python3 "$ROOT/scripts/seed-demo.py"

echo
echo "Kefu is running:"
for service in "${SERVICES[@]}"; do
    printf '  %-10s http://127.0.0.1:%s   (log: .data/logs/%s.log)\n' "$service" "$(service_port "$service")" "$service"
done
echo "  database   $KEFU_DATABASE_URL"
echo "             (owner, for migrations: $KEFU_MIGRATION_DATABASE_URL)"
echo "  platform   KEFU_PLATFORM_TOKEN=$KEFU_PLATFORM_TOKEN"
echo
echo "Demo tenant 'demo' (password Demo12345 for everyone):"
echo "  admin (super admin; its second-factor code is written to .data/logs/accounts.log),"
echo "  supervisor (客服一部), agent1 (客服一部), agent2 (客服二部). Sign in, e.g.:"
echo "  curl -s localhost:8081/v1/auth/login -H 'Content-Type: application/json' \\"
echo "       -d '{\"tenant\":\"demo\",\"account\":\"agent1\",\"password\":\"Demo12345\"}'"
echo "Stop everything with: make stop"

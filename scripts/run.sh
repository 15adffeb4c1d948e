#!/usr/bin/env bash
# make run: packages if missing, this checkout's cluster (.data/postgres, see find_checkout_cluster
# in lib.sh; 127.0.0.1:5433), keys, the build, and the five services in the background; waits
# until every /readyz answers.
# --cluster-only: only the packages Postgres needs and the cluster (the clone test; no build).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CLUSTER_ONLY=""
case "${1:-}" in
    "") ;;
    --cluster-only) CLUSTER_ONLY=1 ;;
    *) die "usage: run.sh [--cluster-only]" ;;
esac

DATA_DIR="$ROOT/.data"
PG_PORT="${KEFU_PG_PORT:-5433}"
export KEFU_DATA_DIR="$DATA_DIR"
export KEFU_DATABASE_URL="${KEFU_DATABASE_URL:-postgres://kefu_app:kefu_app@127.0.0.1:$PG_PORT/kefu}"
export KEFU_MIGRATION_DATABASE_URL="${KEFU_MIGRATION_DATABASE_URL:-postgres://kefu_owner:kefu_owner@127.0.0.1:$PG_PORT/kefu}"
export KEFU_SCHEMA_DIR="${KEFU_SCHEMA_DIR:-$ROOT/schema}"
# A developer points webhooks at a receiver on their own machine (off by default elsewhere).
export KEFU_WEBHOOK_ALLOW_PRIVATE="${KEFU_WEBHOOK_ALLOW_PRIVATE:-1}"

pg_bin >/dev/null
if [ -z "$CLUSTER_ONLY" ]; then
    ensure_build_tools
    ensure_packages 'command -v python3' python3
fi
create_checkout_cluster

# Everything that must be free is checked before the (long) build, and named with its variable.
taken=()
running_port="$(cluster_running_port "$PG_DATA")"
if [ -n "$running_port" ]; then
    [ "$running_port" = "$PG_PORT" ] || die "this checkout's cluster is already running on port $running_port, not $PG_PORT (KEFU_PG_PORT): run make stop first, or set KEFU_PG_PORT=$running_port"
elif port_in_use "$PG_PORT"; then
    taken+=("$PG_PORT (Postgres) is in use by another process: set KEFU_PG_PORT")
fi
running=()
missing=()
if [ -z "$CLUSTER_ONLY" ]; then
    for service in "${SERVICES[@]}"; do
        port="$(service_port "$service")"
        variable="KEFU_$(echo "$service" | tr '[:lower:]' '[:upper:]')_PORT"
        if service_running "$service"; then
            started_port="$(cat "$DATA_DIR/run/$service.port" 2>/dev/null || echo "$port")"
            [ "$started_port" = "$port" ] || die "kefu-$service is already running on port $started_port, not $port ($variable): run make stop first, or set $variable=$started_port"
            running+=("$service")
        else
            missing+=("$service")
            if port_in_use "$port"; then taken+=("$port (kefu-$service) is in use by another process: set $variable"); fi
        fi
    done
fi
if [ ${#taken[@]} -gt 0 ]; then
    printf 'error: port %s to a free one\n' "${taken[@]}" >&2
    die "make run needs those ports: stop what listens there, or set the variables named (e.g. KEFU_PG_PORT=5440 make run) and keep them for later make runs (make stop needs none)"
fi

if [ -z "$CLUSTER_ONLY" ]; then
    mkdir -p "$DATA_DIR/logs" "$DATA_DIR/run"
    # The platform operator's token: from the environment, else made once and kept under .data.
    token_source=environment
    if [ -z "${KEFU_PLATFORM_TOKEN:-}" ]; then
        token_source=file
        [ -f "$DATA_DIR/platform-token" ] || (umask 077; openssl rand -hex 24 >"$DATA_DIR/platform-token")
        KEFU_PLATFORM_TOKEN="$(cat "$DATA_DIR/platform-token")"
    fi
    export KEFU_PLATFORM_TOKEN
    # Services already running keep the token they started with: a different one now would only
    # show as a 401 from the demo seed, so compare digests (the token itself is not written).
    token_record="$DATA_DIR/run/platform-token.sha256"
    token_digest="$(printf '%s' "$KEFU_PLATFORM_TOKEN" | sha256sum | cut -d' ' -f1)"
    if [ ${#running[@]} -gt 0 ] && [ -f "$token_record" ]; then
        read -r started_digest started_source <"$token_record" || true
        if [ "$started_digest" != "$token_digest" ]; then
            if [ "$started_source" = file ]; then
                hint="or unset KEFU_PLATFORM_TOKEN to keep the one in .data/platform-token they use"
            else
                hint="or set KEFU_PLATFORM_TOKEN to the value they were started with"
            fi
            die "the running services (${running[*]}) were started with another KEFU_PLATFORM_TOKEN than this one (from $([ "$token_source" = file ] && echo .data/platform-token || echo your environment)): run make stop first to restart them with it, $hint"
        fi
    fi
fi

cluster_up "$PG_DATA" "$PG_PORT"
if [ -n "$CLUSTER_ONLY" ]; then
    log "the cluster of $ROOT runs on 127.0.0.1:$PG_PORT (data in $PG_DATA)"
    exit 0
fi
ensure_jwt_keys "$DATA_DIR/keys"

if [ ${#missing[@]} -gt 0 ]; then
    log "building$([ -d "$ROOT/.build" ] || echo ' (the first build takes about 13 minutes on 2 cores)')"
    swift build
    bin="$(swift build --show-bin-path)"
    [ ${#running[@]} -gt 0 ] || printf '%s %s\n' "$token_digest" "$token_source" >"$token_record"
    for service in "${missing[@]}"; do
        log "starting kefu-$service"
        nohup "$bin/kefu-$service" >>"$DATA_DIR/logs/$service.log" 2>&1 </dev/null &
        echo $! >"$DATA_DIR/run/$service.pid"
        service_port "$service" >"$DATA_DIR/run/$service.port"
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
echo "  cluster    $PG_DATA"
echo "  platform   KEFU_PLATFORM_TOKEN=$KEFU_PLATFORM_TOKEN"
echo
echo "Demo tenant 'demo' (password Demo12345 for everyone):"
echo "  admin (super admin; its second-factor code is written to .data/logs/accounts.log),"
echo "  supervisor (客服一部), agent1 (客服一部), agent2 (客服二部). Sign in, e.g.:"
echo "  curl -s localhost:$(service_port accounts)/v1/auth/login -H 'Content-Type: application/json' \\"
echo "       -d '{\"tenant\":\"demo\",\"account\":\"agent1\",\"password\":\"Demo12345\"}'"
echo "Stop everything with: make stop"

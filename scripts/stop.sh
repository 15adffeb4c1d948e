#!/usr/bin/env bash
# make stop: stops exactly the services make run started (by their pid files), then this
# checkout's cluster (.data/postgres, see find_checkout_cluster in lib.sh).
# --clean-data (make clean-data): then deletes the cluster, wherever it lives, and .data.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CLEAN=""
case "${1:-}" in
    "") ;;
    --clean-data) CLEAN=1 ;;
    *) die "usage: stop.sh [--clean-data]" ;;
esac

DATA_DIR="$ROOT/.data"
# Found first: it may say this checkout's cluster belongs to another user before anything stops.
find_checkout_cluster
for service in "${SERVICES[@]}"; do
    pidfile="$DATA_DIR/run/$service.pid"
    if service_running "$service"; then
        pid="$(cat "$pidfile")"
        log "stopping kefu-$service (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "kefu-$service ignored SIGTERM; killing it"; kill -KILL "$pid"; }
    fi
    rm -f "$pidfile" "$DATA_DIR/run/$service.port"
done
rm -f "$DATA_DIR/run/platform-token.sha256"
if [ -n "$CLEAN" ]; then
    [ -z "$PG_DATA" ] || cluster_remove "$PG_DATA"
    log "deleting $DATA_DIR"
    rm -rf "$DATA_DIR"
elif [ -n "$PG_DATA" ]; then
    cluster_down "$PG_DATA"
fi

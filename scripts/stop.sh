#!/usr/bin/env bash
# make stop: stops exactly the services make run started (by their pid files), then the cluster.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DATA_DIR="$ROOT/.data"
for service in "${SERVICES[@]}"; do
    pidfile="$DATA_DIR/run/$service.pid"
    if service_running "$service"; then
        pid="$(cat "$pidfile")"
        log "stopping kefu-$service (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "kefu-$service ignored SIGTERM; killing it"; kill -KILL "$pid"; }
    fi
    rm -f "$pidfile"
done
cluster_down "$DATA_DIR/postgres"

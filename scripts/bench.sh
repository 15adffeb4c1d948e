#!/usr/bin/env bash
# make bench: each Kefu figure beside a baseline measured on the same machine in the same run.
# A throwaway cluster with durable defaults on its own port; release builds.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT="${KEFU_BENCH_PG_PORT:-5435}"
# As many clients as a service's default pool has connections.
CLIENTS="${KEFU_BENCH_CLIENTS:-8}"
SECONDS_PER_RUN="${KEFU_BENCH_SECONDS:-10}"
# KEFU_BENCH_ONLY="routing webhooks" measures only those parts (publish rules accounts reception
# routing webhooks …); everything they need is still set up. Empty: all of them.
ONLY="${KEFU_BENCH_ONLY:-}"
part() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
ensure_build_tools
DATA="$(mktemp -d /tmp/kefu-bench-pg.XXXXXX)"
chmod 755 "$DATA"
trap 'cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
cluster_up "$DATA/pg" "$PORT" max_connections=100

APP_URL="postgres://kefu_app:kefu_app@127.0.0.1:$PORT/kefu"
OWNER_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PORT/kefu"
log "building (release)"
release_build --product kefu-bench
release_build --product kefu-accounts
release_build --product kefu-reception
bin="$(release_build --show-bin-path)"
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

best() { printf '%s\n' "$@" | sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
if part publish; then
log "event publish: $CLIENTS clients, ${SECONDS_PER_RUN}s per run, alternating, best of two"
e1="$(pgbench_rate extended)"; p1="$(pgbench_rate prepared)"; k1="$(kefu_rate)"
e2="$(pgbench_rate extended)"; p2="$(pgbench_rate prepared)"; k2="$(kefu_rate)"
extended="$(best "$e1" "$e2")"; prepared="$(best "$p1" "$p2")"; kefu="$(best "$k1" "$k2")"
echo
echo "Event publish: one transaction (BEGIN, set the tenant, insert a row, insert the outbox event"
echo "and COMMIT, then its NOTIFY wake-up), $CLIENTS clients, same cluster, same run"
printf '  pgbench -M prepared (same SQL)   %10.1f tx/s   (runs: %s, %s)\n' "$prepared" "$p1" "$p2"
printf '  pgbench -M extended (same SQL)   %10.1f tx/s   (runs: %s, %s)\n' "$extended" "$e1" "$e2"
printf '  KefuCore publish                 %10.1f tx/s   (runs: %s, %s)\n' "$kefu" "$k1" "$k2"
printf '  ratio KefuCore / pgbench prepared  %s   (goal >= 0.60)\n' "$(ratio "$kefu" "$prepared")"
printf '  ratio KefuCore / pgbench extended  %s\n' "$(ratio "$kefu" "$extended")"
fi

# --- The condition language: 200 compiled rules for one visitor (goal: under 50 µs) -----------
if part rules; then
log "rules: 200 compiled rules evaluated for one visitor"
rules_us="$("$bin/kefu-bench" rules --rules 200 | sed -n 's/^rules_evaluation_microseconds=//p')"
echo
echo "Condition language"
printf '  200 rules, one visitor            %8s µs per evaluation   (goal < 50)\n' "$rules_us"
fi

# --- Accounts: authenticated /v1/me against /healthz, sign-in against the bare bcrypt cost ----
# (one client signing in as one agent over and over: the sign-in rate limits are lifted)
ensure_packages 'command -v wrk' wrk
ensure_packages 'command -v python3' python3
release_build --product kefu-accounts
ensure_jwt_keys "$DATA/keys"
ACCOUNTS_PORT="${KEFU_BENCH_ACCOUNTS_PORT:-18081}"
ACCOUNTS_LOG="$DATA/accounts.log"
export KEFU_PLATFORM_TOKEN="bench-platform-token-$(openssl rand -hex 8)"
KEFU_ACCOUNTS_PORT="$ACCOUNTS_PORT" KEFU_DATABASE_URL="$APP_URL" KEFU_MIGRATION_DATABASE_URL="$OWNER_URL" \
    KEFU_SCHEMA_DIR="$ROOT/schema" KEFU_JWT_PRIVATE_KEY_FILE="$DATA/keys/jwt-es256.pem" \
    KEFU_JWT_PUBLIC_KEY_FILES="$DATA/keys/jwt-es256.pub.pem" KEFU_SECRETS_KEY_FILE="$DATA/keys/secrets.key" KEFU_LOG_LEVEL=notice \
    KEFU_RATE_LIMIT_PER_ADDRESS=100000000 KEFU_RATE_LIMIT_PER_ACCOUNT=100000000 \
    "$bin/kefu-accounts" >"$ACCOUNTS_LOG" 2>&1 &
accounts_pid=$!
trap 'kill "$accounts_pid" 2>/dev/null || true; cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
# Reception too: the demo seed sets it up, and its snapshot is measured below.
RECEPTION_PORT="${KEFU_BENCH_RECEPTION_PORT:-18082}"
RECEPTION_LOG="$DATA/reception.log"
KEFU_RECEPTION_PORT="$RECEPTION_PORT" KEFU_DATABASE_URL="$APP_URL" KEFU_MIGRATION_DATABASE_URL="$OWNER_URL" \
    KEFU_SCHEMA_DIR="$ROOT/schema" KEFU_JWT_PUBLIC_KEY_FILES="$DATA/keys/jwt-es256.pub.pem" \
    KEFU_SECRETS_KEY_FILE="$DATA/keys/secrets.key" KEFU_LOG_LEVEL=notice \
    "$bin/kefu-reception" >"$RECEPTION_LOG" 2>&1 &
reception_pid=$!
trap 'kill "$accounts_pid" "$reception_pid" 2>/dev/null || true; cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
for port in "$ACCOUNTS_PORT" "$RECEPTION_PORT"; do
    for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 1; done
done
KEFU_ACCOUNTS_PORT="$ACCOUNTS_PORT" KEFU_RECEPTION_PORT="$RECEPTION_PORT" KEFU_ACCOUNTS_LOG="$ACCOUNTS_LOG" \
    python3 "$ROOT/scripts/seed-demo.py" >/dev/null
token="$(curl -fsS "http://127.0.0.1:$ACCOUNTS_PORT/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"tenant":"demo","account":"agent1","password":"Demo12345"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

wrk_rate() { wrk "$@" 2>/dev/null | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'; }
if part accounts; then
log "accounts: /healthz and /v1/me, 16 connections, ${SECONDS_PER_RUN}s each, best of two"
h1="$(wrk_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$ACCOUNTS_PORT/healthz")"
m1="$(wrk_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" -H "Authorization: Bearer $token" "http://127.0.0.1:$ACCOUNTS_PORT/v1/me")"
h2="$(wrk_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$ACCOUNTS_PORT/healthz")"
m2="$(wrk_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" -H "Authorization: Bearer $token" "http://127.0.0.1:$ACCOUNTS_PORT/v1/me")"
healthz="$(best "$h1" "$h2")"; me="$(best "$m1" "$m2")"
log "accounts: sign-in (bcrypt cost 12) against bare bcrypt verifies on every core"
l1="$(wrk_rate -t2 -c8 -d"${SECONDS_PER_RUN}s" -s "$ROOT/bench/login.lua" "http://127.0.0.1:$ACCOUNTS_PORT/v1/auth/login")"
b1="$("$bin/kefu-bench" bcrypt --cost 12 --seconds "$SECONDS_PER_RUN" | sed -n 's/^bcrypt_verifies_per_second=//p')"
echo
echo "Accounts, same server, same run"
printf '  GET /healthz                     %10.1f req/s   (runs: %s, %s)\n' "$healthz" "$h1" "$h2"
printf '  GET /v1/me (token + profile)     %10.1f req/s   (runs: %s, %s)\n' "$me" "$m1" "$m2"
printf '  ratio /v1/me / /healthz            %s   (goal >= 0.50)\n' "$(ratio "$me" "$healthz")"
printf '  bcrypt verify, cost 12, all cores %9.2f /s\n' "$b1"
printf '  POST /v1/auth/login              %10.2f req/s\n' "$l1"
printf '  ratio login / bcrypt               %s   (goal >= 0.80)\n' "$(ratio "$l1" "$b1")"
fi

# Like wrk_rate, but a run answered with errors (an expired token, a crash) fails the bench.
wrk_ok_rate() {
    local out; out="$(wrk "$@" 2>&1)"
    if grep -q 'Non-2xx' <<<"$out"; then printf '%s\n' "$out" >&2; die "wrk: error responses from $*"; fi
    sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out"
}

# --- Reception: the snapshot routing replicas read, for a tenant of realistic size, against /healthz
if part reception; then
log "reception: seeding 20 channels, 50 widgets, 30 groups, 100 guide and 100 assignment rules"
seed="$("$bin/kefu-bench" seed-reception --url "http://127.0.0.1:$RECEPTION_PORT" --database-url "$APP_URL" \
    --private-key-file "$DATA/keys/jwt-es256.pem")" || { tail -20 "$RECEPTION_LOG" >&2; die "seeding reception failed"; }
seed_value() { printf '%s\n' "$seed" | sed -n "s/^$1=//p"; }
reception_token="$(seed_value reception_token)"
snapshot_bytes="$(seed_value reception_snapshot_bytes)"
first_read_ms="$(seed_value reception_snapshot_first_read_milliseconds)"
snapshot_url="http://127.0.0.1:$RECEPTION_PORT/v1/reception/snapshot"
# Routing asks for the version of the change event it reacts to: the newest one here.
version="$(curl -fsS -H "Authorization: Bearer $reception_token" "$snapshot_url" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"
routing_url="$snapshot_url?min_version=$version"
log "reception: /healthz, /v1/reception/snapshot and ?min_version=$version ($snapshot_bytes bytes), 16 connections, ${SECONDS_PER_RUN}s each, best of two"
auth=(-H "Authorization: Bearer $reception_token")
rh1="$(wrk_ok_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$RECEPTION_PORT/healthz")"
rs1="$(wrk_ok_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" "${auth[@]}" "$snapshot_url")"
rm1="$(wrk_ok_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" "${auth[@]}" "$routing_url")"
rh2="$(wrk_ok_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$RECEPTION_PORT/healthz")"
rs2="$(wrk_ok_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" "${auth[@]}" "$snapshot_url")"
rm2="$(wrk_ok_rate -t2 -c16 -d"${SECONDS_PER_RUN}s" "${auth[@]}" "$routing_url")"
reception_healthz="$(best "$rh1" "$rh2")"; reception_snapshot="$(best "$rs1" "$rs2")"; reception_routing="$(best "$rm1" "$rm2")"
echo
echo "Reception, same server, same run: a tenant with 20 channels, 50 widgets, 30 groups, 200 rules"
printf '  GET /healthz                     %10.1f req/s   (runs: %s, %s)\n' "$reception_healthz" "$rh1" "$rh2"
printf '  GET /v1/reception/snapshot       %10.1f req/s   (runs: %s, %s; %s bytes; first read %s ms; version checked in the database)\n' \
    "$reception_snapshot" "$rs1" "$rs2" "$snapshot_bytes" "$first_read_ms"
printf '  … ?min_version= (routing)        %10.1f req/s   (runs: %s, %s; answered from memory)\n' "$reception_routing" "$rm1" "$rm2"
printf '  ratio snapshot / /healthz          %s\n' "$(ratio "$reception_snapshot" "$reception_healthz")"
printf '  ratio routing snapshot / /healthz  %s\n' "$(ratio "$reception_routing" "$reception_healthz")"
echo
echo "reception_snapshot_requests_per_second=$reception_snapshot"
echo "reception_snapshot_min_version_requests_per_second=$reception_routing"
echo "reception_healthz_requests_per_second=$reception_healthz"
fi
echo "reception_snapshot_vs_healthz=$(ratio "$reception_snapshot" "$reception_healthz")"
echo "reception_snapshot_min_version_vs_healthz=$(ratio "$reception_routing" "$reception_healthz")"

# --- Routing: idle memory, assignment on two replicas, message ingest against pgbench -------------
if part routing; then
log "routing: two replicas (release)"
release_build --product kefu-routing
ROUTING_PORTS=("${KEFU_BENCH_ROUTING_PORT:-18083}" "${KEFU_BENCH_ROUTING_PORT_2:-18084}")
routing_pids=()
for port in "${ROUTING_PORTS[@]}"; do
    KEFU_ROUTING_PORT="$port" KEFU_DATABASE_URL="$APP_URL" KEFU_MIGRATION_DATABASE_URL="$OWNER_URL" \
        KEFU_SCHEMA_DIR="$ROOT/schema" KEFU_JWT_PUBLIC_KEY_FILES="$DATA/keys/jwt-es256.pub.pem" \
        KEFU_SECRETS_KEY_FILE="$DATA/keys/secrets.key" KEFU_LOG_LEVEL=notice \
        KEFU_RECEPTION_URL="http://127.0.0.1:$RECEPTION_PORT" KEFU_VISITOR_RATE_LIMIT_PER_ADDRESS=100000000 \
        "$bin/kefu-routing" >"$DATA/routing-$port.log" 2>&1 &
    routing_pids+=($!)
done
trap 'kill "$accounts_pid" "$reception_pid" "${routing_pids[@]}" 2>/dev/null || true; cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
for port in "${ROUTING_PORTS[@]}"; do
    for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 1; done
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { tail -20 "$DATA/routing-$port.log" >&2; die "kefu-routing did not start"; }
done
# Idle: started, migrated, consumers listening, nothing asked yet.
sleep 5
idle_kb="$(awk '/^VmRSS:/ { print $2 }' "/proc/${routing_pids[0]}/status")"
log "routing: 50 agents (limit 3), 1000 visitors starting at once on both replicas"
routing_out="$("$bin/kefu-bench" routing --routing-urls "http://127.0.0.1:${ROUTING_PORTS[0]},http://127.0.0.1:${ROUTING_PORTS[1]}" \
    --reception-url "http://127.0.0.1:$RECEPTION_PORT" --database-url "$APP_URL" --private-key-file "$DATA/keys/jwt-es256.pem" \
    --agents 50 --visitors 1000 --limit 3 --clients 32 --ingest-conversations 64 \
    --latency-conversations 60 --latency-rate 500 --latency-seconds "$SECONDS_PER_RUN" \
    --lua "$DATA/ingest.lua" --pgbench "$DATA/ingest.pgbench" --pgbench-clients "$CLIENTS")" \
    || { tail -n 20 "$DATA"/routing-*.log >&2; die "the routing benchmark failed"; }
routing_value() { printf '%s\n' "$routing_out" | sed -n "s/^$1=//p"; }
ingest_pgbench() {
    PGPASSWORD=kefu_app "$(pg_bin)/pgbench" -h 127.0.0.1 -p "$PORT" -U kefu_app -n -M "$1" \
        -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_PER_RUN" -f "$DATA/ingest.pgbench" kefu 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
log "routing: visitor messages, $CLIENTS connections, ${SECONDS_PER_RUN}s per run, best of two, against pgbench"
ip1="$(ingest_pgbench prepared)"; ik1="$(wrk_ok_rate -t2 -c"$CLIENTS" -d"${SECONDS_PER_RUN}s" -s "$DATA/ingest.lua" "http://127.0.0.1:${ROUTING_PORTS[0]}")"
ip2="$(ingest_pgbench prepared)"; ik2="$(wrk_ok_rate -t2 -c"$CLIENTS" -d"${SECONDS_PER_RUN}s" -s "$DATA/ingest.lua" "http://127.0.0.1:${ROUTING_PORTS[0]}")"
ingest_pg="$(best "$ip1" "$ip2")"; ingest_kefu="$(best "$ik1" "$ik2")"
echo
echo "Routing, two replicas on one cluster, same run"
printf '  idle resident memory             %10.1f MB   (goal <= 40)\n' "$(awk -v kb="$idle_kb" 'BEGIN { print kb / 1024 }')"
printf '  1000 visitors, 50 agents × 3     %10s s      (%s assigned, %s queued; %s per second)\n' \
    "$(routing_value routing_assign_seconds)" "$(routing_value routing_assigned)" "$(routing_value routing_queued)" "$(routing_value routing_assign_per_second)"
printf '  checked in SQL                   %s assigned twice, %s over the limit, %s miscounted\n' \
    "$(routing_value routing_double_assignments)" "$(routing_value routing_limit_breaches)" "$(routing_value routing_miscounted_agents)"
printf '  POST → agent socket, 500 msg/s   p50 %s ms, p99 %s ms   (goal p99 <= 20; %s of %s received; %s conversations, POST on one replica, socket on the other)\n' \
    "$(routing_value routing_socket_latency_p50_ms)" "$(routing_value routing_socket_latency_p99_ms)" \
    "$(routing_value routing_socket_latency_received)" "$(routing_value routing_socket_latency_sent)" "$(routing_value routing_socket_latency_conversations)"
printf '  pgbench -M prepared (same SQL)   %10.1f tx/s    (runs: %s, %s; one conversation per client)\n' "$ingest_pg" "$ip1" "$ip2"
printf '  POST visitor message             %10.1f req/s   (runs: %s, %s; 64 conversations)\n' "$ingest_kefu" "$ik1" "$ik2"
printf '  ratio message POST / pgbench       %s   (goal >= 0.50)\n' "$(ratio "$ingest_kefu" "$ingest_pg")"
echo
echo "routing_idle_rss_kb=$idle_kb"
echo "routing_assign_seconds=$(routing_value routing_assign_seconds)"
echo "routing_socket_latency_p99_ms=$(routing_value routing_socket_latency_p99_ms)"
echo "routing_message_post_per_second=$ingest_kefu"
echo "routing_message_pgbench_per_second=$ingest_pg"
kill "${routing_pids[@]}" 2>/dev/null || true
fi

# --- Webhooks: deliveries to a local receiver against a bare client, and the lag at 200 events/s
if part webhooks; then "$ROOT/scripts/bench-webhooks.sh"; fi

# --- Analytics: a year of conversations through the consumer's SQL, report and search p95, lag at 500 msg/s
if part analytics; then "$ROOT/scripts/bench-analytics.sh"; fi

# --- Customers: a million-customer library (views, counts, searches, CSV import against COPY)
if part customers; then "$ROOT/scripts/bench-customers.sh"; fi

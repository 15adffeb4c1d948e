# Shared shell helpers for the Makefile's scripts. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES=(accounts reception routing customers analytics)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs a Debian package set when a probe command is missing (root only; others are told).
ensure_packages() {
    local probe="$1"; shift
    if eval "$probe" >/dev/null 2>&1; then return; fi
    [ "$(id -u)" = 0 ] || die "missing $*: install them with apt-get (needs root)"
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin() {
    ensure_packages 'ls /usr/lib/postgresql/*/bin/initdb' postgresql postgresql-client
    ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

# initdb and postgres refuse to run as root: as root, run them as the postgres system user.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# cluster_up DATA_DIR PORT [extra postgres -c settings...]
# Creates the cluster if needed, starts it if stopped, and creates the roles and the database.
cluster_up() {
    local data="$1" port="$2"; shift 2
    local bin; bin="$(pg_bin)"
    if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres: "$data" 2>/dev/null || true
        chmod 700 "$data"
        as_postgres test -w "$data" || die "the postgres user cannot write $data (a parent folder is not searchable by it?)"
        log "creating a Postgres cluster in $data"
        as_postgres "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        local options="-p $port -k $data -c listen_addresses=127.0.0.1 -c idle_in_transaction_session_timeout=60s"
        for setting in "$@"; do options="$options -c $setting"; done
        log "starting Postgres on 127.0.0.1:$port"
        as_postgres "$bin/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 -o "$options" start >/dev/null
    fi
    as_postgres "$bin/psql" -h "$data" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
        -v owner_password=kefu_owner -v app_password=kefu_app -v database=kefu < "$ROOT/scripts/bootstrap.sql" >/dev/null
}

# Restarts a running cluster with the options it was started with (a crash-like fast stop).
cluster_restart() {
    local data="$1"
    log "restarting Postgres ($data)"
    as_postgres "$(pg_bin)/pg_ctl" -D "$data" -l "$data/postgres.log" -m fast -w -t 60 restart >/dev/null
}

cluster_down() {
    local data="$1"
    [ -f "$data/PG_VERSION" ] || return 0
    local bin; bin="$(pg_bin)"
    if as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "stopping Postgres ($data)"
        as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
}

# The build needs a C toolchain and a few headers besides Swift itself.
ensure_build_tools() {
    command -v swift >/dev/null || die "swift is not on PATH (Swift 6.1 or later is needed)"
    ensure_packages 'command -v openssl && command -v curl' openssl curl
}

# The ES256 key pair accounts signs access tokens with; every service verifies with the public half.
ensure_jwt_keys() {
    local dir="$1"
    mkdir -p "$dir"
    if [ ! -f "$dir/jwt-es256.pem" ]; then
        log "creating the token signing key in $dir"
        (umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/jwt-es256.pem")
        openssl pkey -in "$dir/jwt-es256.pem" -pubout -out "$dir/jwt-es256.pub.pem"
    fi
    # The key that encrypts secrets at rest (webhook signing secrets, channel credentials).
    if [ ! -f "$dir/secrets.key" ]; then
        (umask 077; openssl rand -base64 32 >"$dir/secrets.key")
    fi
}

service_port() {
    local service="$1" upper
    upper="$(echo "$service" | tr '[:lower:]' '[:upper:]')"
    local variable="KEFU_${upper}_PORT"
    case "$service" in
        accounts) echo "${!variable:-8081}" ;;
        reception) echo "${!variable:-8082}" ;;
        routing) echo "${!variable:-8083}" ;;
        customers) echo "${!variable:-8084}" ;;
        analytics) echo "${!variable:-8085}" ;;
    esac
}

# True when the pid file names a live kefu-<service> process (not a recycled pid).
service_running() {
    local pidfile="$ROOT/.data/run/$1.pid" pid
    [ -f "$pidfile" ] || return 1
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kefu-$1"
}

# Shared shell helpers for the Makefile's scripts. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES=(accounts reception routing customers analytics)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs a Debian package set when a probe command is missing: as root, or through sudo (which
# may ask for the password); without either the user is told what to install.
ensure_packages() {
    local probe="$1"; shift
    if eval "$probe" >/dev/null 2>&1; then return; fi
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || die "missing $*: install them as root with apt-get install $*"
        sudo=(sudo)
    fi
    log "installing $*${sudo:+ (with sudo)}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin() {
    ensure_packages 'ls /usr/lib/postgresql/*/bin/initdb' postgresql postgresql-client
    ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

# initdb and postgres refuse to run as root: as root, run them as the postgres system user (from
# /, since the caller's folder may be one postgres cannot enter; every path given is absolute).
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# True when something accepts connections on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ARG quoted for /bin/sh (pg_ctl hands the server options to a shell).
sh_quote() {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

# Where the server of the cluster in DATA puts its socket: DATA itself (private to the cluster's
# user), unless that path is too long for a Unix socket (sun_path holds 107 bytes, and the name
# .s.PGSQL.<port> is added); then a private folder under /tmp named after DATA.
cluster_socket_dir() {
    local data="$1"
    if [ "$(printf '%s' "$data" | wc -c)" -le 90 ]; then
        printf '%s\n' "$data"
    else
        printf '/tmp/kefu-pg.%s\n' "$(printf '%s' "$data" | sha256sum | cut -c1-16)"
    fi
}

# The port the cluster in DATA is running on; nothing when it is stopped (or does not exist).
cluster_running_port() {
    local data="$1"
    as_postgres "$(pg_bin)/pg_ctl" -D "$data" status >/dev/null 2>&1 || return 0
    as_postgres sed -n 4p "$data/postmaster.pid"
}

# cluster_up DATA_DIR PORT [extra postgres -c settings...]
# Creates the cluster if needed, starts it if stopped, and creates the roles and the database.
cluster_up() {
    local data="$1" port="$2"; shift 2
    local bin; bin="$(pg_bin)"
    local socket; socket="$(cluster_socket_dir "$data")"
    # pg_ctl puts the data directory between double quotes in a shell command.
    case "$data" in *[\"\$\`\\]*) die "Postgres cannot start a cluster in $data: its path holds one of \" \$ \` \\" ;; esac
    if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres: "$data" 2>/dev/null || true
        chmod 700 "$data"
        as_postgres test -w "$data" || die "the postgres user cannot write $data (a parent folder is not searchable by it?)"
        log "creating a Postgres cluster in $data"
        as_postgres "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    fi
    local running; running="$(cluster_running_port "$data")"
    if [ -z "$running" ]; then
        port_in_use "$port" && die "port $port is already in use: Postgres for $data cannot listen on it"
        if [ "$socket" != "$data" ]; then
            as_postgres mkdir -p -m 700 "$socket"
            { [ ! -L "$socket" ] && as_postgres test -O "$socket"; } || die "$socket is not the cluster user's own folder"
        fi
        local options="-p $port -k $(sh_quote "$socket") -c listen_addresses=127.0.0.1 -c idle_in_transaction_session_timeout=60s"
        for setting in "$@"; do options="$options -c $(sh_quote "$setting")"; done
        log "starting Postgres on 127.0.0.1:$port"
        as_postgres "$bin/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 -o "$options" start >/dev/null
    elif [ "$running" != "$port" ]; then
        die "the cluster in $data already runs on port $running, not $port"
    fi
    as_postgres "$bin/psql" -h "$socket" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
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

# The cluster of this checkout (make run, make stop, make clean-data) is .data/postgres. Run by a
# normal user, it is the data directory itself, run as that user. Run as root, the server runs as
# the postgres system user, which cannot enter a clone in a 0700 folder (root's home, mktemp -d)
# and folders above the clone are not ours to open: the cluster then lives in
# SYSTEM_CLUSTERS/<hash of the checkout's path>/pg, owned by postgres, and .data/postgres is a
# symlink to it, the record make stop and make clean-data follow. <hash>/checkout names the
# checkout, so a copy of a checkout with its .data does not share the original's cluster.
SYSTEM_CLUSTERS=/var/lib/postgresql/kefu

# Sets PG_DATA to the data directory of this checkout's cluster; empty when it has none (yet).
# (A variable, not output: bash drops set -e inside $(...), so a failed step would not stop it.)
find_checkout_cluster() {
    local link="$ROOT/.data/postgres" data owner
    PG_DATA=""
    if [ -L "$link" ]; then
        data="$(readlink "$link")"
        case "$data" in /*) ;; *) data="$ROOT/.data/$data" ;; esac
        owner="$(cat "$(dirname "$data")/checkout" 2>/dev/null || true)"
        # A copied .data: the cluster is still the checkout's that links to it.
        if [ -n "$owner" ] && [ "$owner" != "$ROOT" ] && [ "$(readlink "$owner/.data/postgres" 2>/dev/null)" = "$data" ]; then
            return 0
        fi
    elif [ -d "$link" ]; then
        data="$link"
    else
        return 0
    fi
    # Whoever runs make must be the one who can run this cluster.
    if [ "$(id -u)" != 0 ]; then
        case "$data" in "$SYSTEM_CLUSTERS"/*) die "this checkout's cluster ($data) was made by make run as root: run make as root (or make clean-data as root, then make run as yourself)" ;; esac
    fi
    if [ -e "$data" ]; then
        local expected actual
        expected="$(if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi)"
        actual="$(stat -c %U "$data")"
        [ "$actual" = "$expected" ] || die "this checkout's cluster ($data) belongs to $actual, not $expected: run make as $(if [ "$actual" = postgres ]; then echo root; else echo "$actual"; fi)"
    fi
    PG_DATA="$data"
}

# find_checkout_cluster, choosing the place first when the checkout has none yet (make run).
create_checkout_cluster() {
    find_checkout_cluster
    local data="$PG_DATA"
    if [ -z "$data" ]; then
        mkdir -p "$ROOT/.data"
        if [ "$(id -u)" = 0 ]; then
            data="$SYSTEM_CLUSTERS/$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)/pg"
            rm -f "$ROOT/.data/postgres"   # a copied link to another checkout's cluster
            ln -s "$data" "$ROOT/.data/postgres"
            if [ -f "$data/PG_VERSION" ]; then
                log "using the cluster an earlier checkout at $ROOT left in $data (make clean-data removes it)"
            fi
        else
            data="$ROOT/.data/postgres"
        fi
    fi
    case "$data" in
        "$SYSTEM_CLUSTERS"/*/pg)
            local home; home="$(dirname "$data")"
            pg_bin >/dev/null   # the package creates the postgres user
            mkdir -p "$home"
            chown postgres: "$SYSTEM_CLUSTERS" "$home"
            chmod 700 "$SYSTEM_CLUSTERS" "$home"
            # (Re)claims it: the checkout may have moved since.
            printf '%s\n' "$ROOT" >"$home/checkout"
            ;;
    esac
    PG_DATA="$data"
}

# Stops the cluster in DATA and deletes it, with its socket folder and, for a cluster made as
# root, its folder under SYSTEM_CLUSTERS (make clean-data).
cluster_remove() {
    local data="$1" socket
    cluster_down "$data"
    socket="$(cluster_socket_dir "$data")"
    [ "$socket" = "$data" ] || rm -rf "$socket"
    case "$data" in
        "$SYSTEM_CLUSTERS"/*/pg) data="$(dirname "$data")" ;;
    esac
    log "deleting the cluster in $data"
    rm -rf "$data"
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

# The release build as docker/Dockerfile ships it: the Swift runtime and Foundation linked in
# statically (fewer pages resident: routing idles at about 39 MB instead of 46). make bench
# measures what ships. One set of flags everywhere, or SwiftPM rebuilds everything on a switch.
release_build() { swift build -c release --static-swift-stdlib "$@"; }

#!/usr/bin/env bash
# make run works wherever a newcomer clones (issue 10): clones this repository (its committed
# HEAD) into a fresh 0700 folder whose path has spaces and brings the cluster up and down there
# with make run's own code (run.sh --cluster-only, make stop, make clean-data); checks that a
# second clone gets a cluster of its own, that a taken port and a port changed under a running
# cluster are named with their variable, that nothing above the clone is opened up, and that
# clean-data deletes each cluster. As root it also runs a clone as an unprivileged user (nobody),
# whose cluster lives inside the clone. Needs Postgres, not a build: a few seconds.
source "$(dirname "$0")/lib.sh"

PORT="${KEFU_CLONE_TEST_PG_PORT:-5436}"
port_in_use "$PORT" && die "port $PORT is already in use; set KEFU_CLONE_TEST_PG_PORT to a free one"
pg_bin >/dev/null

WORK="$(mktemp -d /tmp/kefu-clone-test.XXXXXX)"   # 0700, like a home folder
HOME_DIR="$WORK/home folder"
mkdir -m 700 "$HOME_DIR"
ONE="$HOME_DIR/kefu one"
TWO="$HOME_DIR/kefu two"
clones=("$ONE" "$TWO")
USER_WORK=""
cleanup() {
    local clone
    for clone in "${clones[@]}"; do
        [ ! -d "$clone" ] || in_clone "$clone" scripts/stop.sh --clean-data >/dev/null 2>&1 || true
    done
    [ -z "$USER_WORK" ] || { (cd / && runuser -u nobody -- "$USER_WORK/home folder/kefu/scripts/stop.sh" --clean-data) >/dev/null 2>&1 || true; rm -rf "$USER_WORK"; }
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { die "clone test: $*"; }
# in_clone DIR COMMAND...: runs a command in a clone the way make does (from its top folder).
in_clone() { (cd "$1" && shift && KEFU_PG_PORT="${KEFU_PG_PORT:-$PORT}" "$@"); }
# The data directory a clone's .data/postgres leads to.
data_of() { if [ -L "$1/.data/postgres" ]; then readlink "$1/.data/postgres"; else echo "$1/.data/postgres"; fi; }
# Runs SQL as the owner role over TCP, the way the services connect.
sql() { PGPASSWORD=kefu_owner "$(pg_bin)/psql" -h 127.0.0.1 -p "$PORT" -U kefu_owner -d kefu -qtAX -v ON_ERROR_STOP=1 -c "$1"; }
mode() { stat -c %a "$1"; }

log "clone test: cloning into $HOME_DIR"
git clone -q "$ROOT" "$ONE"
git clone -q "$ROOT" "$TWO"

in_clone "$ONE" scripts/run.sh --cluster-only
[ "$(sql 'select 1')" = 1 ] || fail "the first clone's cluster does not answer on $PORT"
sql 'create table clone_test_marker ()'
DATA_ONE="$(data_of "$ONE")"
[ -f "$DATA_ONE/PG_VERSION" ] || fail "no cluster in $DATA_ONE"
if [ "$(id -u)" = 0 ]; then
    case "$DATA_ONE" in "$SYSTEM_CLUSTERS"/*/pg) ;; *) fail "as root the cluster should live under $SYSTEM_CLUSTERS, not in $DATA_ONE" ;; esac
    [ "$(cat "$(dirname "$DATA_ONE")/checkout")" = "$ONE" ] || fail "$(dirname "$DATA_ONE")/checkout does not name $ONE"
fi
[ "$(mode "$WORK")" = 700 ] && [ "$(mode "$HOME_DIR")" = 700 ] || fail "a folder above the clone was opened up"

log "clone test: a second run.sh while the cluster runs"
in_clone "$ONE" scripts/run.sh --cluster-only
[ "$(sql "select count(*) from pg_tables where tablename = 'clone_test_marker'")" = 1 ] || fail "the second run lost the cluster"
out="$(KEFU_PG_PORT=$((PORT + 1)) in_clone "$ONE" scripts/run.sh --cluster-only 2>&1)" && fail "a run on another port than the running cluster's succeeded"
grep -q "running on port $PORT.*KEFU_PG_PORT" <<<"$out" || fail "a changed KEFU_PG_PORT was not named: $out"

log "clone test: a second clone while the first one's cluster holds the port"
out="$(in_clone "$TWO" scripts/run.sh --cluster-only 2>&1)" && fail "the second clone started on a taken port"
grep -q "port $PORT (Postgres) is in use.*set KEFU_PG_PORT" <<<"$out" || fail "the taken port was not named: $out"
in_clone "$ONE" make -s --no-print-directory stop
port_in_use "$PORT" && fail "make stop left Postgres on $PORT"
[ -f "$DATA_ONE/PG_VERSION" ] || fail "make stop deleted the cluster"

in_clone "$TWO" scripts/run.sh --cluster-only
DATA_TWO="$(data_of "$TWO")"
[ "$DATA_TWO" != "$DATA_ONE" ] || fail "both clones use $DATA_ONE"
[ "$(sql "select count(*) from pg_tables where tablename = 'clone_test_marker'")" = 0 ] || fail "the second clone sees the first one's data"
in_clone "$TWO" make -s --no-print-directory clean-data
port_in_use "$PORT" && fail "make clean-data left Postgres on $PORT"
[ ! -e "$DATA_TWO" ] && [ ! -e "$TWO/.data" ] || fail "make clean-data left $DATA_TWO or .data"
[ ! -e "$(dirname "$DATA_TWO")" ] || [ "$(id -u)" != 0 ] || fail "make clean-data left $(dirname "$DATA_TWO")"
[ -f "$DATA_ONE/PG_VERSION" ] || fail "the second clone's clean-data deleted the first one's cluster"
in_clone "$ONE" make -s --no-print-directory clean-data
[ ! -e "$DATA_ONE" ] || fail "make clean-data left $DATA_ONE"

# As root, the same from an unprivileged user's own 0700 folder: there the cluster lives inside
# the clone, so the server's socket path has the spaces.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    log "clone test: as the unprivileged user nobody"
    USER_WORK="$(mktemp -d /tmp/kefu-clone-test-user.XXXXXX)"
    mkdir -m 700 "$USER_WORK/home folder"
    git clone -q "$ROOT" "$USER_WORK/home folder/kefu"
    chown -R nobody: "$USER_WORK"
    as_nobody() { (cd "$USER_WORK/home folder/kefu" && runuser -u nobody -- env HOME="$USER_WORK/home folder" KEFU_PG_PORT="$PORT" "$@"); }
    as_nobody scripts/run.sh --cluster-only
    [ -d "$USER_WORK/home folder/kefu/.data/postgres" ] && [ ! -L "$USER_WORK/home folder/kefu/.data/postgres" ] || fail "a normal user's cluster is not in the clone"
    [ "$(sql 'select 1')" = 1 ] || fail "the unprivileged user's cluster does not answer on $PORT"
    as_nobody make -s --no-print-directory stop
    port_in_use "$PORT" && fail "make stop (nobody) left Postgres on $PORT"
    as_nobody make -s --no-print-directory clean-data
    [ ! -e "$USER_WORK/home folder/kefu/.data" ] || fail "make clean-data (nobody) left .data"
fi
log "clone test: passed"

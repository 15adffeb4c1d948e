#!/usr/bin/env bash
# make test: the clone test (scripts/clone-test.sh), a throwaway Postgres (fsync off) on its own
# port, the build, the tests, then the API contract tests (scripts/contract-test.sh) and the
# resilience tests (scripts/resilience-test.sh); the cluster is removed whatever happens.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT="${KEFU_TEST_PG_PORT:-5434}"
ensure_build_tools
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is already in use; set KEFU_TEST_PG_PORT to a free one"
fi
# make run's cluster from a fresh clone in a 0700 folder (scripts/clone-test.sh): it needs no
# build, so it runs first (skipped when tests are filtered, like the contract tests).
if [ $# -eq 0 ]; then
    "$ROOT/scripts/clone-test.sh"
fi
DATA="$(mktemp -d /tmp/kefu-test-pg.XXXXXX)"
chmod 755 "$DATA"
trap 'cluster_down "$DATA/pg" || true; rm -rf "$DATA"' EXIT
# Many test servers run at once, each with its pool, its event reader, a LISTEN connection per
# consumer and routing's realtime listener: 500 connections ran out once routing's suites came.
cluster_up "$DATA/pg" "$PORT" fsync=off synchronous_commit=off full_page_writes=off max_connections=2000

export KEFU_TEST_DATABASE_URL="postgres://kefu_app:kefu_app@127.0.0.1:$PORT/kefu"
export KEFU_TEST_MIGRATION_DATABASE_URL="postgres://kefu_owner:kefu_owner@127.0.0.1:$PORT/kefu"

log "building"
swift build --build-tests
log "testing"
# Every test starts its own servers, and every test app of the process shares each durable consumer
# (one leader delivers every test's events): hundreds of tests at once on two cores once left the
# consumers minutes behind and tests waiting on them timed out. A bounded number at a time keeps up.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${KEFU_TEST_PARALLELISM:-8}"
if [ $# -gt 0 ]; then
    swift test --skip-build "$@"
else
    # The analytics and customer library suites first, on their own: theirs are the only tests that
    # run those services' consumers, which otherwise first start when the other suites have filled
    # the outbox, and had thousands of other tests' events to get through (minutes on a loaded CI
    # machine) before their own test's.
    swift test --skip-build --filter "AnalyticsTests|CustomersTests"
    swift test --skip-build --skip "AnalyticsTests|CustomersTests"
fi
# The whole suite also checks the OpenAPI contracts and the failure behaviour from outside
# (skipped when tests are filtered). The resilience test restarts the cluster: it runs last.
if [ $# -eq 0 ]; then
    "$ROOT/scripts/contract-test.sh" "$PORT"
    "$ROOT/scripts/resilience-test.sh" "$DATA/pg" "$PORT"
fi

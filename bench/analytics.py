#!/usr/bin/env python3
"""The analytics bench (scripts/bench-analytics.sh starts the cluster, release kefu-accounts,
kefu-reception and kefu-analytics, and sets the environment).

1. A tenant of 200 agents and SCALE × 1,000,000 conversations with ~10 messages each over a
   year, generated in SQL through analytics.apply_events — the consumer's own function — in
   chunks (bench/analytics-generate.sql).
2. p50/p95 of the per-agent report for 30 days (GET /v1/analytics/agents), and of the records'
   first page with a message-text filter over 90 days (three and two Chinese characters).
3. Event → figure lag: message.created events committed at 500/s for SECONDS seconds
   (pgbench -R); from each event's commit to its row in analytics (applied_at), p50 and p99.
4. The outbox's publish rate (pgbench, one event per transaction, as fast as it goes) with
   kefu-analytics stopped and running: analytics must not slow the writers.
"""
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("seed_demo", os.path.join(ROOT, "scripts", "seed-demo.py"))
seed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed)

OWNER_URL = os.environ["KEFU_BENCH_OWNER_URL"]
PGBENCH = os.environ["KEFU_BENCH_PGBENCH"]
PG_PORT = os.environ["KEFU_BENCH_PG_PORT"]
ANALYTICS = os.environ["KEFU_BENCH_ANALYTICS_URL"]
ANALYTICS_PID = int(os.environ["KEFU_BENCH_ANALYTICS_PID"])
SCALE = float(os.environ.get("KEFU_BENCH_ANALYTICS_SCALE", "1"))
SECONDS = int(os.environ.get("KEFU_BENCH_SECONDS", "10"))
REQUESTS = int(os.environ.get("KEFU_BENCH_ANALYTICS_REQUESTS", "40"))
CHUNK = 2000
RATE = 500


def sql(query):
    out = subprocess.run(["psql", OWNER_URL, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", query], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def timed_get(path, token):
    request = urllib.request.Request(ANALYTICS + path, headers={"Authorization": f"Bearer {token}"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
        if response.status != 200:
            sys.exit(f"bench: {path} answered {response.status}")
    return (time.perf_counter() - start) * 1000, body


def percentiles(path, token):
    timed_get(path, token)  # warm the caches (snapshot, plans) once
    samples = sorted(timed_get(path, token)[0] for _ in range(REQUESTS))
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def publish_rate(tenant, work):
    script = os.path.join(work, "analytics-publish.pgbench")
    with open(script, "w") as f:
        f.write("\\set n random(1, 1000)\n"
                "BEGIN;\n"
                f"SELECT set_config('kefu.tenant_id', '{tenant}', true);\n"
                f"INSERT INTO kefu.events (tenant_id, type, payload) VALUES ('{tenant}', 'message.created', jsonb_build_object("
                "'conversation_id', md5('c' || :n)::uuid, 'message_id', gen_random_uuid(), 'seq', 1000, 'sender', 'visitor', "
                "'automatic', false, 'created_at', now(), 'body', jsonb_build_object('type', 'text', 'text', 'ping')));\n"
                "COMMIT;\n"
                # The wake-up after the commit, as KefuCore sends it (CommitNotices).
                "SELECT pg_notify('kefu_events', 'message.created');\n")
    return script


def pgbench(script, *args):
    env = dict(os.environ, PGPASSWORD="kefu_app")
    out = subprocess.run([PGBENCH, "-h", "127.0.0.1", "-p", PG_PORT, "-U", "kefu_app", "-n", "-c", "4", "-j", "2", *args, "-f", script, "kefu"],
                         check=True, capture_output=True, env=env, text=True).stdout
    return float(out.split("tps = ")[1].split()[0])


def main():
    work = os.environ["KEFU_BENCH_WORK"]
    total = max(1000, int(1_000_000 * SCALE))
    slug = "an-" + uuid.uuid4().hex[:8]
    phone = "137" + str(uuid.uuid4().int)[:8]
    status, created = seed.call("POST", "/v1/platform/tenants", seed.PLATFORM_TOKEN, {
        "slug": slug, "name": "Analytics bench", "seat_limit": 300,
        "admin": {"account": "admin", "password": seed.PASSWORD, "display_name": "Admin", "phone": phone},
    })
    if status != 201:
        sys.exit(f"bench: creating a tenant failed: {status} {created}")
    tenant = created["tenant"]["id"]
    token = seed.admin_token(slug, phone)

    # 1. The tenant's year, through the consumer's function.
    sql(f"""BEGIN; SELECT set_config('kefu.tenant_id', '{tenant}', true);
            SELECT analytics.apply_events(array_agg('employee.created'::text), array_agg(jsonb_build_object('employee', jsonb_build_object(
                'employee_id', md5('a' || i)::uuid, 'account', 'agent' || i, 'display_name', '客服' || i, 'status', 'active'))))
            FROM generate_series(0, 199) i; COMMIT;""")
    started = time.monotonic()
    generator = os.path.join(ROOT, "bench", "analytics-generate.sql")
    for lo in range(1, total + 1, CHUNK):
        hi = min(total, lo + CHUNK - 1)
        subprocess.run(["psql", OWNER_URL, "-qtAX", "-v", "ON_ERROR_STOP=1", "-v", f"tenant={tenant}", "-v", f"lo={lo}", "-v", f"hi={hi}",
                        "-v", f"total={total}", "-v", "messages_avg=10", "-f", generator], check=True, capture_output=True)
    generate_seconds = time.monotonic() - started
    # VACUUM runs outside a transaction: one statement per call. It sets the visibility map the
    # reports' index-only scans need.
    sql("VACUUM ANALYZE analytics.conversations")
    sql("VACUUM ANALYZE analytics.messages")
    conversations, messages = sql(f"SELECT (SELECT count(*) FROM analytics.conversations WHERE tenant_id = '{tenant}'), "
                                  f"(SELECT count(*) FROM analytics.messages WHERE tenant_id = '{tenant}')").split("|")

    # 2. Reads.
    agents_p50, agents_p95 = percentiles("/v1/analytics/agents", token)
    since = urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 90 * 86400)))
    three = urllib.parse.quote("要投诉")
    two = urllib.parse.quote("投诉")
    text3_p50, text3_p95 = percentiles(f"/v1/analytics/conversations?q={three}&from={since}&limit=50", token)
    text2_p50, text2_p95 = percentiles(f"/v1/analytics/conversations?q={two}&from={since}&limit=50", token)
    plain_p50, plain_p95 = percentiles("/v1/analytics/conversations?limit=50", token)

    # 3. Lag at 500 messages per second.
    script = publish_rate(tenant, work)
    mark = sql("SELECT coalesce(max(id), 0) FROM kefu.events")
    pgbench(script, "-R", str(RATE), "-T", str(SECONDS))
    sent = int(sql(f"SELECT count(*) FROM kefu.events WHERE id > {mark} AND tenant_id = '{tenant}'"))
    deadline = time.monotonic() + 120
    applied_sql = f"""SELECT count(*) FROM kefu.events e JOIN analytics.messages m ON m.tenant_id = e.tenant_id
                      AND m.message_id = (e.payload->>'message_id')::uuid WHERE e.id > {mark} AND e.tenant_id = '{tenant}'"""
    while int(sql(applied_sql)) < sent and time.monotonic() < deadline:
        time.sleep(0.1)
    p50, p99, worst, applied = sql(f"""
        SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) * 1000)::numeric, 1),
               round((percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) * 1000)::numeric, 1),
               round((max(lag) * 1000)::numeric, 1), count(*)
        FROM (SELECT extract(epoch FROM m.applied_at - e.created_at) AS lag
              FROM kefu.events e JOIN analytics.messages m ON m.tenant_id = e.tenant_id AND m.message_id = (e.payload->>'message_id')::uuid
              WHERE e.id > {mark} AND e.tenant_id = '{tenant}') l""").split("|")

    # 4. Publishing with and without analytics following.
    with_analytics = pgbench(script, "-T", str(SECONDS))
    os.kill(ANALYTICS_PID, signal.SIGSTOP)
    try:
        without_analytics = pgbench(script, "-T", str(SECONDS))
    finally:
        os.kill(ANALYTICS_PID, signal.SIGCONT)

    print()
    print(f"Analytics: release kefu-analytics, one tenant of 200 agents, scale {SCALE} (goal at scale 1: 1,000,000 conversations, 10,000,000 messages)")
    print(f"  generated through analytics.apply_events  {conversations} conversations, {messages} messages in {generate_seconds:.0f} s")
    print(f"  per-agent report, 30 days               p50 {agents_p50:.1f} ms, p95 {agents_p95:.1f} ms   (goal p95 <= 100)")
    print(f"  records first page, text 要投诉 (90 d)   p50 {text3_p50:.1f} ms, p95 {text3_p95:.1f} ms   (goal p95 <= 200)")
    print(f"  records first page, text 投诉 (90 d)     p50 {text2_p50:.1f} ms, p95 {text2_p95:.1f} ms   (two characters: bounded recent scan)")
    print(f"  records first page, no filter           p50 {plain_p50:.1f} ms, p95 {plain_p95:.1f} ms")
    print(f"  event → figure at {RATE} msg/s for {SECONDS}s   p50 {p50} ms, p99 {p99} ms, max {worst} ms   (goal p99 <= 1000; {applied} of {sent} applied)")
    print(f"  outbox publish rate, analytics running  {with_analytics:10.1f} tx/s")
    print(f"  outbox publish rate, analytics stopped  {without_analytics:10.1f} tx/s   (ratio {with_analytics / without_analytics:.2f})")
    print()
    print(f"analytics_agents_report_p95_ms={agents_p95:.1f}")
    print(f"analytics_records_text_p95_ms={text3_p95:.1f}")
    print(f"analytics_lag_p99_ms={p99}")
    print(f"analytics_publish_ratio={with_analytics / without_analytics:.2f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The webhook delivery bench (scripts/bench-webhooks.sh starts the cluster, a release
kefu-accounts and kefu-bench's receiver, and sets the environment).

1. Throughput: COUNT events committed at once for a tenant with one webhook; deliveries per
   second from the commit to the last answer, measured in SQL, against COUNT signed POSTs of the
   same body from a bare HTTP client (kefu-bench webhook-posts) with the dispatcher's
   per-endpoint concurrency, to the same receiver, in the same run.
2. Lag: events at 200 per second for SECONDS seconds (pgbench -R, one event per transaction);
   from each event's commit to its first attempt, p50 and p99, measured in SQL.
"""
import importlib.util
import os
import subprocess
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("seed_demo", os.path.join(ROOT, "scripts", "seed-demo.py"))
seed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed)

OWNER_URL = os.environ["KEFU_BENCH_OWNER_URL"]
RECEIVER = os.environ["KEFU_BENCH_RECEIVER_URL"]
BIN = os.environ["KEFU_BENCH_BIN"]
PGBENCH = os.environ["KEFU_BENCH_PGBENCH"]
PG_PORT = os.environ["KEFU_BENCH_PG_PORT"]
COUNT = int(os.environ.get("KEFU_BENCH_WEBHOOK_COUNT", "2000"))
CONCURRENCY = int(os.environ.get("KEFU_WEBHOOK_CONCURRENCY_PER_ENDPOINT", "4"))
SECONDS = int(os.environ.get("KEFU_BENCH_SECONDS", "10"))
RATE = 200


def sql(query):
    out = subprocess.run(["psql", OWNER_URL, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", query], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def wait_for(query, expected, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(sql(query) or 0) >= expected:
            return
        time.sleep(0.05)
    sys.exit(f"bench: only {sql(query)} of {expected} ({query})")


def main():
    slug = "wh-" + uuid.uuid4().hex[:8]
    phone = "136" + str(uuid.uuid4().int)[:8]
    status, created = seed.call("POST", "/v1/platform/tenants", seed.PLATFORM_TOKEN, {
        "slug": slug, "name": "Webhook bench", "seat_limit": 10,
        "admin": {"account": "admin", "password": seed.PASSWORD, "display_name": "Admin", "phone": phone},
    })
    if status != 201:
        sys.exit(f"bench: creating a tenant failed: {status} {created}")
    tenant = created["tenant"]["id"]
    token = seed.admin_token(slug, phone)
    status, hook = seed.call("POST", "/v1/webhooks", token, {"url": RECEIVER + "/kefu", "event_types": ["department.changed"]})
    if status != 201:
        sys.exit(f"bench: creating the webhook failed: {status} {hook}")
    webhook = hook["id"]
    delivered = f"SELECT count(*) FROM accounts.webhook_deliveries WHERE webhook_id = '{webhook}' AND status = 'succeeded'"

    # 1. Throughput.
    mark = sql("SELECT coalesce(max(id), 0) FROM kefu.events")
    sql(f"""INSERT INTO kefu.events (tenant_id, type, payload)
            SELECT '{tenant}', 'department.changed', jsonb_build_object('department_id', gen_random_uuid(), 'exists', true)
            FROM generate_series(1, {COUNT})""")
    # The wake-up after the commit, as KefuCore sends it (CommitNotices).
    sql("SELECT pg_notify('kefu_events', 'department.changed')")
    wait_for(delivered, COUNT)
    kefu_rate = float(sql(f"""
        SELECT {COUNT} / extract(epoch FROM max(a.attempted_at + make_interval(secs => a.latency_ms / 1000.0)) - min(e.created_at))
        FROM kefu.events e JOIN accounts.webhook_deliveries d ON d.tenant_id = e.tenant_id AND d.event_id = e.id
        JOIN accounts.webhook_attempts a ON a.tenant_id = d.tenant_id AND a.delivery_id = d.id
        WHERE e.id > {mark} AND d.webhook_id = '{webhook}'"""))
    attempts = sql(f"SELECT count(*) FROM accounts.webhook_attempts a JOIN accounts.webhook_deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = '{webhook}'")
    out = subprocess.run([os.path.join(BIN, "kefu-bench"), "webhook-posts", "--url", RECEIVER + "/bare", "--count", str(COUNT),
                          "--concurrency", str(CONCURRENCY)], check=True, capture_output=True, text=True).stdout
    bare_rate = float(out.split("webhook_posts_per_second=")[1].split()[0])

    # 2. Lag at 200 events per second.
    script = os.path.join(os.environ["KEFU_BENCH_WORK"], "webhook-event.pgbench")
    with open(script, "w") as f:
        f.write("BEGIN;\n"
                f"SELECT set_config('kefu.tenant_id', '{tenant}', true);\n"
                f"INSERT INTO kefu.events (tenant_id, type, payload) VALUES ('{tenant}', 'department.changed', "
                "jsonb_build_object('department_id', gen_random_uuid(), 'exists', true));\n"
                "COMMIT;\n"
                "SELECT pg_notify('kefu_events', 'department.changed');\n")
    mark = sql("SELECT coalesce(max(id), 0) FROM kefu.events")
    before = int(sql(delivered))
    env = dict(os.environ, PGPASSWORD="kefu_app")
    subprocess.run([PGBENCH, "-h", "127.0.0.1", "-p", PG_PORT, "-U", "kefu_app", "-n", "-c", "4", "-j", "2", "-R", str(RATE),
                    "-T", str(SECONDS), "-f", script, "kefu"], check=True, capture_output=True, env=env)
    sent = int(sql(f"SELECT count(*) FROM kefu.events WHERE id > {mark} AND tenant_id = '{tenant}'"))
    wait_for(delivered, before + sent)
    p50, p99, worst = sql(f"""
        SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) * 1000)::numeric, 1),
               round((percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) * 1000)::numeric, 1),
               round((max(lag) * 1000)::numeric, 1)
        FROM (SELECT extract(epoch FROM a.attempted_at - e.created_at) AS lag
              FROM kefu.events e JOIN accounts.webhook_deliveries d ON d.tenant_id = e.tenant_id AND d.event_id = e.id
              JOIN accounts.webhook_attempts a ON a.tenant_id = d.tenant_id AND a.delivery_id = d.id AND a.attempt = 1
              WHERE e.id > {mark} AND d.webhook_id = '{webhook}') l""").split("|")

    print()
    print(f"Webhooks: one endpoint, release kefu-accounts, {CONCURRENCY} attempts in flight per endpoint, same receiver, same run")
    print(f"  bare HTTP client, signed POSTs   {bare_rate:10.1f} /s   ({COUNT} POSTs)")
    print(f"  Kefu deliveries, commit → answer {kefu_rate:10.1f} /s   ({COUNT} events, {attempts} attempts)")
    print(f"  ratio Kefu / bare client           {kefu_rate / bare_rate:.2f}   (goal >= 0.70)")
    print(f"  lag commit → first attempt at {RATE}/s for {SECONDS}s: p50 {p50} ms, p99 {p99} ms, max {worst} ms   (goal p99 <= 1000; {sent} events)")
    print()
    print(f"webhook_deliveries_per_second={kefu_rate:.1f}")
    print(f"webhook_bare_posts_per_second={bare_rate:.1f}")
    print(f"webhook_lag_p99_ms={p99}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The customer library bench (scripts/bench-customers.sh starts the cluster and a release
kefu-customers, and sets the environment).

Data set (issue 12): one tenant with CUSTOMERS customers (1,000,000 by default), five custom
fields filled, beside ten tenants of 1,000. The fields and the view are made through the API;
the rows by bench/customers-data.sql as the serving role in the tenant's transaction, so
row-level security and every generated column and index of the table apply as for the service's
own writes.

Figures: p50 and p95 over SAMPLES requests (each search with a different term) of
- a custom view with 3 conditions (one on a custom field) sorted by last reception time: the
  first page and a deep cursor page (goal p95 <= 50 ms), and its count (goal p95 <= 300 ms);
- search by a phone substring, and by a 2- and a 3-character Chinese name (goal p95 <= 100 ms);
- CSV import of IMPORT_ROWS rows through the API against COPY of the same rows into a bare
  table, in the same run.
"""
import csv
import http.client
import io
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICE = urllib.parse.urlparse(os.environ["KEFU_BENCH_CUSTOMERS_URL"])
APP_URL = os.environ["KEFU_BENCH_APP_URL"]
OWNER_URL = os.environ["KEFU_BENCH_OWNER_URL"]
BIN = os.environ["KEFU_BENCH_BIN"]
KEY = os.environ["KEFU_BENCH_PRIVATE_KEY_FILE"]
WORK = os.environ["KEFU_BENCH_WORK"]
CUSTOMERS = int(os.environ.get("KEFU_BENCH_CUSTOMERS", "1000000"))
# Issue 12 asks for 100,000 rows; batched, the import takes about a minute of them (was ~2 hours).
IMPORT_ROWS = int(os.environ.get("KEFU_BENCH_IMPORT_ROWS", "100000"))
SAMPLES = int(os.environ.get("KEFU_BENCH_SAMPLES", "50"))
SMALL_TENANTS = 10
SMALL_SIZE = 1000
BATCH = 100_000
OWNERS = [str(uuid.uuid4()) for _ in range(3)]


def psql(url, *args, text=None):
    out = subprocess.run(["psql", url, "-qtAX", "-v", "ON_ERROR_STOP=1", *args], input=text,
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class API:
    """One kept-alive connection, as a browser keeps one to the service."""

    def __init__(self, token):
        self.token = token
        self.connection = http.client.HTTPConnection(SERVICE.hostname, SERVICE.port, timeout=3600)

    def call(self, method, path, body=None, content_type="application/json"):
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = content_type
            if content_type == "application/json":
                body = json.dumps(body).encode()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read()
        return response.status, (json.loads(text) if text else {})

    def ok(self, method, path, body=None, expect=(200, 201), content_type="application/json"):
        status, answer = self.call(method, path, body, content_type)
        if status not in expect:
            sys.exit(f"bench: {method} {path} answered {status}: {answer}")
        return answer

    def timed(self, path):
        start = time.perf_counter()
        answer = self.ok("GET", path)
        return (time.perf_counter() - start) * 1000, answer


def token(tenant, employee):
    return subprocess.run([os.path.join(BIN, "kefu-bench"), "token", "--private-key-file", KEY, "--tenant", tenant,
                           "--employee", employee], check=True, capture_output=True, text=True).stdout.strip()


def load(tenant, count):
    for first in range(1, count + 1, BATCH):
        psql(APP_URL, "-v", f"tenant={tenant}", "-v", f"first={first}", "-v", f"count={min(BATCH, count - first + 1)}",
             "-v", f"owner1={OWNERS[0]}", "-v", f"owner2={OWNERS[1]}", "-v", f"owner3={OWNERS[2]}",
             "-f", os.path.join(ROOT, "bench", "customers-data.sql"))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


def report(name, timings, goal=None, note=""):
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    verdict = "" if goal is None else (f"   (goal p95 <= {goal} ms: {'met' if p95 <= goal else 'MISSED'})")
    print(f"  {name:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms{verdict}{note}")
    return p95


def measure(api, paths):
    """Each path once after a warm-up of the first three: the plans and caches warm, as in use."""
    for path in paths[:3]:
        api.timed(path)
    timings, answers = [], []
    for path in paths:
        elapsed, answer = api.timed(path)
        timings.append(elapsed)
        answers.append(answer)
    return timings, answers


def main():
    tenant, employee = str(uuid.uuid4()), str(uuid.uuid4())
    api = API(token(tenant, employee))
    for field in [
        {"api_name": "budget", "display_name": "Budget", "type": "number"},
        {"api_name": "level", "display_name": "Level", "type": "single_choice", "choices": ["gold", "silver", "bronze"]},
        {"api_name": "contract_day", "display_name": "Contract day", "type": "date"},
        {"api_name": "wechat_name", "display_name": "WeChat name", "type": "short_text"},
        {"api_name": "interests", "display_name": "Interests", "type": "multiple_choice", "choices": ["sports", "travel", "books"]},
    ]:
        api.ok("POST", "/v1/customer-fields", field)

    print(f"bench: loading {CUSTOMERS} customers into one tenant and {SMALL_TENANTS} x {SMALL_SIZE} into others", file=sys.stderr)
    started = time.perf_counter()
    load(tenant, CUSTOMERS)
    for _ in range(SMALL_TENANTS):
        load(str(uuid.uuid4()), SMALL_SIZE)
    psql(OWNER_URL, "-c", "VACUUM ANALYZE customers.customers")
    load_seconds = time.perf_counter() - started

    view = api.ok("POST", "/v1/customer-views", {
        "name": "上海 · 跟进中 · 预算 ≥ 20000", "sort": "-last_reception_at",
        "filter": {"join": "all", "conditions": [
            {"field": "customer.location", "op": "equals", "value": "上海"},
            {"field": "customer.follow_up_status", "op": "equals", "value": "in_progress"},
            {"field": "custom.budget", "op": "greater_or_equal", "value": 20000},
        ]},
    })
    base = f"/v1/customers?view_id={view['id']}&limit=50"
    expected = int(psql(APP_URL, text=f"""
        BEGIN; SELECT set_config('kefu.tenant_id', '{tenant}', true) \\gset
        SELECT count(*) FROM customers.customers WHERE region = '上海' AND follow_up_status = 'in_progress'
            AND (custom ->> 'budget')::float8 >= 20000;
        COMMIT;
        """).split()[-1])

    # A deep cursor: walked to by pages of 100 (the list's own cursors), about 10,000 rows in.
    cursor, walked = None, 0
    while walked < min(10_000, max(0, expected - 100)):
        page = api.ok("GET", f"/v1/customers?view_id={view['id']}&limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
        walked += len(page["data"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    deep = base + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")

    first_times, first = measure(api, [base] * SAMPLES)
    deep_times, _ = measure(api, [deep] * SAMPLES)
    count_times, counts = measure(api, [f"/v1/customers/count?view_id={view['id']}"] * SAMPLES)
    if counts[0]["count"] != expected:
        sys.exit(f"bench: the view counts {counts[0]['count']}, SQL {expected}")

    sample = psql(APP_URL, text=f"""
        BEGIN; SELECT set_config('kefu.tenant_id', '{tenant}', true) \\gset
        SELECT name, phones[1] FROM customers.customers TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT 2000;
        COMMIT;
        """).splitlines()
    rows = [line.split("|") for line in sample if "|" in line]
    random.seed(12)
    random.shuffle(rows)
    phones = [phone[3:9] for _, phone in rows][:SAMPLES + 3]
    two = [name[:2] for name, _ in rows][:SAMPLES + 3]
    three = [name for name, _ in rows if len(name) == 3][:SAMPLES + 3]
    q = lambda terms: [f"/v1/customers?limit=50&q={urllib.parse.quote(term)}" for term in terms]
    phone_times, phone_answers = measure(api, q(phones))
    two_times, two_answers = measure(api, q(two))
    three_times, three_answers = measure(api, q(three))
    for term, answer in zip(phones[3:] + two[3:] + three[3:], phone_answers[3:] + two_answers[3:] + three_answers[3:]):
        if not answer["data"]:
            sys.exit(f"bench: searching {term!r} found nobody")

    # CSV import against COPY of the same rows into a bare table.
    header = ["name", "phones", "region", "tags", "custom.budget", "custom.level"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for n in range(IMPORT_ROWS):
        writer.writerow([f"导入{n}", f"139{n:08d}", ["北京", "上海", "广州"][n % 3], "imported;csv", n % 90000, ["gold", "silver"][n % 2]])
    body = buffer.getvalue().encode()
    path = os.path.join(WORK, "import.csv")
    with open(path, "wb") as file:
        file.write(body)
    print(f"bench: importing {IMPORT_ROWS} rows", file=sys.stderr)
    start = time.perf_counter()
    imported = api.ok("POST", "/v1/customers/import", body, content_type="text/csv")
    import_seconds = time.perf_counter() - start
    if imported["created"] != IMPORT_ROWS or imported["failed"]:
        sys.exit(f"bench: the import created {imported['created']} and failed {imported['failed']} of {IMPORT_ROWS}")
    psql(OWNER_URL, "-c", "CREATE TABLE public.bench_copy (name text, phones text, region text, tags text, budget text, level text)")
    start = time.perf_counter()
    psql(OWNER_URL, "-c", f"\\copy public.bench_copy FROM '{path}' WITH (FORMAT csv, HEADER true)")
    copy_seconds = time.perf_counter() - start

    print()
    print(f"Customer library: one tenant of {CUSTOMERS} customers (5 custom fields) beside {SMALL_TENANTS} of {SMALL_SIZE};"
          f" loaded in {load_seconds:.0f} s; {SAMPLES} requests each, one kept-alive connection")
    print(f"  view: region = 上海, follow-up in progress, custom budget >= 20000, sorted by last reception (newest first): {expected} customers")
    results = {
        "view_first_page": report("view, first page (50)", first_times, 50),
        "view_deep_page": report(f"view, deep cursor page ({walked} rows in)", deep_times, 50),
        "view_count": report("view, count", count_times, 300),
        "search_phone": report("search, phone substring (6 digits)", phone_times, 100),
        "search_name_2": report("search, 2-character Chinese name", two_times, 100),
        "search_name_3": report("search, 3-character Chinese name", three_times, 100),
    }
    print(f"  CSV import, {IMPORT_ROWS} rows through the API    {import_seconds:8.1f} s   ({IMPORT_ROWS / import_seconds:.0f} rows/s)")
    print(f"  COPY of the same rows into a bare table       {copy_seconds:8.2f} s   ({IMPORT_ROWS / copy_seconds:.0f} rows/s)")
    print(f"  ratio import / COPY (time)                    {import_seconds / copy_seconds:8.1f}")
    print()
    for name, value in results.items():
        print(f"customers_{name}_p95_ms={value:.1f}")
    print(f"customers_import_rows_per_second={IMPORT_ROWS / import_seconds:.0f}")
    print(f"customers_copy_rows_per_second={IMPORT_ROWS / copy_seconds:.0f}")


if __name__ == "__main__":
    main()

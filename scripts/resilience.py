#!/usr/bin/env python3
"""Failures lose nothing, checked against the real executables on a real Postgres (make test runs
it last, through resilience-test.sh, which sets the environment):

1. Postgres restarts under running services with writes in flight: every write retried under its
   Idempotency-Key lands exactly once (a lost connection is a 503 the client retries), the
   services recover by themselves, and every event still reaches the other service.
2. A service killed (SIGKILL) while events for it pile up: restarted, its durable consumer resumes
   from its cursor and applies every one of them.
3. A write acknowledged under an Idempotency-Key survives a kill of its service: the retry gets
   the stored answer and nothing is written twice.
4. SIGTERM: a service stops cleanly (exit status 0).
"""
import concurrent.futures
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ["KEFU_BIN"]
WORK = os.environ["KEFU_WORK"]
RESTART_POSTGRES = os.environ["KEFU_RESTART_POSTGRES"]

spec = importlib.util.spec_from_file_location("seed_demo", os.path.join(ROOT, "scripts", "seed-demo.py"))
seed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed)


def fail(message):
    for name in ("accounts", "reception"):
        path = os.path.join(WORK, f"{name}.log")
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as log:
                sys.stderr.write(f"--- last lines of {name}.log\n" + "".join(log.readlines()[-15:]))
    sys.exit(f"resilience: {message}")


def step(message):
    print(f"  {message}", flush=True)


class Service:
    def __init__(self, name, port):
        self.name, self.port, self.process = name, port, None
        self.base = f"http://127.0.0.1:{port}"

    def start(self):
        log = open(os.path.join(WORK, f"{self.name}.log"), "a")
        self.process = subprocess.Popen([os.path.join(BIN, f"kefu-{self.name}")], stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def ready(self):
        status, _ = call("GET", self.base, "/readyz")
        return status == 200

    def wait_ready(self, timeout=60):
        if not eventually(self.ready, timeout):
            fail(f"{self.name} was not ready within {timeout} s")

    def kill(self, sig=signal.SIGKILL):
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            fail(f"{self.name} was still running 30 s after {signal.Signals(sig).name}")


def call(method, base, path, token=None, body=None, key=None):
    """seed.call, plus an Idempotency-Key; a refused connection reads as status 0."""
    request_headers = {"Idempotency-Key": key} if key else {}
    try:
        return seed.call(method, path, token, body, base=base, headers=request_headers)
    except (OSError, ValueError):  # refused, reset, or a body that is not JSON
        return 0, {}


def eventually(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def new_tenant(accounts):
    """A tenant of this run's own (other test runs may share the cluster): its slug and its admin's token."""
    slug = "r-" + uuid.uuid4().hex[:10]
    phone = "137" + str(uuid.uuid4().int)[:8]
    status, created = call("POST", accounts.base, "/v1/platform/tenants", seed.PLATFORM_TOKEN, {
        "slug": slug, "name": "Resilience " + slug, "seat_limit": 50,
        "admin": {"account": "admin", "password": seed.PASSWORD, "display_name": "Admin", "phone": phone},
    })
    if status != 201:
        fail(f"creating a tenant failed: {status} {created}")
    return slug, seed.admin_token(slug, phone)


def create_employee(accounts, token):
    """Creates an employee (retried through whatever fails); returns its account name."""
    account = "r" + uuid.uuid4().hex[:8]
    retried(accounts, "/v1/employees", token,
            {"account": account, "password": seed.PASSWORD, "display_name": f"Resilient {account}", "role_ids": []})
    return account


def list_all(service, path, token):
    """Every item of a paginated list."""
    items, cursor = [], ""
    while True:
        status, page = call("GET", service.base, f"{path}?limit=200" + (f"&cursor={cursor}" if cursor else ""), token)
        if status != 200:
            fail(f"GET {path} failed: {status} {page}")
        items += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def create_material(reception, token, title):
    """Creates a material (retried through whatever fails)."""
    retried(reception, "/v1/materials", token, {"title": title, "content": {"type": "text", "text": "hello"}})
    return title


FAILED_ATTEMPTS = []


def retried(service, path, token, body):
    """POSTs `body` under one Idempotency-Key until it is written: 201, or 409
    `idempotency_response_lost` (written, but the answer died with a connection at COMMIT)."""
    key = str(uuid.uuid4())
    answers = []

    def attempt():
        answers.append(call("POST", service.base, path, token, body, key))
        status, answer = answers[-1]
        if status != 201:
            FAILED_ATTEMPTS.append(status)
        return status == 201 or answer.get("code") == "idempotency_response_lost"
    if not eventually(attempt, 60):
        fail(f"POST {path} never succeeded: {answers[-3:]}")
    return answers[-1]


def exactly_once(names, listed, what):
    """Every name written appears exactly once among `listed` (the retries wrote nothing twice)."""
    counts = {name: listed.count(name) for name in names}
    if any(count != 1 for count in counts.values()):
        fail(f"{what} written other than once: {[(n, c) for n, c in counts.items() if c != 1]}")


def group_with(reception, token, members, timeout=60):
    """Creates a group of `members` once reception knows every one of them (from the events)."""
    body = {"name": "g" + uuid.uuid4().hex[:8], "member_ids": members, "per_agent_limit": 5,
            "queue": {"enabled": True, "max_length": 20, "max_wait_seconds": 300}}
    key = str(uuid.uuid4())
    answers = []

    def attempt():
        answers.append(call("POST", reception.base, "/v1/groups", token, body, key))
        status, answer = answers[-1]
        if status == 422 and not all(e["field"].startswith("member_ids") for e in answer.get("errors", [])):
            fail(f"the group was refused for another reason: {answer}")
        return status == 201
    if not eventually(attempt, timeout):
        fail(f"reception never learned of {len(members)} employees: {answers[-1]}")


def main():
    accounts = Service("accounts", os.environ["KEFU_ACCOUNTS_PORT"])
    reception = Service("reception", os.environ["KEFU_RECEPTION_PORT"])
    try:
        run(accounts, reception)
    finally:
        for service in (accounts, reception):
            if service.process and service.process.poll() is None:
                service.kill()


def run(accounts, reception):
    accounts.start()
    reception.start()
    _, token = new_tenant(accounts)

    print("resilience: Postgres restarts under running services, writes in flight", flush=True)
    run_id = uuid.uuid4().hex[:8]
    restarted = threading.Event()

    def keep_creating_materials(worker):
        """Materials one after another until a moment after the restart: writes are in flight."""
        titles, deadline = [], None
        while deadline is None or time.monotonic() < deadline:
            titles.append(create_material(reception, token, f"{run_id}-{worker}-{len(titles)}"))
            if deadline is None and restarted.is_set():
                deadline = time.monotonic() + 0.5
        return titles
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        creations = [pool.submit(create_employee, accounts, token) for _ in range(15)]
        writers = [pool.submit(keep_creating_materials, worker) for worker in range(4)]
        time.sleep(0.5)
        subprocess.run(["bash", "-c", RESTART_POSTGRES], check=True)
        restarted.set()
        accounts_written = [creation.result() for creation in creations]
        titles = [title for writer in writers for title in writer.result()]
    accounts.wait_ready()
    reception.wait_ready()
    step(f"ready again; 15 employees and {len(titles)} materials written, {len(FAILED_ATTEMPTS)} failed attempt(s) retried")
    employees = list_all(accounts, "/v1/employees", token)
    exactly_once(accounts_written, [e["account"] for e in employees], "employees")
    exactly_once(titles, [m["title"] for m in list_all(reception, "/v1/materials", token)], "materials")
    step("every write is there exactly once")
    group_with(reception, token, [e["id"] for e in employees if e["account"] in accounts_written])
    step("every one of their events reached reception")

    print("resilience: reception killed while its events pile up", flush=True)
    if reception.kill() != -signal.SIGKILL:
        fail("reception did not die of SIGKILL")
    missed = [create_employee(accounts, token) for _ in range(10)]
    reception.start()
    group_with(reception, token, [e["id"] for e in list_all(accounts, "/v1/employees", token) if e["account"] in missed])
    step("restarted, it applied all 10 events it missed")

    print("resilience: an acknowledged write survives a kill of its service", flush=True)
    key = str(uuid.uuid4())
    body = {"title": "Resilient " + key[:8], "content": {"type": "text", "text": "still here"}}
    status, first = call("POST", reception.base, "/v1/materials", token, body, key)
    if status != 201:
        fail(f"creating a material failed: {status} {first}")
    reception.kill()
    reception.start()
    status, retry = call("POST", reception.base, "/v1/materials", token, body, key)
    if status != 201 or retry.get("id") != first["id"]:
        fail(f"the retry was not answered with the first response: {status} {retry}")
    if len([m for m in list_all(reception, "/v1/materials", token) if m["title"] == body["title"]]) != 1:
        fail("the retry wrote a second material")
    step("the retry got the stored answer; one material")

    print("resilience: SIGTERM stops a service cleanly", flush=True)
    for service in (reception, accounts):
        if service.kill(signal.SIGTERM) != 0:
            fail(f"{service.name} did not exit 0 on SIGTERM")
    step("both exited 0")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Routing against its real executables: two `kefu-routing` processes on one Postgres, with
accounts and reception as built, over HTTP and real WebSockets (make test runs it after
resilience.py, through resilience-test.sh, which sets the environment):

1. One free seat, two visitors at the same instant on two replicas: one assigned, one queued at 1.
2. 200 messages posted through one replica reach an agent's socket on the other once each, in
   order; a retried `client_message_id` stores nothing twice.
3. The replica holding the socket is killed (SIGKILL) while messages keep coming through the
   other: the client reconnects there, resumes from the last `seq` it saw, and gets exactly what
   it missed — no gap, no duplicate, in order.
4. The visitor ends their conversation: the freed seat takes the queued visitor at once, and the
   agent's socket hears of it.
5. Every replica killed: a durable timer (the conversation timeout) fires once after they restart.
6. An agent whose only replica died goes offline after the grace period (the survivor's sweep).
7. SIGTERM: a replica stops cleanly.
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
import warnings

# websockets 15+ would have its sync connection used as a context manager; this one lives across calls.
warnings.simplefilter("ignore", DeprecationWarning)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ["KEFU_WORK"]
OWNER_URL = os.environ["KEFU_MIGRATION_DATABASE_URL"]
PSQL = os.environ.get("KEFU_PSQL", "psql")

spec = importlib.util.spec_from_file_location("resilience", os.path.join(ROOT, "scripts", "resilience.py"))
resilience = importlib.util.module_from_spec(spec)
spec.loader.exec_module(resilience)
seed, call, eventually, step = resilience.seed, resilience.call, resilience.eventually, resilience.step

from websockets.sync.client import connect  # noqa: E402 (installed by resilience-test.sh)


def fail(message):
    for name in sorted(os.listdir(WORK)):
        if name.endswith(".log"):
            with open(os.path.join(WORK, name), encoding="utf-8", errors="replace") as log:
                sys.stderr.write(f"--- last lines of {name}\n" + "".join(log.readlines()[-15:]))
    sys.exit(f"routing e2e: {message}")


resilience.fail = fail


class Replica(resilience.Service):
    """A `kefu-routing` process on its own port (its log: routing-<label>.log)."""

    def __init__(self, label, port, environment):
        super().__init__("routing", port)
        self.label, self.environment = label, environment

    def start(self):
        log = open(os.path.join(WORK, f"routing-{self.label}.log"), "a")
        environment = {**os.environ, **self.environment, "KEFU_ROUTING_PORT": str(self.port)}
        self.process = subprocess.Popen([os.path.join(resilience.BIN, "kefu-routing")], env=environment,
                                        stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()


def owner_sql(sql):
    """One statement as the owner (past row-level security): the first column of each row."""
    done = subprocess.run([PSQL, OWNER_URL, "-XAtqc", sql], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"psql failed: {done.stderr}")
    return done.stdout.split()


class Socket:
    """A WebSocket of an agent (`token`) or a visitor, resumed from `cursors` on connect."""

    def __init__(self, replica, token, cursors=None, visitor=False):
        path = "/v1/visitor/socket?visitor_token=" if visitor else "/v1/socket?access_token="
        self.pending = []
        self.ws = connect(f"ws://127.0.0.1:{replica.port}{path}{token}", open_timeout=10)
        if self.next()["type"] != "ready":
            fail("the socket did not start with ready")
        self.ws.send(json.dumps({"type": "resume", "cursors": cursors or {}}))
        backlog = []
        while (frame := self.next())["type"] != "resumed":
            backlog.append(frame)
        # What came before `resumed` (the backlog, the states) is read first.
        self.pending = backlog

    def next(self, timeout=30):
        frame = self.receive(timeout)
        if frame is None:
            fail(f"no frame within {timeout} s")
        return frame

    def receive(self, timeout):
        """The next frame, or None when none comes within `timeout` seconds."""
        if self.pending:
            return self.pending.pop(0)
        try:
            return json.loads(self.ws.recv(timeout=timeout))
        except TimeoutError:
            return None

    def frames(self, timeout):
        """Frames received before `timeout` seconds pass without one."""
        while (frame := self.receive(timeout)) is not None:
            yield frame

    def seqs(self, conversation, until):
        """Every message `seq` of `conversation` received until `until` has come and then a quiet
        second has passed (so a duplicate sent late is seen too)."""
        seen = []
        while (frame := self.receive(1 if seen and seen[-1] >= until else 20)) is not None:
            if frame["type"] == "message.created" and frame["conversation_id"] == conversation:
                seen.append(frame["message"]["seq"])
        return seen

    def close(self):
        try:
            self.ws.close()
        except Exception:  # the server may be dead already
            pass


def new_agent(accounts, admin, slug, role):
    account = "e" + uuid.uuid4().hex[:8]
    status, created = call("POST", accounts.base, "/v1/employees", admin, {
        "account": account, "password": seed.PASSWORD, "display_name": f"Agent {account}", "role_ids": [role],
    })
    if status != 201:
        fail(f"creating an agent failed: {status} {created}")
    status, login = call("POST", accounts.base, "/v1/auth/login", None, {"tenant": slug, "account": account, "password": seed.PASSWORD})
    if status != 200 or "access_token" not in login:
        fail(f"signing in as the agent failed: {status} {login}")
    return {"id": created["id"], "token": login["access_token"]}


def online(replica, agent):
    """The agent online with reception on, once routing has projected them from the events."""
    answers = []

    def attempt():
        answers.append(call("PUT", replica.base, "/v1/agents/me/state", agent["token"], {"status": "online", "reception": "on"}))
        return answers[-1][0] == 200
    if not eventually(attempt, 60):
        fail(f"the agent could not go online: {answers[-1]}")


def reception_setup(reception, admin, members):
    """A group of `members` (one seat each, queueing) and a widget receiving into it: its key."""
    body = {"name": "g" + uuid.uuid4().hex[:8], "member_ids": members, "per_agent_limit": 1,
            "queue": {"enabled": True, "max_length": 20, "max_wait_seconds": 600}}
    answers = []

    def attempt():
        answers.append(call("POST", reception.base, "/v1/groups", admin, body))
        return answers[-1][0] == 201
    if not eventually(attempt, 60):
        fail(f"reception never took the group: {answers[-1]}")
    status, widget = call("POST", reception.base, "/v1/widgets", admin, {
        "name": "w" + uuid.uuid4().hex[:8], "style": "icon", "colour": "#1677ff", "pre_assignment_messages": [],
        "guide_rules_enabled": False, "reception": {"mode": "group", "group_id": answers[-1][1]["id"]},
        "mount_positions": [], "extra_entries": [],
    })
    if status != 201:
        fail(f"creating the widget failed: {status} {widget}")
    return widget["public_key"]


def new_visitor(replica, key):
    status, visitor = call("POST", replica.base, f"/v1/public/widgets/{key}/visitors", None, {"attributes": {}})
    if status != 201:
        fail(f"starting a visitor failed: {status} {visitor}")
    return visitor["visitor_token"]


def say(replica, visitor, conversation, client_id):
    status, message = call("POST", replica.base, f"/v1/visitor/conversations/{conversation}/messages", visitor,
                           {"client_message_id": client_id, "body": {"type": "text", "text": f"message {client_id}"}})
    if status not in (200, 201):
        fail(f"sending {client_id} failed: {status} {message}")
    return status, message


def expect_exactly(seqs, first, last, what):
    if seqs != list(range(first, last + 1)):
        fail(f"{what}: expected seq {first}..{last} once each in order, got {seqs[:10]}… ({len(seqs)} frames)")


def main():
    common = {"KEFU_PRESENCE_GRACE_SECONDS": "2", "KEFU_PRESENCE_HEARTBEAT_SECONDS": "1", "KEFU_TIMER_POLL_MS": "100",
              "KEFU_VISITOR_RATE_LIMIT_PER_ADDRESS": "100000"}
    accounts = resilience.Service("accounts", os.environ["KEFU_ACCOUNTS_PORT"])
    reception = resilience.Service("reception", os.environ["KEFU_RECEPTION_PORT"])
    a = Replica("a", os.environ["KEFU_E2E_ROUTING_PORT"], common)
    b = Replica("b", os.environ["KEFU_E2E_ROUTING_PORT_2"], common)
    try:
        run(accounts, reception, a, b)
    finally:
        for service in (accounts, reception, a, b):
            if service.process and service.process.poll() is None:
                service.kill()


def run(accounts, reception, a, b):
    for service in (accounts, reception, a, b):
        service.start()
    slug, admin = resilience.new_tenant(accounts)
    roles = {role["name"]: role["id"] for role in call("GET", accounts.base, "/v1/roles", admin)[1]["data"]}
    first, second = (new_agent(accounts, admin, slug, roles["在线客服"]) for _ in range(2))
    key = reception_setup(reception, admin, [first["id"], second["id"]])

    print("routing e2e: one free seat, two visitors at the same instant on two replicas", flush=True)
    online(a, first)
    visitors = [new_visitor(a, key), new_visitor(b, key)]
    gate, replies = threading.Barrier(2), [None, None]

    def start(index, replica):
        gate.wait()
        replies[index] = call("POST", replica.base, "/v1/visitor/conversations", visitors[index], {})
    threads = [threading.Thread(target=start, args=(i, r)) for i, r in enumerate((a, b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(reply[1].get("status", str(reply[0])) for reply in replies)
    if statuses != ["open", "queued"]:
        fail(f"expected one open and one queued, got {statuses}")
    served = next(i for i, reply in enumerate(replies) if reply[1]["status"] == "open")
    waiting = 1 - served
    if replies[waiting][1]["queue"]["position"] != 1:
        fail(f"the second visitor is not first in the queue: {replies[waiting][1]}")
    conversation, visitor = replies[served][1]["id"], visitors[served]
    queued, queued_visitor = replies[waiting][1]["id"], visitors[waiting]
    step("one assigned, one queued at 1")

    print("routing e2e: 200 messages through one replica reach a socket on the other, once each, in order", flush=True)
    socket = Socket(a, first["token"])
    base = call("GET", b.base, f"/v1/visitor/conversations/{conversation}", visitor)[1]["last_seq"]
    for n in range(200):
        say(b, visitor, conversation, f"m{n}")
    status, again = say(b, visitor, conversation, "m7")
    if status != 200 or again["seq"] != base + 8:
        fail(f"the retried client_message_id was not answered with the stored message: {status} {again}")
    expect_exactly(socket.seqs(conversation, base + 200), base + 1, base + 200, "the socket on the other replica")
    stored = call("GET", b.base, f"/v1/visitor/conversations/{conversation}/messages?after_seq={base}&limit=200", visitor)[1]["data"]
    if [m["client_message_id"] for m in stored] != [f"m{n}" for n in range(200)]:
        fail("the stored messages are not the 200 sent, once each")
    step("200 received once each in order; the retry stored nothing")

    print("routing e2e: the socket's replica killed; the client resumes on the other with exactly what it missed", flush=True)
    last = base + 200
    if a.kill() != -signal.SIGKILL:
        fail("replica a did not die of SIGKILL")
    socket.close()
    for n in range(200, 220):
        say(b, visitor, conversation, f"m{n}")
    socket = Socket(b, first["token"], cursors={conversation: last})
    expect_exactly(socket.seqs(conversation, last + 20), last + 1, last + 20, "the resumed socket")
    step("20 missed messages received once each in order after resuming")

    print("routing e2e: the visitor ends; the freed seat takes the queued visitor at once", flush=True)
    status, ended = call("POST", b.base, f"/v1/visitor/conversations/{conversation}/end", visitor)
    if status != 200 or ended["status"] != "ended":
        fail(f"ending failed: {status} {ended}")
    for frame in socket.frames(timeout=10):
        if frame.get("conversation_id") == queued and frame["type"] == "conversation.assigned":
            break
    else:
        fail("the agent's socket never heard of the queued visitor's assignment")
    now = call("GET", b.base, f"/v1/visitor/conversations/{queued}", queued_visitor)[1]
    if now["status"] != "open" or now["agent"]["id"] != first["id"]:
        fail(f"the queued visitor was not assigned to the freed seat: {now}")
    step("assigned to the freed seat, pushed on the socket")

    print("routing e2e: every replica killed; a durable timer fires once after they restart", flush=True)
    socket.close()
    b.kill()
    owner_sql(f"UPDATE routing.timers SET due_at = now() WHERE conversation_id = '{queued}' AND kind = 'conversation_timeout'")
    a.start()
    b.start()

    def timed_out():
        return call("GET", a.base, f"/v1/visitor/conversations/{queued}", queued_visitor)[1].get("end_reason") == "timeout"
    if not eventually(timed_out, 30):
        fail("the conversation timeout did not fire after the restart")
    time.sleep(1)  # both replicas poll every 100 ms: a second firing would have happened by now
    ends = owner_sql(f"SELECT count(*) FROM kefu.events WHERE type = 'conversation.ended' AND payload->>'conversation_id' = '{queued}'")
    if ends != ["1"]:
        fail(f"the timeout ended the conversation other than once: {ends}")
    step("fired once")

    print("routing e2e: an agent whose only replica died goes offline after the grace period", flush=True)
    online(b, second)
    socket = Socket(b, second["token"])
    b.kill()
    socket.close()

    def offline():
        return call("GET", a.base, "/v1/agents/me/state", second["token"])[1].get("status") == "offline"
    if not eventually(offline, 30):
        fail("the agent stayed online after their replica died")
    step("offline, by the surviving replica's sweep")

    print("routing e2e: SIGTERM stops a replica cleanly", flush=True)
    if a.kill(signal.SIGTERM) != 0:
        fail("routing did not exit 0 on SIGTERM")
    step("exited 0")


if __name__ == "__main__":
    main()

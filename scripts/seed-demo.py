#!/usr/bin/env python3
"""Seeds the demo tenant through the public APIs (make run calls it; it does nothing twice).
With --admin-token, only signs in as the demo admin and prints the access token.

The demo tenant `demo`: a super admin, a supervisor and two agents in two departments, and a
reception set-up (a web channel, two reception groups, a widget, a guide rule and an assignment
rule). The second factor code of the super admin comes from the development SMS sender, which
writes it to the accounts log.
"""
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

ACCOUNTS = f"http://127.0.0.1:{os.environ.get('KEFU_ACCOUNTS_PORT', '8081')}"
RECEPTION = f"http://127.0.0.1:{os.environ.get('KEFU_RECEPTION_PORT', '8082')}"
PLATFORM_TOKEN = os.environ["KEFU_PLATFORM_TOKEN"]
LOG = os.environ.get("KEFU_ACCOUNTS_LOG", ".data/logs/accounts.log")
PASSWORD = "Demo12345"
ADMIN_PHONE = "13800000000"


def call(method, path, token=None, body=None, base=ACCOUNTS, headers=None):
    request = urllib.request.Request(base + path, method=method, headers=headers or {})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def sms_code(phone, after):
    """The newest code the development SMS sender logged for `phone` after byte offset `after`."""
    for _ in range(100):
        with open(LOG, encoding="utf-8", errors="replace") as log:
            log.seek(after)
            codes = [m.group(1) for line in log if phone in line for m in [re.search(r"code: (\d{6})", line)] if m]
        if codes:
            return codes[-1]
        time.sleep(0.1)
    sys.exit(f"no sign-in code for {phone} in {LOG} (is KEFU_SMS_WEBHOOK_URL set? then the code went to your gateway)")


def admin_token(slug="demo", phone=ADMIN_PHONE):
    """Signs in as a tenant's super admin (password, then the logged second-factor code)."""
    offset = os.path.getsize(LOG)
    status, login = call("POST", "/v1/auth/login", body={"tenant": slug, "account": "admin", "password": PASSWORD})
    if status != 200:
        sys.exit(f"signing in as the {slug} admin failed: {status} {login}")
    status, tokens = call("POST", "/v1/auth/mfa", body={
        "tenant": slug, "challenge_id": login["challenge_id"], "code": sms_code(phone, offset),
    })
    if status != 200:
        sys.exit(f"signing in as the {slug} admin failed: {status} {tokens}")
    return tokens["access_token"]


def main():
    status, body = call("POST", "/v1/platform/tenants", PLATFORM_TOKEN, {
        "slug": "demo", "name": "Demo Company", "seat_limit": 20,
        "admin": {"account": "admin", "password": PASSWORD, "display_name": "Demo Admin", "phone": ADMIN_PHONE},
    })
    if status == 409:
        print("demo tenant already seeded")
        return
    if status == 401:
        sys.exit(f"accounts ({ACCOUNTS}) refused the platform token: it runs with another KEFU_PLATFORM_TOKEN"
                 " (make stop, then make run, restarts it with this one)")
    if status != 201:
        sys.exit(f"creating the demo tenant failed: {status} {body}")

    token = admin_token()

    roles = {role["name"]: role["id"] for role in call("GET", "/v1/roles", token)[1]["data"]}
    departments = {}
    for name in ("客服一部", "客服二部"):
        status, department = call("POST", "/v1/departments", token, {"name": name})
        departments[name] = department["id"]
    people = [
        ("supervisor", "王主管", "客服一部", "客服主管", "13800000001"),
        ("agent1", "李客服", "客服一部", "在线客服", "13800000002"),
        ("agent2", "张客服", "客服二部", "在线客服", "13800000003"),
    ]
    employees = {}
    for account, name, department, role, phone in people:
        status, created = call("POST", "/v1/employees", token, {
            "account": account, "password": PASSWORD, "display_name": name, "phone": phone,
            "department_id": departments[department], "role_ids": [roles[role]],
        })
        if status != 201:
            sys.exit(f"creating {account} failed: {status} {created}")
        employees[account] = created["id"]
    seed_reception(token, employees)
    print("seeded the demo tenant")


def reception(method, path, token, body=None, expect=201):
    status, result = call(method, path, token, body, base=RECEPTION)
    if status != expect:
        sys.exit(f"{method} {path} on reception failed: {status} {result}")
    return result


def group_when_known(token, body):
    """Reception learns of new employees from the accounts events, one after another: a group
    naming them is refused until it knows them all, so ask until it does."""
    for _ in range(300):
        status, group = call("POST", "/v1/groups", token, body, base=RECEPTION)
        if status == 201:
            return group
        time.sleep(0.1)
    sys.exit(f"reception never learned of the demo agents: {status} {group}")


def seed_reception(token, employees):
    queue = {"enabled": True, "max_length": 20, "max_wait_seconds": 300}
    sales = group_when_known(token, {
        "name": "售前咨询", "member_ids": [employees["agent1"]], "per_agent_limit": 5, "queue": queue,
    })
    support = group_when_known(token, {
        "name": "售后服务", "member_ids": [employees["agent2"], employees["supervisor"]], "per_agent_limit": 5, "queue": queue,
    })
    reception("POST", "/v1/channels", token, {"name": "官网", "type": "web", "enabled": True})
    reception("POST", "/v1/widgets", token, {
        "name": "官网咨询", "style": "icon", "colour": "#1677ff", "pre_assignment_messages": ["您好，有什么可以帮您？"],
        "guide_rules_enabled": True, "reception": {"mode": "self_service", "navigation": [
            {"label": "售前咨询", "group_id": sales["id"]}, {"label": "售后服务", "group_id": support["id"]},
        ]},
        "mount_positions": [{"page_name": "首页", "url": "https://www.example.com/"}], "extra_entries": [],
    })
    reception("POST", "/v1/guide-rules", token, {
        "name": "老客户欢迎", "enabled": True,
        "conditions": {"join": "all", "conditions": [{"field": "visitor.visit_count", "op": "greater_or_equal", "value": 3}]},
        "messages": [{"interval_seconds": 2, "content": {"type": "text", "text": "欢迎回来！"}}],
    })
    reception("POST", "/v1/assignment-rules", token, {
        "name": "VIP 专属", "enabled": True,
        "conditions": {"join": "any", "conditions": [{"field": "customer.tags", "op": "contains_any", "value": ["VIP"]}]},
        "targets": [{"type": "owner"}, {"type": "group", "id": support["id"]}],
    })


if __name__ == "__main__":
    if sys.argv[1:] == ["--admin-token"]:
        print(admin_token())
    else:
        main()

#!/usr/bin/env python3
"""The partner channel and a WeChat official account against the real executables (accounts,
reception, routing as built), with the other side played by the libraries partners and WeChat
integrators use (make test runs it after routing-e2e.py, through resilience-test.sh, which sets
the environment):

1. Partner: a user's message arrives with the partner's API key (exchanged at accounts), once per
   `client_message_id`; the agent's answer reaches the partner's URL as a Standard Webhook,
   verified with `standardwebhooks` (`Webhook(secret).verify`), retried under one `webhook-id`.
2. WeChat, played by `wechatpy`: URL verification with WeChat's published vector; a safe-mode
   message (`WeChatCrypto.encrypt_message`) with a keyword reply decrypted by
   `WeChatCrypto.decrypt_message` and read by `parse_message` / `replies.deserialize_reply`; the
   same message again answered identically and handled once; a wrong signature, a wrong app id
   and broken padding refused, creating nothing; the previous EncodingAESKey still accepted
   after a rotation.
3. WeChat outbound through a local stand-in of WeChat's API (`KEFU_WECHAT_API_BASE_URL`): "connect
   to an agent" opens a conversation; the agent's answers go out through the customer-service
   API with one shared token, refreshed once on 42001; 45015 reaches the agent as a failed
   message, sent once and never again.
"""
import base64
import hashlib
import http.server
import importlib.util
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("resilience", os.path.join(ROOT, "scripts", "resilience.py"))
resilience = importlib.util.module_from_spec(spec)
spec.loader.exec_module(resilience)
seed, call, eventually, step = resilience.seed, resilience.call, resilience.eventually, resilience.step
spec = importlib.util.spec_from_file_location("routing_e2e", os.path.join(ROOT, "scripts", "routing-e2e.py"))
e2e = importlib.util.module_from_spec(spec)
spec.loader.exec_module(e2e)

from standardwebhooks import Webhook  # noqa: E402 (installed by resilience-test.sh)
from wechatpy import parse_message  # noqa: E402
from wechatpy.crypto import WeChatCrypto  # noqa: E402
from wechatpy.replies import deserialize_reply  # noqa: E402
from wechatpy.utils import check_signature  # noqa: E402

fail = e2e.fail
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
NEW_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


class Partner:
    """The partner's endpoint: every request verified with standardwebhooks; the first
    `failures` requests of each message answered 500."""

    def __init__(self, secret, failures=2):
        self.webhook, self.failures = Webhook(secret), failures
        self.lock, self.requests, self.unverified = threading.Lock(), [], []
        partner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = partner.webhook.verify(body, headers)
                except Exception as error:
                    with partner.lock:
                        partner.unverified.append(repr(error))
                    payload = None
                with partner.lock:
                    seen = sum(1 for request in partner.requests if request[0] == headers.get("webhook-id"))
                    status = 500 if seen < partner.failures else 200
                    partner.requests.append((headers.get("webhook-id"), payload, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/inbound"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class WeChatServer:
    """A stand-in of WeChat's API servers for one app: tokens (a new one invalidates the old),
    customer-service messages (refusals scripted), menus."""

    def __init__(self, app_id, secret):
        self.app_id, self.secret = app_id, secret
        self.lock, self.issued, self.current, self.sends, self.refusals, self.refuse_always = threading.Lock(), 0, None, [], [], None
        wechat = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/cgi-bin/token" or query.get("appid") != wechat.app_id or query.get("secret") != wechat.secret:
                    return self.answer({"errcode": 40125, "errmsg": "invalid appsecret"})
                with wechat.lock:
                    wechat.issued += 1
                    wechat.current = f"token-{wechat.issued}"
                    return self.answer({"access_token": wechat.current, "expires_in": 7200})

            def do_POST(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with wechat.lock:
                    if query.get("access_token") != wechat.current:
                        return self.answer({"errcode": 40001, "errmsg": "invalid credential"})
                    wechat.sends.append(body)
                    code = wechat.refuse_always or (wechat.refusals.pop(0) if wechat.refusals else 0)
                return self.answer({"errcode": code, "errmsg": "ok" if code == 0 else "refused"})

            def log_message(self, *args):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def raw_post(base, path, body, content_type="text/xml"):
    import urllib.request
    request = urllib.request.Request(base + path, data=body.encode(), method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def raw_get(base, path):
    import urllib.request
    try:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sign(token, timestamp, nonce):
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def count(sql):
    return int(e2e.owner_sql(sql)[0])


def main():
    accounts = resilience.Service("accounts", os.environ["KEFU_ACCOUNTS_PORT"])
    reception = resilience.Service("reception", os.environ["KEFU_RECEPTION_PORT"])
    app_id, app_secret = "wx" + uuid.uuid4().hex[:16], "s" + uuid.uuid4().hex
    wechat = WeChatServer(app_id, app_secret)
    routing = e2e.Replica("channels", os.environ["KEFU_E2E_ROUTING_PORT"], {
        "KEFU_WECHAT_API_BASE_URL": wechat.base, "KEFU_VISITOR_RATE_LIMIT_PER_ADDRESS": "100000",
    })
    try:
        run(accounts, reception, routing, wechat, app_id, app_secret)
    finally:
        for service in (accounts, reception, routing):
            if service.process and service.process.poll() is None:
                service.kill()


def run(accounts, reception, routing, wechat, app_id, app_secret):
    for service in (accounts, reception, routing):
        service.start()
    slug, admin = resilience.new_tenant(accounts)
    roles = {role["name"]: role["id"] for role in call("GET", accounts.base, "/v1/roles", admin)[1]["data"]}
    agent = e2e.new_agent(accounts, admin, slug, roles["在线客服"])
    e2e.reception_setup(reception, admin, [agent["id"]])
    e2e.online(routing, agent)

    print("channels e2e: the partner channel, verified with standardwebhooks", flush=True)
    partner_token = "partner-" + uuid.uuid4().hex
    secret = "whsec_" + base64.b64encode(hashlib.sha256(partner_token.encode()).digest()).decode()
    partner = Partner(secret)
    status, channel = call("POST", reception.base, "/v1/channels", admin, {
        "name": "Partner", "type": "partner", "enabled": True, "outbound_url": partner.url, "credentials": {"token": partner_token}})
    if status != 201:
        fail(f"creating the partner channel failed: {status} {channel}")
    status, key = call("POST", accounts.base, "/v1/api-keys", admin, {"name": "partner", "permissions": ["reception.channels"]})
    if status != 201:
        fail(f"creating the API key failed: {status} {key}")
    status, exchanged = call("POST", accounts.base, "/v1/auth/api-key-token", None, {"api_key": key["key"]})
    if status != 200:
        fail(f"exchanging the API key failed: {status} {exchanged}")
    partner_access = exchanged["access_token"]
    path = f"/v1/channels/{channel['id']}/inbound/messages"
    message = {"user_id": "partner-user-1", "client_message_id": "p-1", "body": {"type": "text", "text": "Where is my parcel?"}}
    first = call("POST", routing.base, path, partner_access, message)
    again = call("POST", routing.base, path, partner_access, message)
    if first[0] != 201 or again[0] != 200 or first[1]["message"]["id"] != again[1]["message"]["id"]:
        fail(f"partner inbound was not stored exactly once: {first} {again}")
    conversation = first[1]["conversation"]["id"]
    if first[1]["conversation"].get("agent", {}).get("id") != agent["id"]:
        fail(f"the partner's conversation was not assigned to the online agent: {first[1]['conversation']}")
    status, _ = call("POST", routing.base, f"/v1/conversations/{conversation}/messages", agent["token"],
                     {"client_message_id": "a-1", "body": {"type": "text", "text": "On its way"}})
    if status != 201:
        fail(f"the agent could not answer: {status}")
    if not eventually(lambda: len(partner.requests) >= 3, 60):
        fail(f"the partner got {len(partner.requests)} requests, not 3 (500, 500, 200)")
    ids = {request[0] for request in partner.requests}
    payload = partner.requests[-1][1]
    if partner.unverified or len(ids) != 1 or not payload or payload["data"]["user_id"] != "partner-user-1" \
            or payload["data"]["body"]["text"] != "On its way" or "endpoint" in payload["data"]:
        fail(f"partner deliveries: ids {ids}, unverified {partner.unverified}, payload {payload}")
    step("a user's message stored once; the answer verified by standardwebhooks, three attempts under one webhook-id")
    # The agent's one seat (reception_setup) is free again for the official account's follower.
    status, _ = call("POST", routing.base, f"/v1/conversations/{conversation}/end", agent["token"], {})
    if status != 200:
        fail(f"the agent could not end the partner's conversation: {status}")

    print("channels e2e: a WeChat official account, played by wechatpy", flush=True)
    wx_token = "AAAAA"
    status, account = call("POST", reception.base, "/v1/channels", admin, {
        "name": "Official", "type": "wechat_official_account", "enabled": True,
        "credentials": {"app_id": app_id, "app_secret": app_secret, "token": wx_token, "encoding_aes_key": AES_KEY}})
    if status != 201:
        fail(f"creating the official account failed: {status} {account}")
    status, _ = call("PUT", reception.base, f"/v1/channels/{account['id']}/auto-reply", admin, {
        "keyword_replies": [{"keyword": "hours", "match": "contains", "reply": {"type": "text", "text": "We open at nine"}}],
        "menu": [{"name": "人工客服", "action": "connect_agent"}]})
    if status != 200:
        fail(f"setting the auto-reply failed: {status}")
    callback = f"/v1/wechat/{account['id']}"
    # wechatpy's own check of the vector (it raises when the signature is wrong).
    check_signature(wx_token, "f464b24fc39322e44b38aa78f5edd27bd1441696", "1714036504", "1514711492")
    status, echoed = raw_get(routing.base, f"{callback}?signature=f464b24fc39322e44b38aa78f5edd27bd1441696&timestamp=1714036504&nonce=1514711492&echostr=4711")
    if (status, echoed) != (200, "4711"):
        fail(f"URL verification with WeChat's vector: {status} {echoed}")
    step("URL verification with WeChat's published vector")

    def safe_post(crypto, xml, nonce, timestamp, tamper=None):
        envelope = crypto.encrypt_message(xml, nonce, timestamp)
        fields = parse_xml(envelope)
        encrypted, signature = fields["Encrypt"], fields["MsgSignature"]
        if tamper:
            encrypted, signature = tamper(encrypted, signature)
        query = urllib.parse.urlencode({"signature": sign(wx_token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                                        "encrypt_type": "aes", "msg_signature": signature, "openid": "o"})
        body = f"<xml><ToUserName><![CDATA[gh_official]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return raw_post(routing.base, f"{callback}?{query}", body)

    crypto = WeChatCrypto(wx_token, AES_KEY, app_id)
    follower = "o" + uuid.uuid4().hex[:20]
    now = int(time.time())
    text = (f"<xml><ToUserName><![CDATA[gh_official]]></ToUserName><FromUserName><![CDATA[{follower}]]></FromUserName>"
            f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[opening hours?]]></Content>"
            f"<MsgId>{now}01</MsgId></xml>")
    timestamp, nonce = str(now), "1514711492"
    status, answer = safe_post(crypto, text, nonce, timestamp)
    if status != 200:
        fail(f"a safe-mode message was refused: {status} {answer}")
    reply_fields = parse_xml(answer)
    decrypted = crypto.decrypt_message(answer, reply_fields["MsgSignature"], reply_fields["TimeStamp"], reply_fields["Nonce"])
    reply = deserialize_reply(decrypted)
    if reply.type != "text" or reply.content != "We open at nine" or reply.target != follower or reply.source != "gh_official":
        fail(f"the keyword reply was not right: {decrypted}")
    parsed = parse_message(decrypted)
    if parsed.source != "gh_official" or parsed.target != follower:
        fail(f"parse_message read the reply wrongly: {decrypted}")
    status, repeated = safe_post(crypto, text, nonce, timestamp)
    repeated_plain = crypto.decrypt_message(repeated, *(parse_xml(repeated)[k] for k in ("MsgSignature", "TimeStamp", "Nonce")))
    if status != 200 or deserialize_reply(repeated_plain).content != "We open at nine":
        fail(f"the repeated delivery was answered differently: {status} {repeated_plain}")
    if count(f"SELECT count(*) FROM routing.channel_inbound WHERE dedupe_key = 'msg {now}01'") != 1:
        fail("the repeated MsgId was handled twice")
    step("safe mode: keyword reply encrypted and read back by wechatpy; the repeat answered alike, handled once")

    stranger = "o" + uuid.uuid4().hex[:20]
    probe = text.replace(follower, stranger).replace(f"{now}01", f"{now}02")
    refusals = [
        ("a wrong msg_signature", safe_post(crypto, probe, nonce, timestamp, lambda e, s: (e, "0" * 40))),
        ("another app id", safe_post(WeChatCrypto(wx_token, AES_KEY, "wxsomeoneelse"), probe, nonce, timestamp)),
        ("broken padding", safe_post(crypto, probe, nonce, timestamp, lambda e, s: rebroken(e, wx_token, timestamp, nonce))),
    ]
    for what, (status, _) in refusals:
        if status not in (400, 401):
            fail(f"{what} was not refused: {status}")
    if count(f"SELECT count(*) FROM routing.channel_users WHERE external_id = '{stranger}'") != 0:
        fail("a refused delivery created a channel user")
    step("a wrong signature, another app id and broken padding refused; nothing created")

    # A rotation: the new key is current, the old one still accepted while WeChat switches over.
    status, _ = call("PUT", reception.base, f"/v1/channels/{account['id']}", admin, {
        "name": "Official", "type": "wechat_official_account", "enabled": True,
        "credentials": {"encoding_aes_key": NEW_AES_KEY, "previous_encoding_aes_key": AES_KEY}})
    if status != 200:
        fail(f"rotating the EncodingAESKey failed: {status}")
    rotated = probe.replace(f"{now}02", f"{now}03")

    def old_key_accepted():
        return safe_post(crypto, rotated.replace(f"{now}03", f"{now}{int(time.time() * 1000) % 100000}"), nonce, timestamp)[0] == 200
    new_crypto = WeChatCrypto(wx_token, NEW_AES_KEY, app_id)
    if not eventually(lambda: safe_post(new_crypto, rotated, nonce, timestamp)[0] == 200, 30) or not old_key_accepted():
        fail("after a rotation the new and the previous EncodingAESKey are not both accepted")
    step("rotation: the new EncodingAESKey and the previous one both accepted")

    print("channels e2e: WeChat outbound through the customer-service API (a local stand-in)", flush=True)
    click = (f"<xml><ToUserName><![CDATA[gh_official]]></ToUserName><FromUserName><![CDATA[{follower}]]></FromUserName>"
             f"<CreateTime>{now + 5}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event>"
             f"<EventKey><![CDATA[kefu_0]]></EventKey></xml>")
    status, answer = safe_post(new_crypto, click, nonce, timestamp)
    if (status, answer) != (200, "success"):
        fail(f"connect to an agent: {status} {answer}")
    status, active = call("GET", routing.base, "/v1/conversations?view=active", agent["token"])
    chats = [c for c in active.get("data", []) if c["channel"] == "wechat_official_account"]
    if len(chats) != 1:
        fail(f"connect to an agent opened no conversation for the agent: {active}")
    chat = chats[0]["id"]

    def agent_says(text_, client):
        status_, _ = call("POST", routing.base, f"/v1/conversations/{chat}/messages", agent["token"],
                          {"client_message_id": client, "body": {"type": "text", "text": text_}})
        if status_ != 201:
            fail(f"the agent could not write: {status_}")

    def deliveries():
        return call("GET", routing.base, f"/v1/conversations/{chat}/channel-deliveries", agent["token"])[1].get("data", [])
    agent_says("Hello from Kefu", "w-1")
    if not eventually(lambda: len(deliveries()) == 1, 30) or wechat.sends[-1] != {"touser": follower, "msgtype": "text", "text": {"content": "Hello from Kefu"}}:
        fail(f"the customer-service message did not arrive: {wechat.sends} {deliveries()}")
    with wechat.lock:
        wechat.refusals = [42001]
    agent_says("Second", "w-2")
    if not eventually(lambda: len(deliveries()) == 2, 30) or deliveries()[-1]["status"] != "sent" or wechat.issued != 2:
        fail(f"42001 did not refresh the token once and resend: issued {wechat.issued}, {deliveries()}")
    with wechat.lock:
        wechat.refuse_always = 45015
    agent_says("Third", "w-3")
    if not eventually(lambda: len(deliveries()) == 3, 30):
        fail("45015 never reached the agent")
    failed = deliveries()[-1]
    time.sleep(2)
    if failed["status"] != "failed" or failed["error_code"] != 45015 or len(wechat.sends) != 4:
        fail(f"45015: {failed}, sends {len(wechat.sends)} (expected 4: no retry loop)")
    step("sent with one shared token; 42001 refreshed once and resent; 45015 a failed message, sent once")


def parse_xml(text):
    import xmltodict
    return dict(xmltodict.parse(text)["xml"])


def rebroken(encrypted, token, timestamp, nonce):
    """The ciphertext with its last byte changed (its padding no longer PKCS#7), re-signed so that
    only the padding is wrong."""
    raw = bytearray(base64.b64decode(encrypted))
    raw[-1] ^= 0x5A
    broken = base64.b64encode(bytes(raw)).decode()
    return broken, hashlib.sha1("".join(sorted([token, timestamp, nonce, broken])).encode()).hexdigest()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A fake OpenAI-compatible model server for weft's tests (stdlib only).

    python3 tests/fake_server.py [--port N] [--script FILE] [--exit-on-eof]

Listens on 127.0.0.1 (port 0 = a free port) and prints the port, alone on
one line, on stdout once it accepts connections.  SIGTERM, SIGINT, or (with
--exit-on-eof) end of stdin shut it down cleanly.

Endpoints (with or without the /v1 prefix):
  POST /v1/chat/completions   messages, n, max_tokens, logprobs, top_logprobs
  POST /v1/completions        prompt, n, max_tokens, logprobs (int), echo
  POST /v1/embeddings         input (a string or a list): embedding_vector
  POST /control               JSON, see below
  GET  /requests              the requests received so far (JSON list of
                              {"path", "headers", "body", "client_port"}),
                              oldest first (client_port tells connections
                              apart, to check reuse)
  GET  /health                "ok"

The deterministic rule (importable: prompt_key, choice_tokens, token_logprob,
top_alternatives, prompt_tokens, prompt_token_logprob, completion_text):
  - the prompt key is the completions prompt, or for chat the messages joined
    as "ROLE: CONTENT" lines with "\\n";
  - h = sha256("MODEL\\nKEY\\nINDEX") for choice INDEX (0-based, position in
    the reply); the choice has min(5, max_tokens) tokens (max_tokens default
    16), token i being " " + WORDS[h[i] % 64]; the text is their
    concatenation; finish_reason is "stop" when max_tokens > 5 else "length";
  - token i's logprob is -(int.from_bytes(sha256("MODEL\\nKEY\\nINDEX\\nI")[:2])
    % 1000) / 100 - 0.01; its top alternatives (top_logprobs = k) are the
    token itself, then " " + WORDS[(w + j) % 64] with logprob lp - j for
    j = 1..k-1, where w is the token's word number;
  - echo (completions): the prompt's tokens are re.findall(r"\\s*\\S+|\\s+$"),
    token t at position p has logprob -(sha256("MODEL\\nTOKEN\\nP")[0] %
    100) / 10 - 0.05, the first one null (as OpenAI); text = prompt + text;
    with max_tokens 0 only the prompt comes back;
  - scripted answers ({"script": {MODEL: [ANSWER, ...]}}): each choice for
    MODEL takes the next answer while any are left; an ANSWER is a string
    (one token, logprob -0.1, alternatives "1".."k" at -5 unless it is one)
    or {"text": T, "top_logprobs": {TOKEN: LOGPROB, ...}}.
  - the verifier (verifier_answer): a request to a model whose name starts
    with "verifier" and that has no scripted answer left is a verify request;
    its question is the text after the prompt key's first "Question: ", to
    the end of that line.  With h = sha256("verify\\nQUESTION"), the probability of
    Yes is p = (2 * (h[0] % 10) + 1) / 20 (0.05, 0.15, ... 0.95, never 0.5);
    the answer is one token, "Yes" when p > 0.5 else "No", and its top
    alternatives are exactly "Yes" at log(p) and "No" at log(1 - p).  A
    question containing "unsure" (any case) is answered "Perhaps" with
    alternatives "Perhaps" and "Maybe": neither Yes nor No.
  - embeddings (embedding_vector): a text's vector has EMBED_DIM numbers;
    each word (re.findall(r"[a-z0-9]+", text.lower())) adds 1 at position
    sha256("embed\\nWORD")[0] % EMBED_DIM, so texts sharing words are close;
    a text without words is (1, 0, ..., 0).  The vectors are not normalised.
  usage: prompt_tokens = number of prompt tokens (echo rule), completion
  tokens = the tokens of all choices.

Batch endpoints (the self-contained "batch" section below; OpenAI's Files
and Batch APIs, with or without the /v1 prefix):
  POST /v1/files               multipart/form-data: purpose=batch, file=JSONL
  GET  /v1/files/ID            the file object (id, bytes, filename, purpose)
  GET  /v1/files/ID/content    the file's bytes
  POST /v1/batches             {"input_file_id", "endpoint", "completion_window",
                               "metadata"} (metadata kept, as given)
  GET  /v1/batches?limit=N&after=ID   the batches, newest first: {"data",
                               "has_more", "first_id", "last_id"}
  GET  /v1/batches/ID          the batch object: status, request_counts,
                               output_file_id, error_file_id, errors
  POST /v1/batches/ID/cancel   status "cancelling", then "cancelled"
  Each input line {"custom_id", "method", "url", "body"} is answered by the
  live rule (build_reply with no fault) into the output file as
  {"id", "custom_id", "response": {"status_code": 200, "request_id",
  "body"}, "error": null}.  A batch moves validating -> in_progress ->
  finalizing -> completed, one state per GET of it (or per
  "polls_per_state" GETs), and holds at "hold" while that is set.
  Controls (POST /control, key "batch", every key optional; "reset" clears):
    "polls_per_state": N   GETs of a batch before it moves on (default 1)
    "hold": STATUS         a batch stops moving at STATUS until hold is null
    "fail_ids": [ID, ...]  these custom_ids go to the error file (HTTP 500
                           in the line, as a server error inside a batch)
    "fail_every": K        every K-th line (1-based) goes there too
    "outcome": "failed"    validation fails: status failed, errors.data,
                           no output file
    "outcome": "expired"   status expired after in_progress: only the first
                           "expire_after" (default half) lines answered
    "upload_delay": S      sleep S seconds before answering an upload
    "content_delay": S     sleep S seconds before sending file content
    "list_page": N         the batch list's pages hold at most N batches
                           (whatever limit asks), to make clients page
    "list_fail": STATUS    the batch list answers this HTTP error instead

POST /control takes an object; every key is optional:
  "reset": true            forget faults, scripts, settings and requests
  "latency_ms": N          sleep N ms before every answer
  "ignore_n": true|false   answer one choice whatever n says
  "ignore_echo": true|false  completions ignore echo (as llama.cpp does)
  "max_n": N               answer 400 when n > N (llama-server's slots)
  "no_logprobs": true|false  answer "logprobs": null whatever was asked
  "script": {MODEL: [...]} append scripted answers (see above)
  "faults": [FAULT, ...]   append to the fault queue: each request takes the
                           next fault (if any) and misbehaves as it says:
     {"status": 429|500|502|503|400|401|403|404|408|409, "message": M,
      "code": C, "type": T, "retry_after": "1" or an HTTP date,
      "retry_after_ms": "20"}   an error reply (401 echoes the bearer key
                                 in its message, as some servers do)
     {"insufficient_quota": true}  429 with code/type insufficient_quota
     {"hang": SECONDS}          sleep, then answer normally (if still there)
     {"drop": true}             send half the body, then close the connection
     {"malformed": true}        200 with a body that is not JSON
     {"truncated": true}        200 with JSON cut in half (Content-Length ok)
     {"empty_choices": true}    200 with "choices": []
     {"fewer": K}               200 with K choices whatever n says
     {"ignore_n": true}         200 with one choice
     {"non_utf8": true}         200 with raw bytes ff fe inside the text
  "keyed": [RULE, ...]     append to the keyed rules, which single out
                           requests by what they ask (one session among
                           many): a request whose prompt key contains
                           RULE["contains"] (and whose model is RULE["model"],
                           when given) takes the first such rule, every time
                           (nothing is used up), instead of the fault queue.
                           The rule is a FAULT as above, or {"answer": A}:
                           every choice answers A (as a scripted answer).
"""
import argparse
import email.utils
import hashlib
import json
import math
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = [
    "amber", "basin", "cedar", "delta", "ember", "fable", "grove", "harbor",
    "island", "jasper", "kernel", "lantern", "meadow", "nectar", "orbit",
    "pebble", "quartz", "river", "saffron", "timber", "umber", "velvet",
    "willow", "xenon", "yonder", "zephyr", "anchor", "bramble", "cobalt",
    "dune", "echo", "falcon", "garnet", "hollow", "indigo", "juniper",
    "kestrel", "lilac", "marble", "nimbus", "opal", "prairie", "quill",
    "raven", "sable", "thistle", "upland", "vertex", "wander", "yarrow",
    "zinc", "aspen", "birch", "canyon", "drift", "estuary", "fern", "glade",
    "heron", "iris", "jade", "kelp", "lumen", "moss",
]
assert len(WORDS) == 64

DEFAULT_MAX_TOKENS = 16
MAX_CHOICE_TOKENS = 5


def _sha(s):
    return hashlib.sha256(s.encode("utf-8")).digest()


EMBED_DIM = 64


def embedding_vector(text):
    """The fake embedder's vector of a text (see the module's doc)."""
    v = [0.0] * EMBED_DIM
    words = re.findall(r"[a-z0-9]+", text.lower())
    for w in words:
        v[_sha("embed\n" + w)[0] % EMBED_DIM] += 1.0
    if not words:
        v[0] = 1.0
    return v


def embeddings_reply(body):
    inputs = body.get("input", [])
    if isinstance(inputs, str):
        inputs = [inputs]
    data = [{"object": "embedding", "index": i, "embedding": embedding_vector(t)}
            for i, t in enumerate(inputs)]
    out = {"object": "list", "model": body.get("model", ""), "data": data,
           "usage": {"prompt_tokens": 0, "total_tokens": 0}}
    return 200, {}, json.dumps(out).encode("utf-8")


def prompt_key(endpoint, body):
    """The text the deterministic rule hashes: the prompt, or chat lines."""
    if endpoint == "chat":
        return "\n".join("%s: %s" % (m.get("role", ""), m.get("content", ""))
                         for m in body.get("messages", []))
    p = body.get("prompt", "")
    if isinstance(p, list):
        p = p[0] if p else ""
    return p


def choice_tokens(model, key, index, max_tokens=None):
    """The generated tokens of choice INDEX."""
    mt = DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
    h = _sha("%s\n%s\n%d" % (model, key, index))
    return [" " + WORDS[h[i] % 64] for i in range(max(0, min(MAX_CHOICE_TOKENS, mt)))]


def completion_text(model, key, index, max_tokens=None):
    return "".join(choice_tokens(model, key, index, max_tokens))


def finish_reason(max_tokens=None):
    mt = DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
    return "stop" if mt > MAX_CHOICE_TOKENS else "length"


def token_logprob(model, key, index, pos):
    h = _sha("%s\n%s\n%d\n%d" % (model, key, index, pos))
    return -(int.from_bytes(h[:2], "big") % 1000) / 100.0 - 0.01


def top_alternatives(token, lp, k):
    """[(token, logprob)] for a generated token, best first, k entries."""
    out = [(token, lp)]
    w = WORDS.index(token.strip()) if token.strip() in WORDS else 0
    for j in range(1, k):
        out.append((" " + WORDS[(w + j) % 64], lp - j))
    return out


def verifier_p(question):
    """The verifier's probability of Yes for a question (see the header)."""
    h = _sha("verify\n%s" % question)
    return (2 * (h[0] % 10) + 1) / 20.0


def verifier_answer(key):
    """The verifier's scripted-style answer for a prompt key:
    {"text": T, "top_logprobs": {TOKEN: LOGPROB}}."""
    m = re.search(r"Question: (.*)", key)
    question = m.group(1) if m else ""
    if "unsure" in question.lower():
        return {"text": "Perhaps", "top_logprobs": {"Perhaps": math.log(0.6),
                                                     "Maybe": math.log(0.4)}}
    p = verifier_p(question)
    return {"text": "Yes" if p > 0.5 else "No",
            "top_logprobs": {"Yes": math.log(p), "No": math.log(1.0 - p)}}


def prompt_tokens(prompt):
    return re.findall(r"\s*\S+|\s+$", prompt)


def prompt_token_logprob(model, token, pos):
    return -(_sha("%s\n%s\n%d" % (model, token, pos))[0] % 100) / 10.0 - 0.05


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.latency_ms = 0
        self.ignore_n = False
        self.ignore_echo = False
        self.max_n = None
        self.no_logprobs = False
        self.script = {}
        self.faults = []
        self.keyed = []
        self.requests = []


STATE = State()


def _chat_logprobs(toks):
    return {"content": [{"token": t, "logprob": lp, "bytes": list(t.encode("utf-8")),
                         "top_logprobs": [{"token": a, "logprob": b,
                                           "bytes": list(a.encode("utf-8"))}
                                          for a, b in tops]}
                        for t, lp, tops in toks]}


def build_reply(endpoint, body, fault):
    """Returns (status, headers, bytes) for a normal (or content-fault) reply."""
    if endpoint == "embeddings":
        return embeddings_reply(body)
    model = body.get("model", "")
    key = prompt_key(endpoint, body)
    n = body.get("n", 1) or 1
    mt = body.get("max_tokens", body.get("max_completion_tokens"))
    with STATE.lock:
        if STATE.max_n is not None and n > STATE.max_n:
            return error_reply(400, "n (%d) is larger than the number of slots (%d)"
                               % (n, STATE.max_n), "invalid_request_error", None)
        count = n
        if STATE.ignore_n or (fault and fault.get("ignore_n")):
            count = 1
        if fault and "fewer" in fault:
            count = int(fault["fewer"])
        if fault and fault.get("empty_choices"):
            count = 0
        scripted = []
        for i in range(count):
            q = STATE.script.get(model)
            if fault and "answer" in fault:  # a keyed rule's answer
                scripted.append(fault["answer"])
                continue
            scripted.append(q.pop(0) if q else None)
            if scripted[-1] is None and str(model).startswith("verifier"):
                scripted[-1] = verifier_answer(key if isinstance(key, str) else "")
        no_logprobs = STATE.no_logprobs
    if endpoint == "chat":
        want_lp = bool(body.get("logprobs"))
        k = int(body.get("top_logprobs") or 0)
    else:
        lpv = body.get("logprobs")
        want_lp = lpv is not None and lpv is not False
        k = int(lpv or 0) if want_lp else 0
    if no_logprobs:
        want_lp = False
    with STATE.lock:
        ignore_echo = STATE.ignore_echo
    echo = endpoint == "completions" and bool(body.get("echo")) and not ignore_echo
    ptoks = prompt_tokens(key) if isinstance(key, str) else []
    choices = []
    completion_count = 0
    for i in range(count):
        s = scripted[i]
        if s is not None:
            if isinstance(s, str):
                s = {"text": s}
            text = s["text"]
            tops_given = s.get("top_logprobs")
            if tops_given is None:
                tops_given = {text: -0.1}
                for d in range(1, k + 1):
                    if str(d) != text and len(tops_given) < k:
                        tops_given[str(d)] = -5.0
            tops = sorted(tops_given.items(), key=lambda kv: -kv[1])[:max(k, 1)]
            lp = tops_given.get(text, -0.1)
            toks = [(text, lp, tops[:k])]
            fr = "stop"
        else:
            gen = choice_tokens(model, key, i, mt)
            toks = []
            for pos, t in enumerate(gen):
                lp = token_logprob(model, key, i, pos)
                toks.append((t, lp, top_alternatives(t, lp, k)))
            text = "".join(gen)
            fr = finish_reason(mt)
        completion_count += len(toks)
        if endpoint == "chat":
            c = {"index": i, "message": {"role": "assistant", "content": text},
                 "finish_reason": fr, "logprobs": _chat_logprobs(toks) if want_lp else None}
        else:
            all_toks = []
            if echo:
                for pos, t in enumerate(ptoks):
                    plp = None if pos == 0 else prompt_token_logprob(model, t, pos)
                    alts = None if pos == 0 else {t: plp}
                    all_toks.append((t, plp, alts))
                text = key + text
            for t, lp, tops in toks:
                all_toks.append((t, lp, {a: b for a, b in tops[:k]}))
            lpobj = None
            if want_lp:
                offs = []
                o = 0
                for t, _, _ in all_toks:
                    offs.append(o)
                    o += len(t)
                lpobj = {"tokens": [t for t, _, _ in all_toks],
                         "token_logprobs": [lp for _, lp, _ in all_toks],
                         "top_logprobs": [tp if tp is not None else None
                                          for _, _, tp in all_toks],
                         "text_offset": offs}
            c = {"index": i, "text": text, "finish_reason": fr, "logprobs": lpobj}
        choices.append(c)
    reply = {"id": "fake-%d" % int(time.time() * 1000),
             "object": "chat.completion" if endpoint == "chat" else "text_completion",
             "created": int(time.time()), "model": model, "choices": choices,
             "usage": {"prompt_tokens": len(ptoks), "completion_tokens": completion_count,
                       "total_tokens": len(ptoks) + completion_count}}
    data = json.dumps(reply).encode("utf-8")
    if fault and fault.get("non_utf8"):
        # Put raw invalid bytes inside the first text.
        marker = b'"content": "' if endpoint == "chat" else b'"text": "'
        data = data.replace(marker, marker + b"\xff\xfe", 1)
    return 200, {}, data


def error_reply(status, message, etype, code, headers=None):
    body = {"error": {"message": message, "type": etype, "code": code, "param": None}}
    return status, headers or {}, json.dumps(body).encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "weft-fake/1"
    # headers and body go out in two writes: without this, Nagle and the
    # client's delayed ACK add ~40 ms to every reply on a warm connection
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, headers, data, close=False):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_GET(self):
        path = self.path.split("?")[0]
        if batch_route(self, "GET", path, b""):
            return
        if path == "/requests":
            with STATE.lock:
                data = json.dumps(STATE.requests).encode("utf-8")
            self._send(200, {}, data)
        elif path in ("/health", "/v1/health"):
            self._send(200, {}, b'"ok"')
        else:
            self._send(*error_reply(404, "no such path", "not_found", None))

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_POST(self):
        path = self.path.split("?")[0]
        raw = self._read_body()
        if path == "/control":
            try:
                ctl = json.loads(raw.decode("utf-8") or "{}")
            except ValueError as e:
                self._send(*error_reply(400, "bad control JSON: %s" % e, "invalid", None))
                return
            apply_control(ctl)
            self._send(200, {}, b'{"ok": true}')
            return
        if batch_route(self, "POST", path, raw):
            return
        if path.startswith("/v1/"):
            path = path[3:]
        if path == "/chat/completions":
            endpoint = "chat"
        elif path == "/completions":
            endpoint = "completions"
        elif path == "/embeddings":
            endpoint = "embeddings"
        else:
            self._send(*error_reply(404, "no such path: %s" % path, "not_found", None))
            return
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            with STATE.lock:
                STATE.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                       "body": None, "raw": raw.decode("utf-8", "replace")})
            self._send(*error_reply(400, "invalid JSON body: %s" % e, "invalid", None))
            return
        with STATE.lock:
            STATE.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                   "body": body, "client_port": self.client_address[1]})
            fault = keyed_rule(endpoint, body)
            if fault is None and STATE.faults:
                fault = STATE.faults.pop(0)
            latency = STATE.latency_ms
        if latency:
            time.sleep(latency / 1000.0)
        try:
            self._answer(endpoint, body, fault)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _answer(self, endpoint, body, fault):
        f = fault or {}
        if "hang" in f:
            time.sleep(float(f["hang"]))
        if f.get("insufficient_quota"):
            self._send(*error_reply(429, "You exceeded your current quota, please check "
                                    "your plan and billing details.", "insufficient_quota",
                                    "insufficient_quota"))
            return
        if "status" in f:
            status = int(f["status"])
            headers = {}
            if "retry_after" in f:
                headers["Retry-After"] = str(f["retry_after"])
            if "retry_after_ms" in f:
                headers["retry-after-ms"] = str(f["retry_after_ms"])
            msg = f.get("message")
            if msg is None:
                if status == 401:
                    auth = self.headers.get("Authorization", "")
                    msg = "Incorrect API key provided: %s" % auth.replace("Bearer ", "")
                else:
                    msg = "fake error %d" % status
            self._send(*error_reply(status, msg, f.get("type", "fake_error"),
                                    f.get("code"), headers))
            return
        if f.get("malformed"):
            self._send(200, {}, b"<html>this is not JSON</html>")
            return
        status, headers, data = build_reply(endpoint, body, f)
        if f.get("truncated"):
            self._send(status, headers, data[: len(data) // 2])
            return
        if f.get("drop"):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(status, headers, data)


def keyed_rule(endpoint, body):
    """The first keyed rule the request matches, or None (STATE.lock held)."""
    key = prompt_key(endpoint, body)
    for rule in STATE.keyed:
        if (isinstance(key, str) and rule.get("contains", "") in key
                and rule.get("model", body.get("model")) == body.get("model")):
            return rule
    return None


def apply_control(ctl):
    with STATE.lock:
        if ctl.get("reset"):
            STATE.reset()
        if "latency_ms" in ctl:
            STATE.latency_ms = int(ctl["latency_ms"])
        if "ignore_n" in ctl:
            STATE.ignore_n = bool(ctl["ignore_n"])
        if "ignore_echo" in ctl:
            STATE.ignore_echo = bool(ctl["ignore_echo"])
        if "max_n" in ctl:
            STATE.max_n = ctl["max_n"]
        if "no_logprobs" in ctl:
            STATE.no_logprobs = bool(ctl["no_logprobs"])
        for model, answers in (ctl.get("script") or {}).items():
            STATE.script.setdefault(model, []).extend(answers)
        STATE.faults.extend(ctl.get("faults") or [])
        STATE.keyed.extend(ctl.get("keyed") or [])
    if ctl.get("reset"):
        BATCH.reset()
    if "batch" in ctl:
        BATCH.control(ctl["batch"] or {})
    with STATE.lock:
        if ctl.get("clear_requests"):
            STATE.requests = []


# ---- batch: the Files and Batch APIs (see the module's doc) -----------------

BATCH_STEPS = ["validating", "in_progress", "finalizing", "completed"]


class BatchState:
    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        self.files = {}    # id -> {"filename", "purpose", "data": bytes}
        self.batches = {}  # id -> batch dict + private "_polls", "_lines"
        self.next_id = 1
        self.ctl = {}

    def control(self, ctl):
        with self.lock:
            self.ctl.update(ctl)

    def new_id(self, prefix):
        with self.lock:
            n = self.next_id
            self.next_id += 1
        return "%s-%06d" % (prefix, n)


BATCH = BatchState()


def _multipart(headers, raw):
    """The parts of a multipart/form-data body: {name: (filename, bytes)}."""
    ctype = headers.get("Content-Type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.startswith("multipart/form-data") or not m:
        return None
    parts = {}
    for chunk in raw.split(b"--" + m.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.partition(b"\r\n\r\n")
        body = body[:-2] if body.endswith(b"\r\n") else body
        name = re.search(rb'name="([^"]*)"', head)
        fname = re.search(rb'filename="([^"]*)"', head)
        if name:
            parts[name.group(1).decode()] = (fname.group(1).decode() if fname else None, body)
    return parts


def _batch_line_reply(line, endpoint_url):
    """The output or error line for one input line; (ok, dict)."""
    cid = line.get("custom_id")
    url = line.get("url", endpoint_url)
    endpoint = "chat" if url.endswith("/chat/completions") else "completions"
    status, _, data = build_reply(endpoint, line.get("body") or {}, None)
    body = json.loads(data.decode("utf-8"))
    rid = "req-" + hashlib.sha256(str(cid).encode()).hexdigest()[:12]
    return status == 200, {"id": "batch_req_" + rid, "custom_id": cid,
                           "response": {"status_code": status, "request_id": rid,
                                        "body": body}, "error": None}


def _batch_finish(b, ctl, expired):
    """Answers the input file: output and error files, request_counts."""
    lines = [json.loads(x) for x in BATCH.files[b["input_file_id"]]["data"].decode()
             .splitlines() if x.strip()]
    limit = len(lines)
    if expired:
        limit = int(ctl.get("expire_after", len(lines) // 2))
    fail_ids = set(ctl.get("fail_ids") or [])
    every = int(ctl.get("fail_every") or 0)
    out, err = [], []
    for i, line in enumerate(lines[:limit]):
        if line.get("custom_id") in fail_ids or (every and (i + 1) % every == 0):
            err.append({"id": "batch_req_f%d" % i, "custom_id": line.get("custom_id"),
                        "response": {"status_code": 500, "request_id": "f%d" % i,
                                     "body": {"error": {"message": "fake batch error",
                                                        "type": "server_error"}}},
                        "error": None})
            continue
        ok, rec = _batch_line_reply(line, b["endpoint"])
        (out if ok else err).append(rec)
    for name, recs in (("output_file_id", out), ("error_file_id", err)):
        if recs:
            fid = BATCH.new_id("file")
            BATCH.files[fid] = {"filename": "batch_%s.jsonl" % name, "purpose": "batch_output",
                                "data": "".join(json.dumps(r) + "\n" for r in recs).encode()}
            b[name] = fid
    b["request_counts"] = {"total": len(lines), "completed": len(out), "failed": len(err)}


def _batch_poll(b):
    """One GET of batch b: it moves one state on (see the controls)."""
    ctl = dict(BATCH.ctl)
    if b["status"] in ("completed", "failed", "expired", "cancelled"):
        return
    if ctl.get("hold") == b["status"]:
        return
    b["_polls"] += 1
    if b["_polls"] < int(ctl.get("polls_per_state", 1)):
        return
    b["_polls"] = 0
    if b["status"] == "cancelling":
        b["status"] = "cancelled"
        return
    if b["status"] == "validating" and ctl.get("outcome") == "failed":
        b["status"] = "failed"
        b["errors"] = {"object": "list", "data": [
            {"code": "invalid_request", "message": "fake validation failure", "line": 1}]}
        return
    if b["status"] == "in_progress" and ctl.get("outcome") == "expired":
        _batch_finish(b, ctl, True)
        b["status"] = "expired"
        return
    nxt = BATCH_STEPS[BATCH_STEPS.index(b["status"]) + 1]
    if nxt == "in_progress":
        b["request_counts"]["total"] = b["_lines"]
    if nxt == "completed":
        _batch_finish(b, ctl, False)
    b["status"] = nxt


def _batch_public(b):
    return {k: v for k, v in b.items() if not k.startswith("_")}


def _batch_list(path):
    """GET /batches?limit=N&after=ID: newest first, as OpenAI pages them."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    limit = max(1, min(100, int(q.get("limit", ["20"])[0])))
    limit = min(limit, int(BATCH.ctl.get("list_page") or limit))
    with BATCH.lock:
        # ids grow with creation, so newest first is the ids backwards
        allb = sorted(BATCH.batches.values(), key=lambda b: b["id"], reverse=True)
        if "after" in q:
            ids = [b["id"] for b in allb]
            allb = allb[ids.index(q["after"][0]) + 1:] if q["after"][0] in ids else []
        page = [_batch_public(b) for b in allb[:limit]]
    return {"object": "list", "data": page, "has_more": len(allb) > limit,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None}


def batch_route(h, method, path, raw):
    """Answers a Files or Batch API request on handler h; False when path is
    none of theirs."""
    if path.startswith("/v1/"):
        path = path[3:]
    if not (path.startswith("/files") or path.startswith("/batches")):
        return False
    with STATE.lock:
        STATE.requests.append({"path": h.path, "headers": dict(h.headers.items()),
                               "body": None if path == "/files" else raw.decode("utf-8", "replace"),
                               "client_port": h.client_address[1]})
    parts = path.strip("/").split("/")
    ctl = dict(BATCH.ctl)
    if method == "POST" and parts == ["files"]:
        time.sleep(float(ctl.get("upload_delay", 0)))
        form = _multipart(h.headers, raw)
        if not form or "file" not in form or form.get("purpose", (None, b""))[1] != b"batch":
            h._send(*error_reply(400, "expected multipart purpose=batch and file",
                                 "invalid_request_error", None))
            return True
        fid = BATCH.new_id("file")
        fname, data = form["file"]
        BATCH.files[fid] = {"filename": fname, "purpose": "batch", "data": data}
        h._send(200, {}, json.dumps({"id": fid, "object": "file", "bytes": len(data),
                                     "filename": fname, "purpose": "batch"}).encode())
        return True
    if method == "GET" and len(parts) in (2, 3) and parts[0] == "files":
        f = BATCH.files.get(parts[1])
        if not f or (len(parts) == 3 and parts[2] != "content"):
            h._send(*error_reply(404, "no such file", "invalid_request_error", None))
        elif len(parts) == 3:
            time.sleep(float(ctl.get("content_delay", 0)))
            h.send_response(200)
            h.send_header("Content-Type", "application/octet-stream")
            h.send_header("Content-Length", str(len(f["data"])))
            h.end_headers()
            h.wfile.write(f["data"])
            h.wfile.flush()
        else:
            h._send(200, {}, json.dumps({"id": parts[1], "object": "file",
                                         "bytes": len(f["data"]), "filename": f["filename"],
                                         "purpose": f["purpose"]}).encode())
        return True
    if method == "POST" and parts == ["batches"]:
        try:
            req = json.loads(raw.decode("utf-8"))
        except ValueError:
            req = None
        f = BATCH.files.get((req or {}).get("input_file_id"))
        if not f or req.get("completion_window") != "24h" or req.get("endpoint") not in (
                "/v1/chat/completions", "/v1/completions"):
            h._send(*error_reply(400, "bad batch request", "invalid_request_error", None))
            return True
        bid = BATCH.new_id("batch")
        b = {"id": bid, "object": "batch", "endpoint": req["endpoint"],
             "input_file_id": req["input_file_id"], "completion_window": "24h",
             "status": "validating", "output_file_id": None, "error_file_id": None,
             "errors": None, "created_at": int(time.time()),
             "metadata": req.get("metadata"),
             "request_counts": {"total": 0, "completed": 0, "failed": 0},
             "_polls": 0, "_lines": len([x for x in f["data"].splitlines() if x.strip()])}
        with BATCH.lock:
            BATCH.batches[bid] = b
        h._send(200, {}, json.dumps(_batch_public(b)).encode())
        return True
    if method == "GET" and parts == ["batches"] and ctl.get("list_fail"):
        h._send(*error_reply(int(ctl["list_fail"]), "no batch list here",
                             "invalid_request_error", None))
        return True
    if method == "GET" and parts == ["batches"]:
        h._send(200, {}, json.dumps(_batch_list(h.path)).encode())
        return True
    if parts[0] == "batches" and len(parts) in (2, 3):
        with BATCH.lock:
            b = BATCH.batches.get(parts[1])
            if b and method == "POST" and parts[2:] == ["cancel"]:
                if b["status"] not in ("completed", "failed", "expired", "cancelled"):
                    b["status"] = "cancelling"
            elif b and method == "GET" and len(parts) == 2:
                _batch_poll(b)
            pub = _batch_public(b) if b else None
        if pub is None:
            h._send(*error_reply(404, "no such batch", "invalid_request_error", None))
        else:
            h._send(200, {}, json.dumps(pub).encode())
        return True
    h._send(*error_reply(404, "no such path: %s" % path, "not_found", None))
    return True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # a client killed mid-request (the crash tests) is not news
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description="fake OpenAI-compatible server for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", help="JSON file: an object as POST /control takes")
    ap.add_argument("--exit-on-eof", action="store_true",
                    help="shut down when stdin reaches end of file")
    args = ap.parse_args(argv)
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            apply_control(json.load(f))
    srv = Server(("127.0.0.1", args.port), Handler)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_on_eof:
        def watch():
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            stop()
        threading.Thread(target=watch, daemon=True).start()
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared helpers for the reliability tests: run weft against the fake
server and check a session's integrity."""
import json
import os
import subprocess
import tempfile
import unittest

from tests.integration.fakeserver import FakeServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.path.abspath(os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft")))
LONG = os.environ.get("WEFT_LONG") == "1"
KEY = "sk-weft-SECRET-7f3a9c1e5b"

# Fast retries so fault tests take seconds: the same rules, smaller numbers.
FAST = []
for role in ("generator", "judge"):
    FAST += ["--set", role + ".retry_base_ms=20", "--set", role + ".retry_cap_ms=80",
             "--set", role + ".retry_after_cap_ms=250", "--set", role + ".timeout=1.5"]


class ServerCase(unittest.TestCase):
    """A fake model server, a scratch folder (self.tmp) and self.env, which
    points weft at them: generator gen-model, judge judge-model, the test
    KEY, no configuration of the person running the tests.  With
    NEW_SESSION, weft new has written self.session (s.json) first."""

    NEW_SESSION = False

    def setUp(self):
        self.fs = FakeServer().start()
        self.addCleanup(self.fs.stop)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.session = os.path.join(self.tmp.name, "s.json")
        self.env = dict(os.environ)
        self.env.update({
            "WEFT_BASE_URL": self.fs.base_url,
            "WEFT_GENERATOR_MODEL": "gen-model",
            "WEFT_JUDGE_MODEL": "judge-model",
            "OPENAI_API_KEY": KEY,
            "XDG_CONFIG_HOME": self.tmp.name,
        })
        if self.NEW_SESSION:
            code, _, err = run(["new", "--task", "nice-sounding-wrong", "-o", self.session],
                               self.env)
            self.assertEqual(code, 0, err)


def weft_checked(testcase, argv, env, cwd=ROOT, check=None):
    """Runs weft with argv; asserts that the API key of env (else KEY) is
    nowhere in what it printed and, when check is not None, the exit status.
    Returns (status, stdout, stderr) as text."""
    p = subprocess.run([WEFT] + list(argv), env=env, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=300)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    testcase.assertNotIn(env.get("OPENAI_API_KEY") or KEY, out + err)
    if check is not None:
        testcase.assertEqual(p.returncode, check, "stdout:\n%s\nstderr:\n%s" % (out, err))
    return p.returncode, out, err


def run(argv, env, timeout=300, weft=None):
    p = subprocess.run([weft or WEFT] + list(argv), env=env, cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def load(path):
    """A session file as JSON (a UTF-8 byte-order mark skipped, as weft does)."""
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


def replay(path):
    """The session with its journal applied, read independently of weft:
    node lines upsert (a new id becomes the last child of parentIds[0]),
    path lines set the chosen path, batches apply their ops in order, a torn
    last line is ignored."""
    s = load(path)
    nodes = {x["id"]: x for x in s["nodes"]}
    j = path + ".journal"
    if not os.path.exists(j):
        return s
    with open(j, "rb") as f:
        lines = f.read().split(b"\n")

    def apply(op):
        if op["op"] == "node":
            x = op["node"]
            if x["id"] in nodes:
                old = nodes[x["id"]]
                old["text"] = x["text"]
                old["weft"] = x.get("weft")
            else:
                nodes[x["id"]] = x
                s["nodes"].append(x)
        elif op["op"] == "path":
            s["pathNodes"] = op["pathNodes"]
        elif op["op"] == "batch":
            for o in op["ops"]:
                apply(o)

    for k, line in enumerate(lines):
        if not line:
            continue
        try:
            op = json.loads(line.decode("utf-8"))
        except ValueError:
            if k == len(lines) - 1:  # torn last line (no newline after it)
                continue
            raise
        apply(op)
    return s


def integrity(tc, path, n=5):
    """Checks weft check accepts path (journal replayed) and, in the file as
    weft check would see it, that every step is whole and recorded once:
    each node with a step record has as children exactly its candidates
    (1..n of them: identical samples are merged), and nothing else grew
    anywhere.  Returns the number of
    steps on the chosen path."""
    code, out, err = run(["check", path], os.environ.copy())
    tc.assertEqual(code, 0, "weft check failed:\n%s%s" % (out.decode(), err.decode()))
    s = replay(path)
    nodes = {x["id"]: x for x in s["nodes"]}
    children = {}
    for x in s["nodes"]:
        for p in x["parentIds"]:
            children.setdefault(p, []).append(x["id"])
    stepped = [x for x in s["nodes"] if (x.get("weft") or {}).get("step")]
    for x in stepped:
        kids = children.get(x["id"], [])
        tc.assertTrue(1 <= len(kids) <= n, "node %s has %d children" % (x["id"], len(kids)))
        tc.assertEqual(sorted(x["weft"]["step"]["candidates"]), sorted(kids))
        tc.assertEqual(len(set(kids)), len(kids))
    grown = [pid for pid in children if (nodes[pid].get("weft") or {}).get("step") is None]
    tc.assertEqual(grown, [], "children without a step record")
    tc.assertEqual(len(s["nodes"]), 1 + sum(len(children[x["id"]]) for x in stepped))
    tc.assertEqual(len(set(nodes)), len(s["nodes"]), "a node recorded twice")
    path_nodes = s["pathNodes"]
    for a, b in zip(path_nodes, path_nodes[1:]):
        tc.assertIn(b, children.get(a, []))
    return len(path_nodes) - 1

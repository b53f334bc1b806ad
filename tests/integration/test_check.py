"""`weft check`: the demo session passes with a summary that matches the file;
malformed files fail with one sanitized line naming the problem."""
import json
import os
import subprocess
import tempfile
import unittest

from tests import fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))
DEMO = os.path.join(ROOT, "sessions", "demo.json")


def run(*args):
    p = subprocess.run([WEFT, "check", *args], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def summary_of(doc):
    """The summary weft check should print, computed here from the JSON."""
    nodes = {n["id"]: n for n in doc["nodes"]}
    root = [n for n in nodes.values() if not n["parentIds"]][0]
    depth, stack = 0, [(root["id"], 0)]
    while stack:
        i, d = stack.pop()
        depth = max(depth, d)
        stack.extend((c, d + 1) for c in nodes[i]["childrenIds"])
    inner = [n for n in nodes.values() if n["childrenIds"]]
    steps = [n["weft"]["step"] for n in nodes.values()
             if "step" in n.get("weft", {}) and n["weft"]["step"]["candidates"]]
    return {
        "nodes": len(nodes),
        "depth": depth,
        "max": max(len(n["childrenIds"]) for n in nodes.values()),
        "mean": sum(len(n["childrenIds"]) for n in inner) / len(inner),
        "path": len(doc["pathNodes"]),
        "leaves": len(nodes) - len(inner),
        "bookmarks": sum(1 for n in nodes.values() if n.get("weft", {}).get("bookmark")),
        "steps": len(steps),
        "overrides": sum(1 for s in steps if s.get("pickedBy") == "human"
                         and s.get("finalPick") != s.get("judgePick")),
    }


class CheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="weft-check-")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def test_demo_session_summary(self):
        with open(DEMO, encoding="utf-8") as f:
            doc = json.load(f)
        want = summary_of(doc)
        code, out, err = run(DEMO)
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        self.assertIn("nodes:       %d\n" % want["nodes"], out)
        self.assertIn("depth:       %d\n" % want["depth"], out)
        self.assertIn("branching:   max %d, mean %.2f" % (want["max"], want["mean"]), out)
        self.assertIn("chosen path: %d nodes" % want["path"], out)
        self.assertIn("leaves:      %d\n" % want["leaves"], out)
        self.assertIn("bookmarks:   %d\n" % want["bookmarks"], out)
        self.assertIn("steps:       %d with decision records, %d human overrides"
                      % (want["steps"], want["overrides"]), out)

    def test_journal_is_replayed(self):
        with open(DEMO, encoding="utf-8") as f:
            doc = json.load(f)
        path = self.write("s.json", json.dumps(doc))
        leaf = [n for n in doc["nodes"] if not n["childrenIds"]][0]
        with open(path + ".journal", "w", encoding="utf-8") as f:
            f.write(json.dumps({"op": "prune", "id": leaf["id"]}) + "\n")
        code, out, err = run(path)
        self.assertEqual(code, 0, err)
        self.assertIn("nodes:       %d\n" % (len(doc["nodes"]) - 1), out)
        self.assertIn("journal:     replayed", out)
        with open(path + ".journal", "a", encoding="utf-8") as f:
            f.write(json.dumps({"op": "prune", "id": "no-such-node"}) + "\n")
        code, out, err = run(path)
        self.assertEqual(code, 1)
        self.assertIn(".journal:2:", err)

    def test_demo_session_is_what_the_issue_asks(self):
        with open(DEMO, encoding="utf-8") as f:
            doc = json.load(f)
        want = summary_of(doc)
        self.assertGreaterEqual(want["steps"], 8)
        self.assertEqual(want["overrides"], 2)
        self.assertEqual(want["bookmarks"], 1)
        for n in doc["nodes"]:
            step = n.get("weft", {}).get("step")
            if step:
                self.assertEqual(len(step["candidates"]), 5)
                self.assertAlmostEqual(sum(step["scores"]), 1.0, places=9)
        self.assertEqual(doc["weft"]["task"], "nice-sounding-wrong")

    def test_upstream_file(self):
        code, out, err = run(fixtures.need(self, "bonsai.json"))
        self.assertEqual(code, 0, err)
        self.assertIn("nodes:       16\n", out)

    def test_malformed_files(self):
        good = '{"id":"r","text":"R","parentIds":[],"childrenIds":["a"]}'
        cases = {
            "notjson.json": ("this is not json", "notjson.json:1:1: JSON syntax error"),
            "cut.json": ('{"nodes":[' + good, "unexpected end of file"),
            "nonodes.json": ('{"name":"x"}', 'missing "nodes"'),
            "dangling.json": ('{"nodes":[' + good + ']}', "'a', which is not a node"),
            "noid.json": ('{"nodes":[{"text":"x"}]}', 'nodes[0]: missing "id"'),
            "cycle.json": ('{"nodes":[{"id":"r","text":""},'
                           '{"id":"a","text":"","parentIds":["b"],"childrenIds":["b"]},'
                           '{"id":"b","text":"","parentIds":["a"],"childrenIds":["a"]}]}',
                           "cycle in parent links"),
            "utf8.json": (b'{"nodes":[{"id":"r","text":"\xc3\x28"}]}',
                          "node 'r': invalid UTF-8"),
            "tworoots.json": ('{"nodes":[{"id":"r","text":""},{"id":"s","text":""}]}',
                              "two roots"),
        }
        for name, (data, expect) in cases.items():
            with self.subTest(name=name):
                path = self.write(name, data)
                code, out, err = run(path)
                self.assertEqual(code, 1, err)
                self.assertEqual(out, "")
                self.assertIn(expect, err)
                self.assertIn(name, err)
                self.assertEqual(err.count("\n"), 1, err)

    def test_control_characters_are_shown_in_caret_form(self):
        path = self.write("ctl.json", '{"nodes":[{"id":"a\\u001b[31mb\\u007f","text":1}]}')
        code, out, err = run(path)
        self.assertEqual(code, 1)
        self.assertIn("node 'a^[[31mb^?'", err)
        self.assertNotIn("\x1b", err)

    def test_usage(self):
        code, out, err = run()
        self.assertEqual(code, 2)
        self.assertIn("usage: weft check FILE", err)
        code, out, err = run("--help")
        self.assertEqual(code, 0)
        self.assertIn("usage: weft check FILE", out)
        code, out, err = run("a", "b")
        self.assertEqual(code, 2)
        code, out, err = run(os.path.join(self.dir, "missing.json"))
        self.assertEqual(code, 1)
        self.assertIn("cannot open", err)


if __name__ == "__main__":
    unittest.main()

"""weft replay: the walk of recorded decisions, and re-judging against the fake server."""
import json
import os
import re
import shutil
import tempfile
import unittest

from tests import fixtures
from tests.integration.fakeserver import FakeServer

from tests.integration.weftrun import weft_checked

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))
DEMO = os.path.join(ROOT, "sessions", "demo.json")
BONSAI = fixtures.path("bonsai.json")
KEY = "sk-weft-test-KEY-0123456789"

STEP = re.compile(r"^step (\d+)  ")
CAND = re.compile(r"^  ([J ])([* ])([H ]) +(\d+)  ")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def recorded_steps(session):
    """[(node, step record or None, next node id)] along the chosen path."""
    nodes = {n["id"]: n for n in session["nodes"]}
    path = session["pathNodes"]
    return nodes, [(nodes[path[k]], nodes[path[k]].get("weft", {}).get("step"), path[k + 1])
                   for k in range(len(path) - 1)]


def parse_walk(out):
    """{step: [(J, *, H, option number)]} from the text walk."""
    steps, cur = {}, None
    for line in out.splitlines():
        m = STEP.match(line)
        if m:
            cur = int(m.group(1))
            steps[cur] = []
            continue
        m = CAND.match(line)
        if m and cur is not None:
            steps[cur].append((m.group(1) == "J", m.group(2) == "*", m.group(3) == "H",
                               int(m.group(4))))
        if line == "summary":
            cur = None
    return steps


def average_ranks(v):
    return [sum(1 for y in v if y < x) + (sum(1 for y in v if y == x) + 1) / 2 for x in v]


def spearman(a, b):
    ra, rb = average_ranks(a), average_ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    sab = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    saa = sum((x - ma) ** 2 for x in ra)
    sbb = sum((y - mb) ** 2 for y in rb)
    if saa <= 0 or sbb <= 0:
        return None
    return sab / (saa * sbb) ** 0.5


class ReplayTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.fs = None
        self.env = dict(os.environ)
        self.env.update({"OPENAI_API_KEY": KEY, "XDG_CONFIG_HOME": self.tmp.name})
        for k in ("WEFT_BASE_URL", "WEFT_JUDGE_MODEL", "WEFT_GENERATOR_MODEL"):
            self.env.pop(k, None)
        self.demo = os.path.join(self.tmp.name, "demo.json")
        shutil.copyfile(DEMO, self.demo)

    def tearDown(self):
        if self.fs:
            self.fs.stop()
        self.tmp.cleanup()

    def server(self):
        self.fs = FakeServer().start()
        self.env["WEFT_BASE_URL"] = self.fs.base_url
        return self.fs

    def weft(self, *args, check=None):
        return weft_checked(self, args, self.env, check=check)

    # ---- the walk ----------------------------------------------------------

    def test_demo_walk_shows_the_recorded_decisions(self):
        before = read_bytes(DEMO)
        _, out, _ = self.weft("replay", DEMO, "--width", "100", check=0)
        self.assertEqual(read_bytes(DEMO), before)
        self.assertFalse(os.path.exists(DEMO + ".journal"))
        _, steps = recorded_steps(load(DEMO))
        walk = parse_walk(out)
        self.assertEqual(sorted(walk), list(range(1, len(steps) + 1)))
        overrides, scores = [], []
        for k, (node, rec, nxt) in enumerate(steps):
            rows = walk[k + 1]
            self.assertEqual([r[3] for r in rows], list(range(1, len(rec["candidates"]) + 1)))
            j = rec["candidates"].index(rec["judgePick"])
            f = rec["candidates"].index(rec["finalPick"])
            self.assertEqual(nxt, rec["finalPick"])
            self.assertEqual([r[0] for r in rows], [i == j for i in range(len(rows))])
            self.assertEqual([r[1] for r in rows], [i == f for i in range(len(rows))])
            human = rec["pickedBy"] == "human"
            self.assertEqual([r[2] for r in rows], [human and i == f for i in range(len(rows))])
            if human and f != j:
                overrides.append(k + 1)
            scores.append(rec["scores"][f])
            header = [l for l in out.splitlines() if l.startswith("step %d " % (k + 1))][0]
            self.assertIn("judge %d, final %d by %s" % (j + 1, f + 1, rec["pickedBy"]), header)
            self.assertEqual("OVERRIDE" in header, human and f != j)
        self.assertEqual(len(overrides), 2)  # the demo's two human overrides
        self.assertIn("  steps            %d\n" % len(steps), out)
        self.assertIn("  human overrides  2 (steps %d, %d)\n" % tuple(overrides), out)
        self.assertIn("  needed a person  0\n", out)
        self.assertIn("  mean pick score  %.3f over %d steps with scores\n"
                      % (sum(scores) / len(scores), len(scores)), out)
        # the same pairs weft extract finds (after the task's preamble)
        _, ext, _ = self.weft("extract", DEMO, check=0)
        yes = int(re.search(r"^  Yes: (\d+)", ext, re.M).group(1))
        no = int(re.search(r"^  No: (\d+)", ext, re.M).group(1))
        self.assertIn("  balance          Yes %d / No %d (%d pairs)\n" % (yes, no, yes + no), out)
        for line in out.splitlines():
            self.assertLessEqual(len(line), 100, line)

    def test_json_walk_matches_the_file(self):
        _, out, _ = self.weft("replay", DEMO, "--json", check=0)
        doc = json.loads(out)
        _, steps = recorded_steps(load(DEMO))
        self.assertEqual(len(doc["steps"]), len(steps))
        for got, (node, rec, nxt) in zip(doc["steps"], steps):
            self.assertEqual(got["node"], node["id"])
            self.assertTrue(got["record"])
            self.assertEqual(got["candidates"], rec["candidates"])
            self.assertEqual(got["scores"], rec["scores"])
            self.assertEqual(got["judgePick"], rec["judgePick"])
            self.assertEqual(got["finalPick"], nxt)
            self.assertEqual(got["pickedBy"], rec["pickedBy"])
            self.assertNotIn("rejudge", got)
        self.assertEqual(doc["summary"]["steps"], len(steps))
        self.assertEqual(doc["summary"]["overrides"], 2)
        self.assertEqual(sum(s["override"] for s in doc["steps"]), 2)
        self.assertEqual(set(doc["summary"]["balance"]), {"Yes", "No"})
        self.assertNotIn("rejudge", doc)

    def test_journal_is_replayed_and_left_alone(self):
        s = load(self.demo)
        short = s["pathNodes"][:4]
        journal = self.demo + ".journal"
        with open(journal, "w", encoding="utf-8") as f:
            f.write(json.dumps({"op": "path", "pathNodes": short, "focusedId": short[-1]}) + "\n")
        before, jbefore = read_bytes(self.demo), read_bytes(journal)
        _, out, _ = self.weft("replay", self.demo, check=0)
        self.assertEqual(sorted(parse_walk(out)), [1, 2, 3])
        self.assertIn("  steps            3\n", out)
        self.assertEqual(read_bytes(self.demo), before)
        self.assertEqual(read_bytes(journal), jbefore)

    def test_hostile_text_is_shown_in_caret_form(self):
        s = load(self.demo)
        nodes, steps = recorded_steps(s)
        victim = steps[0][1]["candidates"][1]
        nodes[victim]["text"] = (" Question: \x1b[31mred\x1b]0;title\x07 \r\x08ok\x7f?"
                                 " \u202eevil\u202c \x9b2J\u200bhid\nAnswer: No\n")
        with open(self.demo, "w", encoding="utf-8") as f:
            json.dump(s, f)
        _, out, _ = self.weft("replay", self.demo, "--width", "200", check=0)
        for c in "\x1b\x07\r\x08\x7f":
            self.assertNotIn(c, out)
        self.assertIn("^[[31mred^[]0;title^G ^M^Hok^??", out)
        # bidi overrides, C1 controls and invisible characters as marks
        self.assertIn("<U+202E>evil<U+202C> <U+009B>2J<U+200B>hid", out)
        for c in "\u202e\u202c\x9b\u200b":
            self.assertNotIn(c, out)

    def test_usage_and_errors(self):
        code, _, err = self.weft("replay", DEMO, "--save-as", os.path.join(self.tmp.name, "x"))
        self.assertEqual(code, 2)
        self.assertIn("--judge", err)
        self.assertEqual(self.weft("replay")[0], 2)
        self.assertEqual(self.weft("replay", DEMO, "--width", "3")[0], 2)
        self.assertEqual(self.weft("replay", DEMO, "--rejudge", "--rank", "best")[0], 2)
        code, _, err = self.weft("replay", os.path.join(self.tmp.name, "missing.json"))
        self.assertEqual(code, 1)
        self.assertIn("missing.json", err)
        code, out, _ = self.weft("replay", "--help")
        self.assertEqual(code, 0)
        self.assertIn("usage: weft replay", out)
        # re-judging with no judge model configured
        code, _, err = self.weft("replay", DEMO, "--rejudge")
        self.assertEqual(code, 1)
        self.assertIn("no judge model", err)
        # --save-as never overwrites the session itself
        code, _, _ = self.weft("replay", self.demo, "--judge", "j", "--save-as", self.demo)
        self.assertEqual(code, 2)

    # ---- re-judging --------------------------------------------------------

    def test_rejudge_agrees_on_seven_of_ten(self):
        fs = self.server()
        _, steps = recorded_steps(load(DEMO))
        self.assertEqual(len(steps), 10)
        judged = [rec["candidates"].index(rec["judgePick"]) + 1 for _, rec, _ in steps]
        answers = [str(j if k < 7 else j % 5 + 1) for k, j in enumerate(judged)]
        fs.control(script={"judge-2": answers})
        before = read_bytes(self.demo)
        # one request at a time, so the scripted answers go to the steps in order
        _, out, _ = self.weft("replay", self.demo, "--judge", "judge-2",
                              "--set", "judge.concurrency=1", "--json", check=0)
        self.assertEqual(read_bytes(self.demo), before)
        doc = json.loads(out)
        rj = doc["rejudge"]
        self.assertEqual(rj["model"], "judge-2")
        self.assertEqual(rj["prompt"], "nice-sounding-wrong/judge.txt")
        self.assertEqual(rj["rank"], "logprobs")
        self.assertEqual((rj["judged"], rj["failed"]), (10, 0))
        self.assertEqual(rj["agreeJudge"], {"agree": 7, "of": 10, "fraction": 0.7})
        # the person's picks: where the new pick equals the final pick
        humans = [(k, rec) for k, (_, rec, _) in enumerate(steps) if rec["pickedBy"] == "human"]
        agree = sum(1 for k, rec in humans
                    if rec["candidates"][int(answers[k]) - 1] == rec["finalPick"])
        self.assertEqual(rj["agreeHuman"]["of"], len(humans))
        self.assertEqual(rj["agreeHuman"]["agree"], agree)
        rhos = []
        for k, (got, (_, rec, _)) in enumerate(zip(doc["steps"], steps)):
            new = got["rejudge"]
            self.assertEqual(new["pick"], rec["candidates"][int(answers[k]) - 1])
            self.assertEqual(new["raw"], answers[k])
            self.assertAlmostEqual(sum(new["scores"]), 1.0, places=5)
            self.assertEqual(max(range(5), key=lambda i: new["scores"][i]), int(answers[k]) - 1)
            rho = spearman(rec["scores"], new["scores"])
            if rho is not None:
                self.assertAlmostEqual(new["spearman"], rho, places=5)
                rhos.append(rho)
        self.assertEqual(rj["spearman"]["steps"], len(rhos))
        self.assertAlmostEqual(rj["spearman"]["mean"], sum(rhos) / len(rhos), places=5)
        # the requests: one per step, in step order, each with that step's options
        reqs = [r for r in fs.requests() if r["body"].get("model") == "judge-2"]
        self.assertEqual(len(reqs), 10)
        nodes = {n["id"]: n for n in load(DEMO)["nodes"]}
        for r, (_, rec, _) in zip(reqs, steps):
            prompt = r["body"]["messages"][-1]["content"]
            for c in rec["candidates"]:
                self.assertIn(nodes[c]["text"].strip(), prompt)

    def test_rejudge_text_report_and_concurrency(self):
        fs = self.server()
        fs.control(script={"judge-2": ["1"] * 10}, latency_ms=50)
        _, steps = recorded_steps(load(DEMO))
        agree = sum(1 for _, rec, _ in steps if rec["candidates"][0] == rec["judgePick"])
        _, out, _ = self.weft("replay", self.demo, "--judge", "judge-2", "--width", "100",
                              check=0)
        self.assertIn("re-judged by judge-2, rank logprobs, prompt nice-sounding-wrong/judge.txt",
                      out)
        self.assertIn("  judged                 10 of 10 steps (0 without a usable answer)", out)
        self.assertIn("  agrees with the judge  %d of 10 steps = %.3f" % (agree, agree / 10), out)
        self.assertIn("Spearman per step, averaged over", out)
        for k in range(1, 11):
            self.assertRegex(out, r"(?m)^step %d .*re-judged 1 " % k)
        # all ten are submitted before the engine runs: they go out on several
        # connections at once (one at a time would reuse a single connection)
        reqs = [r for r in fs.requests() if r["body"].get("model") == "judge-2"]
        self.assertEqual(len(reqs), 10)
        self.assertGreater(len({r["client_port"] for r in reqs}), 1)

    def test_unusable_answers_are_asked_again_then_reported(self):
        fs = self.server()
        fs.control(script={"judge-2": ["maybe"] * 30})
        _, out, _ = self.weft("replay", self.demo, "--judge", "judge-2", "--rank", "choice",
                              "--json", check=0)
        doc = json.loads(out)
        self.assertEqual((doc["rejudge"]["judged"], doc["rejudge"]["failed"]), (0, 10))
        self.assertEqual(doc["rejudge"]["agreeJudge"]["fraction"], None)
        for s in doc["steps"]:
            self.assertIsNone(s["rejudge"]["pick"])
            self.assertIn("no usable answer after 3 asks", s["rejudge"]["error"])
        reqs = [r for r in fs.requests() if r["body"].get("model") == "judge-2"]
        self.assertEqual(len(reqs), 30)

    def test_unreachable_judge_is_reported_per_step(self):
        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.env["WEFT_BASE_URL"] = "http://127.0.0.1:%d/v1" % port
        before = read_bytes(self.demo)
        _, out, err = self.weft("replay", self.demo, "--judge", "judge-2",
                                "--set", "judge.retries=0", "--json", check=1)
        self.assertIn("re-judging failed for 10 of 10 steps", err)
        doc = json.loads(out)
        self.assertEqual((doc["rejudge"]["judged"], doc["rejudge"]["failed"]), (0, 10))
        self.assertEqual(doc["rejudge"]["requestFailed"], 10)
        for s in doc["steps"]:
            self.assertIn("127.0.0.1:%d" % port, s["rejudge"]["error"])
        self.assertEqual(read_bytes(self.demo), before)

    def test_save_as_keeps_the_recorded_scores(self):
        fs = self.server()
        fs.control(script={"judge-2": ["2"] * 10})
        new = os.path.join(self.tmp.name, "rejudged.json")
        before = read_bytes(self.demo)
        _, out, _ = self.weft("replay", self.demo, "--judge", "judge-2", "--json",
                              "--save-as", new, check=0)
        doc = json.loads(out)
        self.assertEqual(read_bytes(self.demo), before)
        self.assertFalse(os.path.exists(self.demo + ".journal"))
        old_s, new_s = load(self.demo), load(new)
        _, old_steps = recorded_steps(old_s)
        _, new_steps = recorded_steps(new_s)
        self.assertEqual(new_s["pathNodes"], old_s["pathNodes"])
        for (node, rec, _), (_, rec2, _), got in zip(old_steps, new_steps, doc["steps"]):
            kept = {k: v for k, v in rec2.items() if k != "rejudge"}
            self.assertEqual(kept, rec)
            self.assertEqual(rec2["rejudge"]["model"], "judge-2")
            for a, b in zip(rec2["rejudge"]["scores"], got["rejudge"]["scores"], strict=True):
                self.assertAlmostEqual(a, b, places=12)
            self.assertEqual(rec2["rejudge"]["pick"], rec["candidates"][1])
            self.assertEqual(rec2["rejudge"]["candidates"], rec["candidates"])
        self.weft("check", new, check=0)
        # an existing file is not replaced without --force
        code, _, err = self.weft("replay", self.demo, "--judge", "judge-2", "--save-as", new)
        self.assertEqual(code, 1)
        self.assertIn("exists", err)

    # ---- a Bonsai file from elsewhere -------------------------------------

    def bonsai(self):
        return load(fixtures.need(self, "bonsai.json"))

    def test_bonsai_walks_its_three_steps(self):
        s = self.bonsai()
        before = read_bytes(BONSAI)
        _, out, _ = self.weft("replay", BONSAI, "--width", "80", check=0)
        self.assertEqual(read_bytes(BONSAI), before)
        walk = parse_walk(out)
        self.assertEqual(sorted(walk), [1, 2, 3])
        path = s["pathNodes"]
        for k in range(3):
            children = [n["id"] for n in s["nodes"] if (n.get("parentIds") or [None])[0] == path[k]]
            rows = walk[k + 1]
            self.assertEqual(len(rows), len(children))
            self.assertEqual([r[1] for r in rows], [c == path[k + 1] for c in children])
            self.assertFalse(any(r[0] or r[2] for r in rows))
        self.assertEqual(out.count("(no decision record)"), 3)
        self.assertIn("  steps            3\n", out)
        self.assertIn("  human overrides  0\n", out)
        self.assertIn("  mean pick score  - (no scores)\n", out)

    def test_bonsai_rejudge_uses_the_siblings(self):
        s = self.bonsai()
        fs = self.server()
        fs.control(script={"judge-2": ["1", "1", "1"]})
        prompt = os.path.join(self.tmp.name, "judge.txt")
        with open(prompt, "w", encoding="utf-8") as f:
            f.write("Pick the best.\n{document}\n---\n{options}\nAnswer with a number.\n")
        _, out, _ = self.weft("replay", BONSAI, "--judge", "judge-2", "--judge-prompt", prompt,
                              "--json", check=0)
        doc = json.loads(out)
        path = s["pathNodes"]
        self.assertEqual(doc["rejudge"]["judged"], 3)
        self.assertEqual(doc["rejudge"]["agreeJudge"]["of"], 0)
        self.assertEqual(doc["rejudge"]["prompt"], prompt)
        for k, got in enumerate(doc["steps"]):
            children = [n["id"] for n in s["nodes"] if (n.get("parentIds") or [None])[0] == path[k]]
            self.assertFalse(got["record"])
            self.assertEqual(got["candidates"], children)
            self.assertEqual(got["rejudge"]["pick"], children[0])
        reqs = [r for r in fs.requests() if r["body"].get("model") == "judge-2"]
        self.assertTrue(all(r["body"]["messages"][-1]["content"].startswith("Pick the best.")
                            for r in reqs))


if __name__ == "__main__":
    unittest.main()

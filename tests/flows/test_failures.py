"""Stories where the model server goes away: the exit status and the
counts tell the truth, and what finished is kept.

    kill the server during weft eval          exit 1, finished rows kept
    kill the server during weft replay --judge  exit 1, judged steps shown
    a dead judge during weft generate         exit 1 (not 3), candidates kept

Expectations come from what the fake server was scripted to say."""
import csv
import glob
import json
import os
import socket
import subprocess
import time

from tests.flows.flowlib import TASK, WEFT, FlowCase, candidate, expected_pairs


def dead_url():
    """A base URL nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return "http://127.0.0.1:%d/v1" % port


class ServerGoesAway(FlowCase):
    def start(self, *argv):
        """Starts weft in the scratch folder without waiting for it."""
        return subprocess.Popen([WEFT] + list(argv), env=self.env, cwd=self.dir,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)

    def kill_server_after(self, proc, model, requests):
        """Stops the fake server once it has received `requests` requests
        for model (or weft ended first, which fails the story)."""
        deadline = time.time() + 60
        while time.time() < deadline:
            seen = [r for r in self.fs.requests() if r["body"].get("model") == model]
            if len(seen) >= requests:
                self.fs.stop()
                return
            self.assertIsNone(proc.poll(), "weft ended before the server was killed")
            time.sleep(0.02)
        self.fail("the server never saw %d requests for %s" % (requests, model))

    def finish(self, proc):
        out, err = proc.communicate(timeout=120)
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        self.assertNotIn(self.env["OPENAI_API_KEY"], out + err)
        return proc.returncode, out, err

    def chosen_candidates(self, name):
        """The texts of the chosen path's nodes after the root."""
        s = self.session(name)
        nodes = {x["id"]: x for x in s["nodes"]}
        return [nodes[i]["text"] for i in s["pathNodes"][1:]]

    def grow(self, steps):
        """new, then generate `steps` AI-steered steps; checks the chosen
        path is the scripted picks and returns them."""
        picks = self.script_steps(steps)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        self.weft("generate", "s.json", "--rounds", str(steps), *self.fast, check=0)
        self.assertEqual(self.chosen_candidates("s.json"),
                         [candidate(st, i, label) for st, i, label in picks])
        return picks

    def test_kill_the_server_during_eval(self):
        n = 12
        # a dataset of n pairs, as weft export's plain pairs file has them
        pairs = expected_pairs([(k, 1, ("Yes", "No")[k % 2]) for k in range(1, n + 1)])
        with open(self.path("pairs.txt"), "w", encoding="utf-8") as f:
            for q, a in pairs:
                f.write("Question: %s\nAnswer: %s\n\n" % (q, a))
        # the scorer answers Yes to everything, slowly, one request at a time
        self.fs.control(reset=True, latency_ms=150, script={"scorer-a": ["Yes"] * n})
        fast = ["--set", "scorer.a.model=scorer-a", "--set", "scorer.a.retry_base_ms=20",
                "--set", "scorer.a.retry_cap_ms=80", "--set", "scorer.a.timeout=3"]
        proc = self.start("eval", "pairs.txt", "--models", "a", "--concurrency", "1",
                          "--out", "results", *fast)
        self.kill_server_after(proc, "scorer-a", 5)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 1, out + err)

        d = glob.glob(os.path.join(self.dir, "results", "*"))
        self.assertEqual(len(d), 1, d)
        with open(os.path.join(d[0], "a.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        with open(os.path.join(d[0], "config.json"), encoding="utf-8") as f:
            model = json.load(f)["models"][0]
        done, failed = len(rows), n - len(rows)
        self.assertGreaterEqual(done, 4)  # the probe and what answered before the kill
        self.assertGreaterEqual(failed, 1)
        self.assertEqual((model["done"], model["failed"]), (done, failed))
        # every kept row is what the scripted scorer said about that pair
        for r in rows:
            q, label = pairs[int(r["index"])]
            self.assertEqual(r["question"], q)
            self.assertEqual(r["label"], label)
            self.assertEqual(r["raw_answer"], "Yes")
            self.assertEqual(r["correct"], "1" if label == "Yes" else "0")
        self.assertIn("weft eval: model a: %d of %d examples failed and are left out "
                      "(%d done, kept); the first failure: POST %s/chat/completions "
                      "(model scorer-a): " % (failed, n, done, self.fs.base_url), err)
        self.assertIn("(after 3 attempts)", err)
        self.assertRegex(out, r"(?m)^a +- +%d .* %d\s*$" % (done, failed))

    def test_kill_the_server_during_replay_judge(self):
        steps = 10
        self.grow(steps)  # the recorded judge picked option 1 every time
        before = open(self.path("s.json"), "rb").read()
        # the new judge says 2, slowly, one request at a time
        self.fs.control(reset=True, latency_ms=200, script={"judge-2": ["2"] * steps})
        proc = self.start("replay", "s.json", "--judge", "judge-2", "--json",
                          "--set", "judge.concurrency=1", *self.fast)
        self.kill_server_after(proc, "judge-2", 4)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 1, out + err)

        doc = json.loads(out)
        rj = doc["rejudge"]
        judged = [s for s in doc["steps"] if s["rejudge"]["pick"] is not None]
        lost = [s for s in doc["steps"] if s["rejudge"]["pick"] is None]
        self.assertGreaterEqual(len(judged), 2)
        self.assertGreaterEqual(len(lost), 1)
        self.assertEqual((rj["judged"], rj["failed"], rj["requestFailed"]),
                         (len(judged), len(lost), len(lost)))
        # a judged step is the scripted pick; it never agrees with the recorded one
        for s in judged:
            self.assertEqual(s["rejudge"]["pick"], s["candidates"][1])
            self.assertIsNone(s["rejudge"]["error"])
        self.assertEqual((rj["agreeJudge"]["agree"], rj["agreeJudge"]["of"]), (0, len(judged)))
        for s in lost:
            self.assertIn("the judge's request failed", s["rejudge"]["error"])
            self.assertIn("POST %s/chat/completions (model judge-2): "
                          % self.fs.base_url, s["rejudge"]["error"])
        self.assertIn("weft replay: re-judging failed for %d of %d steps" % (len(lost), steps),
                      err)
        self.assertEqual(open(self.path("s.json"), "rb").read(), before)

    def test_dead_judge_during_generate_is_an_error_not_a_person(self):
        picks = self.script_steps(3)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        url = dead_url()
        code, out, err = self.weft("generate", "s.json", "--rounds", "3", *self.fast,
                                   "--set", "judge.base_url=" + url)
        self.assertEqual(code, 1, out + err)
        self.assertNotIn("needs a person", err)
        self.assertIn("the judge's request failed (asked 3 times): POST %s/chat/completions "
                      "(model judge-model): " % url, err)
        # step 1's candidates are kept, nothing was picked, nobody is asked
        s = self.session("s.json")
        nodes = {x["id"]: x for x in s["nodes"]}
        root = nodes[s["pathNodes"][0]]
        step = root["weft"]["step"]
        self.assertEqual(len(s["pathNodes"]), 1)
        self.assertNotIn("needsHuman", step)
        self.assertEqual([nodes[c]["text"] for c in step["candidates"]],
                         [candidate(1, i, "Yes") for i in range(1, 6)])
        self.assertEqual(self.chosen_candidates("s.json"), [])
        # the judge is back: the same command judges those candidates and goes on
        self.weft("generate", "s.json", "--rounds", "3", *self.fast, check=0)
        self.assertEqual(self.chosen_candidates("s.json"),
                         [candidate(st, i, label) for st, i, label in picks])
        s = self.session("s.json")
        nodes = {x["id"]: x for x in s["nodes"]}
        self.assertEqual(nodes[s["pathNodes"][0]]["weft"]["step"]["candidates"],
                         step["candidates"])

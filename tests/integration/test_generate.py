"""weft new / weft generate against the fake model server."""
import json
import os
import re
import signal
import subprocess
import time
import unittest

from tests.integration.weftrun import KEY, ROOT, WEFT, ServerCase, weft_checked


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def path_steps(session):
    """(parent node, step record) along the chosen path, root first."""
    nodes = {n["id"]: n for n in session["nodes"]}
    out = []
    for pid in session["pathNodes"][:-1]:
        out.append((nodes[pid], nodes[pid].get("weft", {}).get("step")))
    return nodes, out


class GenerateTest(ServerCase):
    def weft(self, *args, check=None):
        return weft_checked(self, args, self.env, check=check)

    def new(self):
        self.weft("new", "--task", "nice-sounding-wrong", "-o", self.session, check=0)

    def test_twenty_rounds_follow_the_judge(self):
        picks = [(i * 7) % 5 + 1 for i in range(20)]
        self.fs.control(script={"judge-model": [str(p) for p in picks]})
        self.new()
        _, out, _ = self.weft("generate", self.session, "--rounds", "20", check=0)
        self.assertIn("step 20/20", out)
        s = load(self.session)
        nodes, steps = path_steps(s)
        self.assertEqual(len(s["pathNodes"]), 21)
        for k, (parent, step) in enumerate(steps):
            self.assertIsNotNone(step, "step %d has no record" % k)
            self.assertEqual(len(step["candidates"]), 5)
            self.assertAlmostEqual(sum(step["scores"]), 1.0, places=6)
            expect = step["candidates"][picks[k] - 1]
            self.assertEqual(step["judgePick"], expect)
            self.assertEqual(step["finalPick"], expect)
            self.assertEqual(step["pickedBy"], "ai")
            self.assertEqual(s["pathNodes"][k + 1], expect)
            self.assertEqual(step["rank"], "logprobs")
            # the pick has the highest score and rank 1
            best = max(range(5), key=lambda j: step["scores"][j])
            self.assertEqual(best, picks[k] - 1)
            self.assertEqual(nodes[expect]["weft"]["rank"], 1)
            self.assertTrue(nodes[expect]["weft"].get("judgePick"))
            for cid in step["candidates"]:
                self.assertEqual(nodes[cid]["parentIds"], [parent["id"]])
                self.assertEqual(nodes[cid]["weft"]["model"], "gen-model")
        with open(self.session, encoding="utf-8") as f:
            self.assertNotIn(KEY, f.read())
        reqs = self.fs.requests()
        self.assertTrue(reqs)
        for r in reqs:
            self.assertNotIn(KEY, json.dumps(r["body"]))
        # the candidates are the fake generator's deterministic texts
        gen = [r for r in reqs if r["body"].get("model") == "gen-model"]
        self.assertEqual(gen[0]["body"]["n"], 5)
        self.assertEqual(gen[0]["body"]["temperature"], 1.0)
        self.assertEqual(gen[0]["body"]["max_tokens"], 60)
        # a rerun with the same rounds does nothing more; more rounds continue
        self.weft("generate", self.session, "--rounds", "20", check=0)
        self.assertEqual(len(load(self.session)["pathNodes"]), 21)
        self.fs.control(script={"judge-model": ["2", "4"]})
        self.weft("generate", self.session, "--rounds", "22", check=0)
        s2 = load(self.session)
        self.assertEqual(len(s2["pathNodes"]), 23)
        self.assertEqual(s2["pathNodes"][:21], s["pathNodes"])
        self.weft("check", self.session, check=0)

    def test_choice_mode(self):
        self.fs.control(script={"judge-model": ["Option 4", "2."]})
        self.new()
        self.weft("generate", self.session, "--rounds", "2", "--rank", "choice", check=0)
        _, steps = path_steps(load(self.session))
        self.assertEqual([st["rank"] for _, st in steps], ["choice", "choice"])
        self.assertEqual(steps[0][1]["scores"], [0, 0, 0, 1, 0])
        self.assertEqual(steps[1][1]["scores"], [0, 1, 0, 0, 0])

    def test_scores_mode(self):
        self.fs.control(script={"judge-model": [
            {"text": "[1, 2, 5, 1, 1]"}, {"text": '{"1": 3, "2": 1, "3": 0, "4": 0, "5": 0}'}]})
        self.new()
        self.weft("generate", self.session, "--rounds", "2", "--rank", "scores", check=0)
        _, steps = path_steps(load(self.session))
        self.assertEqual(steps[0][1]["judgePick"], steps[0][1]["candidates"][2])
        self.assertAlmostEqual(steps[0][1]["scores"][2], 0.5)
        self.assertAlmostEqual(steps[1][1]["scores"][0], 0.75)
        judge = [r for r in self.fs.requests() if r["body"].get("model") == "judge-model"]
        self.assertIn("1. ", judge[0]["body"]["messages"][-1]["content"])

    def bad_judge(self, answers, mode):
        self.fs.control(script={"judge-model": answers})
        self.new()
        code, out, err = self.weft("generate", self.session, "--rounds", "3", "--rank", mode)
        self.assertEqual(code, 3, err)
        self.assertIn("needs a person", err)
        s = load(self.session)
        nodes, _ = path_steps(s)
        root = nodes[s["pathNodes"][0]]
        step = root["weft"]["step"]
        self.assertIn("needsHuman", step)
        self.assertEqual(len(step["candidates"]), 5)
        self.assertNotIn("finalPick", {k: v for k, v in step.items() if v is not None})
        self.assertEqual(len(s["pathNodes"]), 1)  # nothing was picked at random
        judge = [r for r in self.fs.requests() if r["body"].get("model") == "judge-model"]
        self.assertEqual(len(judge), 3)  # asked three times in all
        return step["needsHuman"]

    def test_out_of_range_answer_needs_a_person(self):
        why = self.bad_judge(["6", "0", "6"], "choice")
        self.assertIn("outside 1..5", why)

    def test_unparseable_answer_needs_a_person(self):
        why = self.bad_judge(["the best one", "no idea", "hmm"], "choice")
        self.assertIn("no option number", why)

    def test_empty_answer_needs_a_person(self):
        why = self.bad_judge([{"text": ""}, {"text": "  "}, {"text": ""}], "choice")
        self.assertIn("empty answer", why)

    def test_rerun_asks_the_judge_again_about_the_waiting_step(self):
        self.bad_judge(["6", "0", "6"], "choice")
        before = load(self.session)
        waiting = before["pathNodes"][0]
        cands = {n["id"]: n["weft"]["step"]["candidates"] for n in before["nodes"]
                 if n["id"] == waiting}[waiting]
        gen_before = len([r for r in self.fs.requests()
                          if r["body"].get("model") == "gen-model"])
        self.fs.control(script={"judge-model": ["4"] * 10})
        self.weft("generate", self.session, "--rounds", "3", "--rank", "choice", check=0)
        s = load(self.session)
        nodes, steps = path_steps(s)
        self.assertEqual(len(steps), 3)
        step = steps[0][1]
        # the same five candidates, judged this time; no sixth was made
        self.assertEqual(step["candidates"], cands)
        self.assertEqual(step["finalPick"], cands[3])
        self.assertEqual(step["pickedBy"], "ai")
        self.assertNotIn("needsHuman", step)
        self.assertEqual(len(nodes[waiting]["childrenIds"]), 5)
        gen_after = len([r for r in self.fs.requests() if r["body"].get("model") == "gen-model"])
        self.assertEqual(gen_after - gen_before, 2)  # steps 2 and 3 only

    def test_unconfigured_models_say_what_to_set(self):
        self.new()
        del self.env["WEFT_GENERATOR_MODEL"]
        code, _, err = self.weft("generate", self.session, "--rounds", "1")
        self.assertEqual(code, 1)
        self.assertIn("no model configured", err)

    def test_bad_usage(self):
        self.assertEqual(self.weft("generate")[0], 2)
        self.assertEqual(self.weft("generate", "x.json", "--rounds", "zero")[0], 2)
        self.assertEqual(self.weft("new", "--task", "no-such-task", "-o", self.session)[0], 1)
        self.new()
        code, _, err = self.weft("new", "--task", "nice-sounding-wrong", "-o", self.session)
        self.assertEqual(code, 1)
        self.assertIn("exists", err)

    def test_sigkill_at_any_moment_loses_no_completed_step(self):
        """Kill weft generate during requests and right after steps; every
        rerun resumes, the file is always valid, and each completed step is
        there exactly once."""
        self.fs.control(latency_ms=40)
        self.fs.control(script={"judge-model": ["1"] * 200})
        self.new()
        target = 6
        delays = [0.05, 0.35, 0.8, 0.15, 1.2, 0.5]
        seen_lengths = []
        for d in delays:
            p = subprocess.Popen([WEFT, "generate", self.session, "--rounds", str(target), "-q"],
                                 env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            time.sleep(d)
            p.send_signal(signal.SIGKILL)
            p.wait()
            # the file with its journal replayed is what reopening shows
            _, out, _ = self.weft("check", self.session, check=0)
            n = int(re.search(r"chosen path: (\d+) nodes", out).group(1))
            if seen_lengths:
                self.assertGreaterEqual(n, seen_lengths[-1])
            seen_lengths.append(n)
        self.assertGreater(seen_lengths[-1], 1, "no kill came after a completed step")
        self.assertLess(seen_lengths[0], target + 1, "the first kill came too late")
        self.weft("generate", self.session, "--rounds", str(target), check=0)
        self.assertFalse(os.path.exists(self.session + ".journal"))
        s = load(self.session)
        nodes, steps = path_steps(s)
        self.assertEqual(len(steps), target)
        for parent, step in steps:
            children = [n for n in s["nodes"] if n["parentIds"] == [parent["id"]]]
            self.assertEqual(len(children), 5)  # no step recorded twice
            self.assertEqual(len(step["candidates"]), 5)


if __name__ == "__main__":
    unittest.main()

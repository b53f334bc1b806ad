"""Exit codes and messages that tell the truth (issue 14, items 7 to 14):
failures exit non-zero and say why in full; a dead judge is an error, not a
person's turn; --config names the file and the reason; judge.max_tokens is
sent; ping copes with an n limit; the environment can create a scorer;
replay shows a step still waiting; plot reads the sizes eval stored."""
import csv
import glob
import json
import os
import re
import socket
import time
import unittest

from tests.integration.test_tui import TMUX, Pane
from tests.integration.weftrun import ROOT, ServerCase, weft_checked

TASK = "nice-sounding-wrong"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dead_url():
    """A base URL nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return "http://127.0.0.1:%d/v1" % port


def write_dataset(path, n):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["prompt", "classes", "answer_index"])
        for i in range(n):
            w.writerow(["Question: Is %d even?\nAnswer:" % i, str([" Yes", " No"]), i % 2])


class TruthCase(ServerCase):
    """Runs weft from the scratch folder, as a person would."""

    def setUp(self):
        super().setUp()
        self.env["WEFT_PROMPTS"] = os.path.join(ROOT, "prompts")

    def weft(self, *args, check=None, env=None):
        return weft_checked(self, args, env or self.env, cwd=self.tmp.name, check=check)

    def new(self):
        self.weft("new", "--task", TASK, "-o", self.session, check=0)

    def judge_requests(self):
        return [r for r in self.fs.requests() if r["body"].get("model") == "judge-model"]


class ConfigTruth(TruthCase):
    """Item 9: --config FILE that is not there or not a file."""

    def test_missing_config_file_is_named_with_its_reason(self):
        self.new()
        data = os.path.join(self.tmp.name, "d.csv")
        write_dataset(data, 3)
        missing = os.path.join(self.tmp.name, "nonexist.conf")
        for argv in (["eval", data, "--models", "a", "--set", "scorer.a.model=m"],
                     ["generate", self.session, "--rounds", "1"],
                     ["replay", self.session, "--rejudge"],
                     ["ping"]):
            with self.subTest(cmd=argv[0]):
                code, out, err = self.weft(*(argv + ["--config", missing]))
                self.assertEqual(code, 2, err)
                self.assertIn(missing, err)
                self.assertIn("No such file or directory", err)
        self.assertEqual(self.fs.requests(), [])

    def test_config_folder_is_named_with_its_reason(self):
        data = os.path.join(self.tmp.name, "d.csv")
        write_dataset(data, 3)
        code, _, err = self.weft("eval", data, "--models", "a", "--set", "scorer.a.model=m",
                                 "--config", self.tmp.name)
        self.assertEqual(code, 2, err)
        self.assertIn("config file %s: Is a directory" % self.tmp.name, err)
        self.assertNotIn("read error", err)

    def test_default_config_may_be_missing(self):
        self.new()
        self.fs.control(script={"judge-model": ["1"]})
        self.weft("generate", self.session, "--rounds", "1", check=0)


class EnvScorerTruth(TruthCase):
    """Item 12: WEFT_SCORER_X_MODEL alone makes scorer x."""

    def test_environment_creates_the_scorer(self):
        data = os.path.join(self.tmp.name, "d.csv")
        write_dataset(data, 4)
        env = dict(self.env)
        env["WEFT_SCORER_SMALL_MODEL"] = "model-small"
        env["WEFT_SCORER_GPT_4O_MODEL"] = "model-large"
        code, out, err = self.weft("eval", data, "--models", "small,gpt-4o", "--method",
                                   "logprob", "--out", os.path.join(self.tmp.name, "r"),
                                   env=env)
        self.assertEqual(code, 0, out + err)
        models = sorted({r["body"]["model"] for r in self.fs.requests()})
        self.assertEqual(models, ["model-large", "model-small"])

    def test_environment_base_url_of_one_scorer(self):
        data = os.path.join(self.tmp.name, "d.csv")
        write_dataset(data, 2)
        env = dict(self.env)
        del env["WEFT_BASE_URL"]
        env["OPENAI_BASE_URL"] = dead_url()
        env["WEFT_SCORER_X_MODEL"] = "model-x"
        env["WEFT_SCORER_X_BASE_URL"] = self.fs.base_url
        code, out, err = self.weft("eval", data, "--models", "x", "--method", "logprob",
                                   "--out", os.path.join(self.tmp.name, "r"), env=env)
        self.assertEqual(code, 0, out + err)
        self.assertEqual({r["body"]["model"] for r in self.fs.requests()}, {"model-x"})


class JudgeMaxTokensTruth(TruthCase):
    """Item 10: judge.max_tokens is what the judge is sent."""

    def test_configured_max_tokens_is_sent(self):
        self.new()
        self.fs.control(script={"judge-model": ["Option 3"]})
        code, _, err = self.weft("generate", self.session, "--rounds", "1", "--rank", "choice",
                                 "--set", "judge.max_tokens=24")
        self.assertEqual(code, 0, err)
        self.assertEqual([r["body"]["max_tokens"] for r in self.judge_requests()], [24])
        s = load(self.session)
        root = [n for n in s["nodes"] if n["id"] == s["pathNodes"][0]][0]
        step = root["weft"]["step"]
        self.assertEqual(step["finalPick"], step["candidates"][2])

    def test_rank_mode_defaults_when_unset(self):
        for mode, answer, want in (("choice", "2", 4), ("logprobs", "2", 4),
                                   ("scores", "[1, 2, 3, 4, 5]", 200)):
            with self.subTest(mode=mode):
                self.fs.control(reset=True, script={"judge-model": [answer]})
                self.weft("new", "--task", TASK, "-o", self.session, "--force", check=0)
                self.weft("generate", self.session, "--rounds", "1", "--rank", mode, check=0)
                self.assertEqual([r["body"]["max_tokens"] for r in self.judge_requests()],
                                 [want])


class PingTruth(TruthCase):
    """Item 11: a server whose slots refuse n = 2."""

    def test_n_limit_is_reported_not_a_failure(self):
        self.fs.control(max_n=1)
        code, out, err = self.weft("ping", "judge")
        self.assertEqual(code, 0, out + err)
        self.assertIn("n: no (weft fans out)", out)
        self.assertNotIn("unreachable", out)
        ns = [r["body"].get("n", 1) for r in self.fs.requests()]
        self.assertEqual(ns, [2, 1, 1])


class DeadJudgeTruth(TruthCase):
    """Item 8: a judge that cannot be reached is an error, exit 1."""

    def test_dead_judge_exits_1_and_keeps_the_candidates(self):
        self.new()
        code, out, err = self.weft("generate", self.session, "--rounds", "2",
                                   "--set", "judge.base_url=" + dead_url(),
                                   "--set", "judge.retries=0")
        self.assertEqual(code, 1, out + err)
        self.assertNotIn("needs a person", err)
        self.assertIn("the judge's request failed (asked 3 times)", err)
        self.assertIn("run the same command again", err)
        s = load(self.session)
        root = [n for n in s["nodes"] if n["id"] == s["pathNodes"][0]][0]
        step = root["weft"]["step"]
        self.assertNotIn("needsHuman", step)
        self.assertEqual(len(step["candidates"]), 5)
        self.assertEqual(len(s["pathNodes"]), 1)
        # the rerun asks the judge about the same candidates
        self.fs.control(script={"judge-model": ["2", "1"]})
        self.weft("generate", self.session, "--rounds", "2", check=0)
        s = load(self.session)
        nodes = {n["id"]: n for n in s["nodes"]}
        step = nodes[s["pathNodes"][0]]["weft"]["step"]
        self.assertEqual(step["finalPick"], step["candidates"][1])
        self.assertEqual(len(nodes[s["pathNodes"][0]]["childrenIds"]), 5)

    def test_unusable_answer_still_needs_a_person(self):
        self.new()
        self.fs.control(script={"judge-model": ["none", "none", "none"]})
        code, _, err = self.weft("generate", self.session, "--rounds", "1", "--rank",
                                 "choice")
        self.assertEqual(code, 3, err)
        self.assertIn("needs a person", err)


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
class LoomDeadJudgeTruth(TruthCase):
    """Item 8 in the loom: autopilot stops on a dead judge, and the status
    says the judge failed and why, not "pick with 1-9"."""

    def test_autopilot_stops_with_the_judge_error(self):
        self.new()
        url = dead_url()
        p = Pane(self, ["tui", self.session], cwd=self.tmp.name, env={
            "WEFT_BASE_URL": self.fs.base_url, "WEFT_GENERATOR_MODEL": "gen-model",
            "WEFT_JUDGE_MODEL": "judge-model", "WEFT_JUDGE_BASE_URL": url,
            "OPENAI_API_KEY": "sk-tui-test", "WEFT_PROMPTS": os.path.join(ROOT, "prompts")})
        p.wait_for(r"\? help")
        p.keys("a")
        screen = p.wait_for(r"the judge's request failed \(asked 3 times\): POST", timeout=30)
        self.assertNotIn("pick with 1-9", screen)
        time.sleep(1.0)  # autopilot stopped: no further step was started
        gens = [r for r in self.fs.requests() if r["body"].get("model") == "gen-model"]
        self.assertEqual(len(gens), 1)
        p.keys("q")
        p.wait_for(r"weft-exit=0")


class ReplayTruth(TruthCase):
    """Items 7 (replay) and 13."""

    def test_step_waiting_for_a_person_is_shown(self):
        self.new()
        self.fs.control(script={"judge-model": ["none"] * 3})
        code, _, err = self.weft("generate", self.session, "--rounds", "3", "--rank", "choice")
        self.assertEqual(code, 3, err)
        code, out, err = self.weft("replay", self.session, check=0)
        self.assertRegex(out, r"(?m)^step 1  judge -, waiting for a person$")
        self.assertIn("needs a person: the judge gave no usable answer after 3 asks", out)
        self.assertIn("steps            1 (the last waits for a person)", out)
        self.assertEqual(len(re.findall(r"(?m)^  [J ][* ][H ] +\d+  ", out)), 5)
        code, out, err = self.weft("replay", self.session, "--json", check=0)
        doc = json.loads(out)
        self.assertEqual(len(doc["steps"]), 1)
        st = doc["steps"][0]
        self.assertTrue(st["waiting"])
        self.assertIsNone(st["finalPick"])
        self.assertEqual(len(st["candidates"]), 5)
        self.assertEqual((doc["summary"]["steps"], doc["summary"]["waiting"]), (1, 1))

    def test_dead_judge_in_replay_exits_1_with_the_cause_in_full(self):
        self.new()
        self.fs.control(script={"judge-model": ["1"] * 3})
        self.weft("generate", self.session, "--rounds", "3", check=0)
        url = dead_url()
        code, out, err = self.weft("replay", self.session, "--judge", "judge-2", "--width",
                                   "40", "--set", "judge.base_url=" + url,
                                   "--set", "judge.retries=0")
        self.assertEqual(code, 1, out + err)
        self.assertIn("judged                 0 of 3 steps (3 without a usable answer, "
                      "3 of them because the request failed)", out)
        # the cause in full, even at --width 40
        cause = "POST %s/chat/completions (model judge-2): " % url
        lines = [ln for ln in out.splitlines() if ln.startswith("  re-judging failed: ")]
        self.assertEqual(len(lines), 3)
        for ln in lines:
            self.assertIn(cause, ln)
            self.assertIn("(after 1 attempt)", ln)
        self.assertIn("weft replay: re-judging failed for 3 of 3 steps", err)
        self.assertIn(cause, err)
        code, out, err = self.weft("replay", self.session, "--judge", "judge-2", "--json",
                                   "--set", "judge.base_url=" + url,
                                   "--set", "judge.retries=0")
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(out)["rejudge"]["requestFailed"], 3)

    def test_unusable_rejudge_answers_exit_0(self):
        self.new()
        self.fs.control(script={"judge-model": ["1"] * 2})
        self.weft("generate", self.session, "--rounds", "2", check=0)
        self.fs.control(script={"judge-2": ["maybe"] * 6})
        code, out, err = self.weft("replay", self.session, "--judge", "judge-2", "--rank",
                                   "choice", "--json", check=0)
        self.assertEqual(json.loads(out)["rejudge"]["requestFailed"], 0)


class EvalTruth(TruthCase):
    """Item 7 (eval): examples left out by failed requests exit 1."""

    def test_failed_examples_exit_1_with_count_and_cause(self):
        data = os.path.join(self.tmp.name, "d.csv")
        write_dataset(data, 6)
        # the probe and two examples pass; the third fails its 3 attempts
        self.fs.control(faults=[{}] * 3 + [{"status": 503}] * 3)
        code, out, err = self.weft("eval", data, "--models", "a", "--set",
                                   "scorer.a.model=model-small", "--set",
                                   "scorer.a.retry_base_ms=10", "--concurrency", "1",
                                   "--out", os.path.join(self.tmp.name, "r"))
        self.assertEqual(code, 1, out + err)
        self.assertIn("weft eval: model a: 1 of 6 examples failed and are left out "
                      "(5 done, kept); the first failure: POST %s/chat/completions "
                      "(model model-small): HTTP 503" % self.fs.base_url, err)
        self.assertIn("(after 3 attempts)", err)
        d = glob.glob(os.path.join(self.tmp.name, "r", "*"))[0]
        cfg = load(os.path.join(d, "config.json"))
        self.assertEqual((cfg["models"][0]["done"], cfg["models"][0]["failed"]), (5, 1))


class PlotTruth(TruthCase):
    """Item 14: weft plot RESULTS reads the sizes weft eval stored."""

    def test_plot_reads_the_sizes_eval_stored(self):
        data = os.path.join(self.tmp.name, "d.csv")
        write_dataset(data, 4)
        out_dir = os.path.join(self.tmp.name, "r")
        self.weft("eval", data, "--models", "a,b", "--method", "logprob",
                  "--set", "scorer.a.model=model-small", "--set", "scorer.b.model=model-large",
                  "--size", "a=125M:toy", "--set", "scorer.b.size=1.3e9",
                  "--set", "scorer.b.family=toy", "--out", out_dir, check=0)
        d = glob.glob(os.path.join(out_dir, "*"))[0]
        os.unlink(os.path.join(d, "scaling.svg"))
        code, out, err = self.weft("plot", d, check=0)
        self.assertNotIn("no size", err)
        rows = {ln.split()[0]: ln.split() for ln in out.splitlines()[1:3]}
        self.assertEqual((rows["a"][1], rows["a"][2]), ("toy", "1.25e+08"))
        self.assertEqual((rows["b"][1], rows["b"][2]), ("toy", "1.3e+09"))
        self.assertTrue(os.path.exists(os.path.join(d, "scaling.svg")))
        # a size given on the command line wins
        code, out, err = self.weft("plot", d, "--size", "a=7B:other", "--no-svg", check=0)
        rows = {ln.split()[0]: ln.split() for ln in out.splitlines()[1:3]}
        self.assertEqual((rows["a"][1], rows["a"][2]), ("other", "7e+09"))


if __name__ == "__main__":
    unittest.main()

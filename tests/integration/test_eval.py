"""weft eval against the fake model server: logprob (echo and its fallback)
and generate, results folder, retries, usage errors, and no key anywhere."""
import csv
import glob
import json
import math
import os
import signal
import subprocess
import tempfile
import unittest

from tests import fixtures
from tests.integration.fakeserver import FakeServer, rule

from tests.integration.weftrun import weft_checked

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))
KEY = "sk-weft-eval-SECRET-4242424242"
MODELS = {"a": "model-small", "b": "model-medium", "c": "model-large"}
CLASSES = [" Yes", " No"]


def questions(n):
    return ["Is thing number %d, a \"%s\" one, bigger than %d?" % (i, rule.WORDS[i % 64], i * 7)
            for i in range(n)]


def labels(n):
    return [(i * 7 + 3) % 3 % 2 for i in range(n)]  # a mix of 0 and 1


def isp_prompt(q):
    return "Question: %s \nAnswer:" % q


def lse(xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def echo_logprob(model, prompt, cls):
    """ISP's GPT-3 path on the fake server's echo rule."""
    full = prompt + cls
    toks = rule.prompt_tokens(full)
    off, start = 0, None
    for i, t in enumerate(toks):
        if off == len(prompt):
            start = i
            break
        off += len(t)
    assert start is not None and start > 0
    return sum(rule.prompt_token_logprob(model, toks[p], p) for p in range(start, len(toks)))


def classify(lps, answer):
    total = lse(lps)
    best = max(range(len(lps)), key=lambda i: (lps[i], -i))
    return {"loss": -(lps[answer] - total), "correct": int(best == answer),
            "predicted": CLASSES[best], "total_logprob": total}


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class EvalTest(unittest.TestCase):
    N = 50

    def setUp(self):
        self.fs = FakeServer().start()
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "results")
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("WEFT_"):
                del self.env[k]
        self.env.update({"WEFT_BASE_URL": self.fs.base_url, "OPENAI_API_KEY": KEY,
                         "XDG_CONFIG_HOME": self.tmp.name})
        self.qs = questions(self.N)
        self.ls = labels(self.N)
        self.dataset = os.path.join(self.tmp.name, "toy.csv")
        with open(self.dataset, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["prompt", "classes", "answer_index"])
            for q, a in zip(self.qs, self.ls):
                w.writerow([isp_prompt(q), str(CLASSES), a])

    def tearDown(self):
        self.fs.stop()
        self.tmp.cleanup()

    def weft(self, *args, check=None):
        sets = []
        for name, model in MODELS.items():
            sets += ["--set", "scorer.%s.model=%s" % (name, model)]
        return weft_checked(self, ["eval"] + list(args) + sets, self.env, cwd=self.tmp.name,
                            check=check)

    def results_dir(self):
        dirs = glob.glob(os.path.join(self.out, "*"))
        self.assertEqual(len(dirs), 1, dirs)
        return dirs[0]

    def assert_no_key_in_files(self, d):
        for root, _, files in os.walk(d):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(KEY.encode(), f.read(), name)

    def check_logprob_rows(self, rows, model, n):
        self.assertEqual(len(rows), n)
        for row in rows:
            i = int(row["index"])
            prompt = isp_prompt(self.qs[i])
            want = classify([echo_logprob(model, prompt, c) for c in CLASSES], self.ls[i])
            self.assertAlmostEqual(float(row["loss"]), want["loss"], places=9)
            self.assertEqual(int(row["correct"]), want["correct"])
            self.assertEqual(row["predicted"], want["predicted"])
            self.assertAlmostEqual(float(row["total_logprob"]), want["total_logprob"],
                                   places=9)

    def test_logprob_three_models_match_independent_values(self):
        _, out, err = self.weft(self.dataset, "--models", "a,b,c", "--method", "logprob",
                                "--out", self.out, "--size", "a=125M:toy",
                                "--size", "b=1.3B:toy", "--size", "c=13B:toy", check=0)
        d = self.results_dir()
        self.assertTrue(os.path.basename(d).startswith("toy-logprob-"))
        for name, model in MODELS.items():
            with open(os.path.join(d, name + ".csv"), encoding="utf-8") as f:
                self.assertEqual(f.readline().strip(), "index,loss,correct,predicted,total_logprob")
            self.check_logprob_rows(read_csv(os.path.join(d, name + ".csv")), model, self.N)
        summary = {r["model"]: r for r in read_csv(os.path.join(d, "summary.csv"))}
        for name, model in MODELS.items():
            rows = read_csv(os.path.join(d, name + ".csv"))
            acc = sum(int(r["correct"]) for r in rows) / len(rows)
            loss = sum(float(r["loss"]) for r in rows) / len(rows)
            self.assertEqual(int(summary[name]["n"]), self.N)
            self.assertAlmostEqual(float(summary[name]["accuracy"]), acc, places=9)
            self.assertAlmostEqual(float(summary[name]["mean_loss"]), loss, places=9)
            self.assertLessEqual(float(summary[name]["acc_low"]), acc)
            self.assertGreaterEqual(float(summary[name]["acc_high"]), acc)
            self.assertIn("%.3f" % acc, out)
        cfg = load_json(os.path.join(d, "config.json"))
        self.assertEqual(cfg["method"], "logprob")
        self.assertEqual([m["logprob_way"] for m in cfg["models"]], ["echo"] * 3)
        self.assertEqual(cfg["models"][0]["base_url"], self.fs.base_url)
        self.assertFalse(cfg["partial"])
        self.assertEqual(cfg["dataset"]["examples"], self.N)
        with open(os.path.join(d, "scaling.svg"), encoding="utf-8") as f:
            self.assertIn("<svg", f.read())
        self.assertIn("echo", out)
        self.assert_no_key_in_files(d)
        # every request carried the key in its header only, echo and max_tokens 0
        reqs = self.fs.requests()
        self.assertEqual(len(reqs), 3 * self.N * 2)
        for r in reqs:
            self.assertTrue(r["body"]["echo"])
            self.assertEqual(r["body"]["max_tokens"], 0)
            self.assertNotIn(KEY, json.dumps(r["body"]))

    def test_echo_ignored_falls_back_to_top_logprobs(self):
        self.fs.control(ignore_echo=True)
        _, out, _ = self.weft(self.dataset, "--models", "a", "--method", "logprob",
                              "--limit", "5", "--out", self.out, check=0)
        d = self.results_dir()
        cfg = load_json(os.path.join(d, "config.json"))
        self.assertEqual(cfg["models"][0]["logprob_way"], "top_logprobs")
        self.assertIn("top_logprobs", out)
        rows = read_csv(os.path.join(d, "a.csv"))
        self.assertEqual(len(rows), 5)
        for row in rows:
            i = int(row["index"])
            # neither class is among the 20 alternatives: both get the floor,
            # the lowest listed logprob (lp - 19) minus ln 2
            lp = rule.token_logprob("model-small", isp_prompt(self.qs[i]), 0, 0)
            floor = lp - 19 - math.log(2)
            want = classify([floor, floor], self.ls[i])
            self.assertAlmostEqual(float(row["loss"]), want["loss"], places=9)
            self.assertEqual(row["predicted"], " Yes")
            self.assertAlmostEqual(float(row["total_logprob"]), want["total_logprob"],
                                   places=9)
        self.assertIn("floor", out)

    def test_fallback_reads_classes_among_top_logprobs(self):
        self.fs.control(ignore_echo=True, script={"model-small": [
            {"text": " Yes", "top_logprobs": {" Yes": -0.25, " No": -1.75, " Maybe": -3.0}},
            {"text": " Yes", "top_logprobs": {" Yes": -0.25, " No": -1.75, " Maybe": -3.0}},
            {"text": " No", "top_logprobs": {" No": -0.5, " Yes": -1.0}},
        ]})
        self.weft(self.dataset, "--models", "a", "--method", "logprob", "--limit", "2",
                  "--concurrency", "1", "--out", self.out, check=0)
        rows = read_csv(os.path.join(self.results_dir(), "a.csv"))
        # the probe used the first scripted reply for example 0, then example 1
        want0 = classify([-0.25, -1.75], self.ls[0])
        self.assertAlmostEqual(float(rows[0]["loss"]), want0["loss"], places=9)
        want1 = classify([-1.0, -0.5], self.ls[1])
        self.assertAlmostEqual(float(rows[1]["loss"]), want1["loss"], places=9)
        self.assertEqual(rows[1]["predicted"], " No")

    def test_generate_scripted_answers(self):
        n = 20
        script = {}
        # a: always right; b: always "Yes"; c: right, but every 4th hedges
        script["model-small"] = ["Yes" if self.ls[i] == 0 else "No" for i in range(n)]
        script["model-medium"] = ["Yes"] * n
        script["model-large"] = ["Not sure" if i % 4 == 0 else ("Yes." if self.ls[i] == 0
                                                                 else "no") for i in range(n)]
        self.fs.control(script=script)
        _, out, _ = self.weft(self.dataset, "--models", "a,b,c", "--limit", str(n),
                              "--concurrency", "1", "--out", self.out, check=0)
        d = self.results_dir()
        self.assertTrue(os.path.basename(d).startswith("toy-generate-"))
        summary = {r["model"]: r for r in read_csv(os.path.join(d, "summary.csv"))}
        yes = sum(1 for i in range(n) if self.ls[i] == 0)
        hedges = len(range(0, n, 4))
        self.assertAlmostEqual(float(summary["a"]["accuracy"]), 1.0)
        self.assertAlmostEqual(float(summary["b"]["accuracy"]), yes / n)
        self.assertAlmostEqual(float(summary["c"]["accuracy"]), (n - hedges) / n)
        self.assertEqual(int(summary["c"]["unparsed"]), hedges)
        self.assertEqual(int(summary["a"]["unparsed"]), 0)
        rows = read_csv(os.path.join(d, "c.csv"))
        self.assertEqual(list(rows[0].keys()),
                         ["index", "question", "label", "raw_answer", "normalised", "correct"])
        self.assertEqual(rows[0]["question"], self.qs[0])  # quotes and commas survive
        self.assertEqual(rows[0]["raw_answer"], "Not sure")
        self.assertEqual(rows[0]["correct"], "0")
        # the default prompt and temperature 0
        reqs = self.fs.requests()
        body = reqs[0]["body"]
        self.assertEqual(body["temperature"], 0)
        self.assertIn("Answer Yes or No.", body["messages"][-1]["content"])
        self.assertIn("no model sizes known", out)
        self.assertFalse(os.path.exists(os.path.join(d, "scaling.svg")))
        self.assert_no_key_in_files(d)

    def test_generate_scoring_opro_vs_strict(self):
        # "Not sure" against a No: OPRO's substring rule credits it, strict
        # counts it unparsed
        no = [i for i in range(self.N) if self.ls[i] == 1][0]
        lines = [(isp_prompt(self.qs[no]), 1)]
        path = os.path.join(self.tmp.name, "one.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["prompt", "classes", "answer_index"])
            for pr, a in lines:
                w.writerow([pr, str(CLASSES), a])
        for scoring, acc, unparsed in (("opro", 1.0, 0), ("strict", 0.0, 1)):
            out = os.path.join(self.tmp.name, scoring)
            self.fs.control(script={"model-small": ["Not sure"]})
            self.weft(path, "--models", "a", "--scoring", scoring, "--out", out, check=0)
            d = glob.glob(os.path.join(out, "*"))[0]
            row = read_csv(os.path.join(d, "summary.csv"))[0]
            self.assertAlmostEqual(float(row["accuracy"]), acc)
            self.assertEqual(int(row["unparsed"]), unparsed)
            self.assertEqual(load_json(os.path.join(d, "config.json"))["scoring"], scoring)

    def test_server_fault_is_retried(self):
        self.fs.control(faults=[{"status": 500}, {"status": 503}])
        self.weft(self.dataset, "--models", "a", "--method", "logprob", "--limit", "4",
                  "--out", self.out, check=0)
        d = self.results_dir()
        self.check_logprob_rows(read_csv(os.path.join(d, "a.csv")), "model-small", 4)
        summary = read_csv(os.path.join(d, "summary.csv"))
        self.assertEqual(summary[0]["failed"], "0")
        self.assertEqual(len(self.fs.requests()), 4 * 2 + 2)

    def test_unauthorised_model_fails_clearly_without_the_key(self):
        self.fs.control(faults=[{"status": 401}])
        rc, out, err = self.weft(self.dataset, "--models", "a", "--limit", "3",
                                 "--out", self.out)
        self.assertEqual(rc, 1)
        self.assertIn("401", out + err)
        self.assert_no_key_in_files(self.out)

    def test_limit(self):
        self.weft(self.dataset, "--models", "b", "--method", "logprob", "--limit", "7",
                  "--out", self.out, check=0)
        self.check_logprob_rows(read_csv(os.path.join(self.results_dir(), "b.csv")),
                                "model-medium", 7)

    def test_jsonl_and_text_datasets(self):
        jl = os.path.join(self.tmp.name, "toy2.jsonl")
        with open(jl, "w", encoding="utf-8") as f:
            for q, a in list(zip(self.qs, self.ls))[:3]:
                f.write(json.dumps({"prompt": isp_prompt(q), "classes": CLASSES,
                                    "answer_index": a}) + "\n")
        self.weft(jl, "--models", "a", "--method", "logprob", "--out", self.out, check=0)
        self.check_logprob_rows(read_csv(os.path.join(self.results_dir(), "a.csv")),
                                "model-small", 3)
        txt = os.path.join(self.tmp.name, "pairs.txt")
        with open(txt, "w", encoding="utf-8") as f:
            for q, a in list(zip(self.qs, self.ls))[:4]:
                f.write("Question: %s\nAnswer: %s\n" % (q, "Yes" if a == 0 else "No"))
        out2 = os.path.join(self.tmp.name, "r2")
        self.weft(txt, "--models", "a", "--method", "logprob", "--out", out2, check=0)
        d = glob.glob(os.path.join(out2, "*"))[0]
        self.check_logprob_rows(read_csv(os.path.join(d, "a.csv")), "model-small", 4)

    def test_logodds_dataset(self):
        path = os.path.join(self.tmp.name, "lo.csv")
        n = 6
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["prompt", "other_prompt", "classes", "answer_index"])
            for q, a in list(zip(self.qs, self.ls))[:n]:
                w.writerow([isp_prompt(q), "Be careful. " + isp_prompt(q), str(CLASSES), a])
        self.weft(path, "--models", "c", "--method", "logprob", "--out", self.out, check=0)
        d = self.results_dir()
        with open(os.path.join(d, "c.csv"), encoding="utf-8") as f:
            self.assertTrue(f.readline().startswith("index,logodds_difference,correct"))
        rows = read_csv(os.path.join(d, "c.csv"))
        self.assertEqual(len(rows), n)
        for row in rows:
            i = int(row["index"])
            pr = isp_prompt(self.qs[i])
            p = [echo_logprob("model-large", pr, c) for c in CLASSES]
            q = [echo_logprob("model-large", "Be careful. " + pr, c) for c in CLASSES]
            diff = (p[0] - p[1]) - (q[0] - q[1])
            if self.ls[i] == 1:
                diff = -diff
            best = 0 if q[0] >= q[1] else 1
            self.assertAlmostEqual(float(row["logodds_difference"]), diff, places=9)
            self.assertEqual(int(row["correct"]), int(best == self.ls[i]))
            self.assertAlmostEqual(float(row["total_logprob"]), lse(p + q), places=9)
        self.assertEqual(load_json(os.path.join(d, "config.json"))["dataset"]["type"],
                         "logodds")

    def test_ctrl_c_keeps_what_finished(self):
        self.fs.control(latency_ms=100)
        sets = ["--set", "scorer.a.model=model-small"]
        p = subprocess.Popen([WEFT, "eval", self.dataset, "--models", "a", "--method",
                              "logprob", "--concurrency", "2", "--out", self.out] + sets,
                             env=self.env, cwd=self.tmp.name, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            # wait for the first progress line (10%), then interrupt
            while True:
                line = p.stderr.readline().decode("utf-8", "replace")
                self.assertTrue(line, "weft eval ended before any progress")
                if "done (" in line:
                    break
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        out = out.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 130, out)
        self.assertIn("interrupted: partial results", out)
        d = self.results_dir()
        cfg = load_json(os.path.join(d, "config.json"))
        self.assertTrue(cfg["partial"])
        rows = read_csv(os.path.join(d, "a.csv"))
        self.assertGreater(len(rows), 0)
        self.assertLess(len(rows), self.N)
        self.check_logprob_rows(rows, "model-small", len(rows))

    def session_of_pairs(self, task, fmt, count):
        """A session of task (weft new) whose chosen path holds count of the
        dataset's pairs written with fmt ("Question: %s\\nAnswer: %s\\n")."""
        sess = os.path.join(self.tmp.name, "s.json")
        subprocess.run([WEFT, "new", "--task", task, "-o", sess], check=True,
                       env=self.env, stdout=subprocess.DEVNULL, timeout=60)
        with open(sess, encoding="utf-8") as f:
            doc = json.load(f)
        root = doc["pathNodes"][0]
        text = "".join(fmt % (q, "Yes" if a == 0 else "No")
                       for q, a in list(zip(self.qs, self.ls))[:count])
        doc["nodes"].append({"id": "pairs1", "text": text, "parentIds": [root],
                             "childrenIds": [], "group": "path"})
        doc["nodes"][0]["childrenIds"] = ["pairs1"]
        doc["pathNodes"] = [root, "pairs1"]
        with open(sess, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return sess

    def test_session_dataset(self):
        self.env["WEFT_PROMPTS"] = os.path.join(ROOT, "prompts")
        sess = self.session_of_pairs("nice-sounding-wrong", "Question: %s\nAnswer: %s\n", 6)
        self.weft(sess, "--models", "a", "--method", "logprob", "--out", self.out, check=0)
        d = self.results_dir()
        self.check_logprob_rows(read_csv(os.path.join(d, "a.csv")), "model-small", 6)
        cfg = load_json(os.path.join(d, "config.json"))
        self.assertEqual(cfg["dataset"]["task"], "nice-sounding-wrong")

    def test_session_dataset_reads_with_its_task(self):
        """A session of a task with its own pattern: its pairs are read
        with that pattern (the defaults find none)."""
        import shutil
        prompts = os.path.join(self.tmp.name, "prompts")
        shutil.copytree(os.path.join(ROOT, "prompts", "nice-sounding-wrong"),
                        os.path.join(prompts, "qa"))
        with open(os.path.join(prompts, "qa", "task.conf"), "w") as f:
            f.write("labels = Yes, No\npattern = Q: (.*?)\\nA: (.*?)\\n\npreamble =\n")
        self.env["WEFT_PROMPTS"] = prompts
        sess = self.session_of_pairs("qa", "Q: %s\nA: %s\n", 5)
        self.weft(sess, "--models", "a", "--method", "logprob", "--out", self.out, check=0)
        d = self.results_dir()
        self.check_logprob_rows(read_csv(os.path.join(d, "a.csv")), "model-small", 5)
        self.assertEqual(load_json(os.path.join(d, "config.json"))["dataset"]["task"], "qa")

    def test_seed_csv(self):
        path = fixtures.need(self, "classification-dataset.csv")
        self.weft(path, "--models", "b", "--method", "logprob", "--out", self.out, check=0)
        rows = read_csv(os.path.join(self.results_dir(), "b.csv"))
        self.assertEqual(len(rows), 201)
        with open(path, newline="", encoding="utf-8") as f:
            data = list(csv.DictReader(f))
        for row in rows[:20]:
            w = data[int(row["index"])]
            lps = [echo_logprob("model-medium", w["prompt"], c) for c in CLASSES]
            want = classify(lps, int(w["answer_index"]))
            self.assertAlmostEqual(float(row["loss"]), want["loss"], places=9)
            self.assertEqual(row["predicted"], want["predicted"])

    def test_bad_usage_exits_2(self):
        for args in ([self.dataset], [self.dataset, "--models", "a", "--method", "guess"],
                     [self.dataset, "--models", "a", "--scoring", "loose"],
                     [self.dataset, "--models", "a", "--limit", "0"],
                     [self.dataset, "--models", "a", "--bogus"],
                     ["--models", "a"]):
            rc, _, err = self.weft(*args)
            self.assertEqual(rc, 2, args)
            self.assertIn("usage: weft eval", err)

    def test_name_that_is_no_model_id_exits_1(self):
        rc, out, err = self.weft(self.dataset, "--models", "a,no pe", "--out", self.out)
        self.assertEqual(rc, 1)
        self.assertIn("unknown model 'no pe'", err)
        self.assertIn("scorer.NAME.model", err)
        self.assertEqual(self.fs.requests(), [])

    def test_missing_dataset_exits_1(self):
        rc, _, err = self.weft(os.path.join(self.tmp.name, "none.csv"), "--models", "a")
        self.assertEqual(rc, 1)
        self.assertIn("none.csv", err)


if __name__ == "__main__":
    unittest.main()


class ModelNamesTest(unittest.TestCase):
    """weft eval --models NAME,... with no configuration at all: only
    OPENAI_API_KEY and OPENAI_BASE_URL. Names are models on that endpoint."""
    N = 12

    setUp = EvalTest.setUp
    tearDown = EvalTest.tearDown
    results_dir = EvalTest.results_dir
    check_logprob_rows = EvalTest.check_logprob_rows

    def bare_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("WEFT_", "OPENAI_"))}
        env.update({"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": self.fs.base_url,
                    "XDG_CONFIG_HOME": self.tmp.name})
        return env

    def weft(self, *args, check=None):
        return weft_checked(self, ["eval"] + list(args), self.bare_env(), cwd=self.tmp.name,
                            check=check)

    def test_names_are_models_on_the_default_endpoint(self):
        self.assertEqual(os.listdir(self.tmp.name), ["toy.csv"])  # no config file
        _, out, err = self.weft(self.dataset, "--models", "a-model,b-model", "--method",
                                "logprob", "--out", self.out, check=0)
        for name in ("a-model", "b-model"):
            self.assertIn("'%s' is not a configured scorer: scoring model '%s' on the "
                          "default endpoint (OPENAI_BASE_URL)" % (name, name), err)
        reqs = self.fs.requests()
        self.assertEqual(sorted({r["body"]["model"] for r in reqs}), ["a-model", "b-model"])
        for r in reqs:
            self.assertEqual(r["headers"].get("Authorization"), "Bearer " + KEY)
        d = self.results_dir()
        for name in ("a-model", "b-model"):
            self.check_logprob_rows(read_csv(os.path.join(d, name + ".csv")), name, self.N)
        cfg = load_json(os.path.join(d, "config.json"))
        self.assertEqual([m["base_url"] for m in cfg["models"]], [self.fs.base_url] * 2)
        self.assertEqual([m["model"] for m in cfg["models"]], ["a-model", "b-model"])

    def test_sizes_from_the_table_and_from_size(self):
        _, out, err = self.weft(self.dataset, "--models", "pythia-70m,pythia-1b,gpt-x",
                                "--method", "logprob", "--out", self.out,
                                "--size", "pythia-1b=2B:mine", check=0)
        self.assertIn("size of 'pythia-70m' from weft's table of known models: 7e+07 (pythia)",
                      err)
        self.assertNotIn("size of 'pythia-1b' from", err)
        self.assertNotIn("size of 'gpt-x' from", err)
        summary = {r["model"]: r for r in read_csv(os.path.join(self.results_dir(),
                                                                "summary.csv"))}
        self.assertEqual((float(summary["pythia-70m"]["size"]), summary["pythia-70m"]["family"]),
                         (70e6, "pythia"))
        self.assertEqual((float(summary["pythia-1b"]["size"]), summary["pythia-1b"]["family"]),
                         (2e9, "mine"))

    def test_a_configured_scorer_is_not_a_bare_name(self):
        _, out, err = self.weft(self.dataset, "--models", "small", "--method", "logprob",
                                "--out", self.out, "--set", "scorer.small.model=model-small",
                                check=0)
        self.assertNotIn("not a configured scorer", err)
        self.assertEqual({r["body"]["model"] for r in self.fs.requests()}, {"model-small"})

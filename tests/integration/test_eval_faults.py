"""The fault matrix for weft eval: the fake server misbehaving, one kind of
fault at a time (on a model's probe and on a later request), then mixed at
random with a fixed seed, with --method generate and --method logprob.

For each fault: the exit status; the one line the user sees (the table's
`error:` line, and on stderr for a model that failed) naming the endpoint,
the model and the status; the number of requests the server saw (what the
retry rules allow: 3 attempts a request, none more for what is not retried);
and the results folder: every per-model CSV row is whole and equal to the
row a fault-free run gives for that example, one row per example that
finished, summary.csv and config.json agree with the rows, and nothing else
is left in the folder.  What finished before a model failed is kept.

Backoff and timeouts are set small with --set (retry_base_ms, retry_cap_ms,
retry_after_cap_ms, timeout) so the matrix takes seconds.  WEFT_LONG=1 runs
more seeds, more examples and more models in the mixed test.
"""
import csv
import email.utils
import glob
import json
import os
import random
import subprocess
import tempfile
import time
import unittest

from tests.integration.fakeserver import FakeServer
from tests.integration.weftrun import KEY, LONG, ROOT, WEFT

N = 6
MODELS = {"a": "model-small", "b": "model-medium", "c": "model-large"}
HEADERS = {"generate": "index,question,label,raw_answer,normalised,correct",
           "logprob": "index,loss,correct,predicted,total_logprob"}
ENDPOINT = {"generate": "/chat/completions", "logprob": "/completions"}
# requests one example costs: one question, or one echo per class
PER_EXAMPLE = {"generate": 1, "logprob": 2}

RETRIED = {
    "429": {"status": 429},
    "429-retry-after": {"status": 429, "retry_after": "1"},
    "429-retry-after-ms": {"status": 429, "retry_after_ms": "30"},
    "429-retry-after-date": "date",
    "429-retry-after-above-cap": {"status": 429, "retry_after": "3600"},
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "hang": {"hang": 3},
    "drop": {"drop": True},
}


# The positions (request numbers, 0 = the model's first request, its probe)
# each kind is tried at in one run; a hang costs a timeout, so it is tried
# once.  logprob shares the engine's retries with generate: a few kinds.
AT = {
    "generate": {"429": (2,), "429-retry-after": (2,), "429-retry-after-ms": (2,),
                 "429-retry-after-date": (0, 3), "429-retry-after-above-cap": (2,),
                 "500": (2,), "502": (2,), "503": (0, 3), "hang": (0,), "drop": (0, 3)},
    "logprob": {"429-retry-after-date": (0, 3), "503": (0, 3), "drop": (0, 3)},
}


def fast(names, retries=None):
    out = []
    for n in names:
        out += ["--set", "scorer.%s.model=%s" % (n, MODELS[n]),
                "--set", "scorer.%s.retry_base_ms=20" % n,
                "--set", "scorer.%s.retry_cap_ms=80" % n,
                "--set", "scorer.%s.retry_after_cap_ms=100" % n,
                "--set", "scorer.%s.timeout=1.5" % n]
        if retries is not None:
            out += ["--set", "scorer.%s.retries=%d" % (n, retries)]
    return out


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


class EvalFaultTest(unittest.TestCase):
    clean = {}  # (method, n, model name) -> {index: row}, from a fault-free run

    def setUp(self):
        self.fs = FakeServer().start()
        self.tmp = tempfile.TemporaryDirectory()
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("WEFT_") and k not in ("WEFT_BIN", "WEFT_LONG"):
                del self.env[k]
        self.env.update({"WEFT_BASE_URL": self.fs.base_url, "OPENAI_API_KEY": KEY,
                         "XDG_CONFIG_HOME": self.tmp.name})
        self.runs = 0

    def tearDown(self):
        self.fs.stop()
        self.tmp.cleanup()

    def dataset(self, n):
        path = os.path.join(self.tmp.name, "toy%d.csv" % n)
        if not os.path.exists(path):
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["prompt", "classes", "answer_index"])
                for i in range(n):
                    w.writerow(["Question: Is thing %d, a \"big\" one, bigger than %d? \nAnswer:"
                                % (i, i * 7), "[' Yes', ' No']", (i * 7 + 3) % 3 % 2])
        return path

    def eval(self, method, names=("a",), n=N, concurrency=1, retries=None):
        """Runs weft eval; returns (exit status, stdout, stderr, results folder)."""
        self.runs += 1
        out = os.path.join(self.tmp.name, "r%d" % self.runs)
        p = subprocess.run([WEFT, "eval", self.dataset(n), "--models", ",".join(names),
                            "--method", method, "--concurrency", str(concurrency),
                            "--out", out] + fast(names, retries),
                           env=self.env, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=300)
        so = p.stdout.decode("utf-8", "replace")
        se = p.stderr.decode("utf-8", "replace")
        self.assertNotIn(KEY, so + se)
        self.assertNotIn("\x1b", so + se)
        dirs = glob.glob(os.path.join(out, "*"))
        self.assertEqual(len(dirs), 1, (dirs, so, se))
        return p.returncode, so, se, dirs[0]

    def baseline(self, method, names=("a",), n=N):
        """The rows of a fault-free run (the fake server is deterministic)."""
        if any((method, n, x) not in EvalFaultTest.clean for x in names):
            self.fs.control(reset=True)
            code, so, se, d = self.eval(method, names, n, concurrency=2)
            self.assertEqual(code, 0, so + se)
            for name in names:
                rows = read_rows(os.path.join(d, name + ".csv"))
                self.assertEqual(len(rows), n + 1)
                EvalFaultTest.clean[(method, n, name)] = {int(r[0]): r for r in rows[1:]}
            self.fs.control(reset=True)
        return {name: EvalFaultTest.clean[(method, n, name)] for name in names}

    def consistent(self, d, method, names=("a",), n=N, changed=(), fffd=False):
        """The results folder is whole and agrees with itself and with a
        fault-free run; returns {name: finished indices}."""
        base = self.baseline(method, names, n)
        files = sorted(os.listdir(d))
        want = sorted(["config.json", "summary.csv"] + [x + ".csv" for x in names])
        self.assertEqual(files, want)  # no temporary file left behind
        with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        self.assertFalse(cfg["partial"])
        with open(os.path.join(d, "summary.csv"), newline="", encoding="utf-8") as f:
            summary = {r["model"]: r for r in csv.DictReader(f)}
        self.assertEqual(sorted(summary), sorted(names))
        finished = {}
        for k, name in enumerate(names):
            with open(os.path.join(d, name + ".csv"), "rb") as f:
                raw = f.read()
            self.assertTrue(raw.endswith(b"\n"), "a half row in %s.csv" % name)
            rows = read_rows(os.path.join(d, name + ".csv"))
            self.assertEqual(",".join(rows[0]), HEADERS[method])
            idx = [int(r[0]) for r in rows[1:]]
            self.assertEqual(idx, sorted(set(idx)), "an example recorded twice or out of order")
            for r in rows[1:]:
                self.assertEqual(len(r), len(rows[0]), "a half row: %r" % r)
                if int(r[0]) in changed or (fffd and "\ufffd" in r[3]):
                    continue
                self.assertEqual(r, base[name][int(r[0])])
            s = summary[name]
            m = cfg["models"][k]
            self.assertEqual(m["name"], name)
            self.assertEqual(int(s["n"]), len(idx))
            self.assertEqual(m["done"], len(idx))
            self.assertEqual(int(s["failed"]), m["failed"])
            self.assertEqual(m["done"] + m["failed"], n)
            if idx:
                correct = sum(int(r[-1] if method == "generate" else r[2]) for r in rows[1:])
                self.assertAlmostEqual(float(s["accuracy"]), correct / len(idx), places=12)
            finished[name] = idx
        return finished

    def nreq(self):
        return len(self.fs.requests())

    def error_line(self, text, method, model, words):
        """The one line naming endpoint, model and what went wrong."""
        url = self.fs.base_url + ENDPOINT[method]
        lines = [ln for ln in text.splitlines()
                 if "POST %s (model %s): " % (url, model) in ln]
        self.assertEqual(len(lines), 1, text)
        for w in words:
            self.assertIn(w, lines[0])
        return lines[0]

    # ---- one fault at a time ------------------------------------------------

    def test_retried_faults_cost_one_more_request(self):
        for method in ("generate", "logprob"):
            base = N * PER_EXAMPLE[method]
            for kind, at in AT[method].items():
                with self.subTest(method=method, kind=kind, at=at):
                    fault = RETRIED[kind]
                    if fault == "date":
                        fault = {"status": 429, "retry_after":
                                 email.utils.formatdate(time.time() + 2, usegmt=True)}
                    faults = [{}] * (at[-1] + 1)
                    for p in at:
                        faults[p] = fault
                    self.baseline(method)
                    self.fs.control(reset=True, faults=faults)
                    code, so, se, d = self.eval(method)
                    self.assertEqual(code, 0, so + se)
                    # each faulty attempt and the one that worked
                    self.assertEqual(self.nreq(), base + len(at))
                    self.assertEqual(self.consistent(d, method)["a"], list(range(N)))
                    self.assertNotIn("error:", so)
                    self.assertNotIn("failed", se)

    def test_persistent_503_leaves_one_example_out(self):
        for method in ("generate", "logprob"):
            with self.subTest(method=method):
                self.baseline(method)
                self.fs.control(reset=True, faults=[{}] * 2 + [{"status": 503}] * 3)
                code, so, se, d = self.eval(method)
                # an example left out is a failure: exit 1, counted on stderr
                self.assertEqual(code, 1, so + se)
                self.assertIn("weft eval: model a: 1 of %d examples failed and are left "
                              "out (%d done, kept)" % (N, N - 1), se)
                self.error_line(se, method, "model-small",
                                ["HTTP 503", "fake error 503", "after 3 attempts"])
                # the third request's example (generate: #2; logprob: #1's
                # first class) is out, after 3 attempts; the rest as usual
                lost = 2 // PER_EXAMPLE[method]
                self.assertEqual(self.nreq(), N * PER_EXAMPLE[method] + 2
                                 - (PER_EXAMPLE[method] - 1))
                self.assertEqual(self.consistent(d, method)["a"],
                                 [i for i in range(N) if i != lost])
                self.error_line(so, method, "model-small",
                                ["HTTP 503", "fake error 503", "after 3 attempts"])

    def test_retries_setting_bounds_the_attempts(self):
        self.baseline("generate")
        self.fs.control(reset=True, faults=[{}] + [{"status": 500}] * 5)
        code, so, se, d = self.eval("generate", retries=4)
        self.assertEqual(code, 1, so + se)
        self.assertEqual(self.nreq(), N + 4)
        self.error_line(so, "generate", "model-small", ["HTTP 500", "after 5 attempts"])
        self.assertEqual(self.consistent(d, "generate")["a"], [0] + list(range(2, N)))

    def test_hang_every_attempt_is_a_timeout(self):
        self.baseline("generate")
        self.fs.control(reset=True, faults=[{}] + [{"hang": 3}])
        code, so, se, d = self.eval("generate", retries=0)
        self.assertEqual(code, 1, so + se)
        self.error_line(so, "generate", "model-small", ["imeout", "after 1 attempt)"])
        self.assertEqual(self.consistent(d, "generate")["a"], [0] + list(range(2, N)))
        self.assertEqual(self.nreq(), N)

    def test_failing_probe_fails_the_model(self):
        for method in ("generate", "logprob"):
            for fault, attempts, words in (({"status": 503}, 3, ["HTTP 503"]),
                                           ({"malformed": True}, 1, ["invalid JSON"]),
                                           ({"status": 401}, 1, ["HTTP 401"])):
                with self.subTest(method=method, fault=fault):
                    self.fs.control(reset=True, faults=[fault] * attempts)
                    code, so, se, d = self.eval(method)
                    self.assertEqual(code, 1, so + se)
                    self.assertEqual(self.nreq(), attempts)
                    self.assertEqual(self.consistent(d, method)["a"], [])
                    words = words + ["after %d attempt" % attempts]
                    self.error_line(so, method, "model-small", words)
                    line = self.error_line(se, method, "model-small", words)
                    self.assertTrue(line.startswith("weft eval: model a failed (0 of %d" % N))

    def test_stopping_errors_keep_what_finished(self):
        """insufficient_quota (not retried) and 401 after the probe stop the
        model: nothing more is sent, what finished is kept, exit 1."""
        for method in ("generate", "logprob"):
            for fault, words in (({"insufficient_quota": True}, ["HTTP 429", "quota"]),
                                 ({"status": 401}, ["HTTP 401", "Incorrect API key"])):
                with self.subTest(method=method, fault=fault):
                    self.baseline(method)
                    self.fs.control(reset=True, faults=[{}] * 4 + [fault])
                    code, so, se, d = self.eval(method)
                    self.assertEqual(code, 1, so + se)
                    self.assertEqual(self.nreq(), 5)
                    kept = 4 // PER_EXAMPLE[method]
                    self.assertEqual(self.consistent(d, method)["a"], list(range(kept)))
                    words = words + ["after 1 attempt)"]
                    self.error_line(so, method, "model-small", words)
                    line = self.error_line(se, method, "model-small", words)
                    self.assertTrue(line.startswith("weft eval: model a failed (%d of %d "
                                                    "examples done, kept)" % (kept, N)), line)

    def test_stopping_error_cancels_requests_in_flight(self):
        self.baseline("generate")
        self.fs.control(reset=True, latency_ms=50, faults=[{}] * 3 + [{"status": 403}])
        code, so, se, d = self.eval("generate", concurrency=3)
        self.assertEqual(code, 1, so + se)
        finished = self.consistent(d, "generate")["a"]
        self.assertLess(len(finished), N)
        self.error_line(se, "generate", "model-small", ["HTTP 403"])
        # the 403 came in with at most 2 others out; nothing was sent after it
        self.assertLessEqual(self.nreq(), 4 + 2)

    def test_bad_replies_are_not_retried(self):
        for method in ("generate", "logprob"):
            for fault, words in (({"malformed": True}, ["HTTP 200", "invalid JSON"]),
                                 ({"truncated": True}, ["HTTP 200", "invalid JSON"]),
                                 ({"empty_choices": True}, ["HTTP 200", "no choices"])):
                with self.subTest(method=method, fault=fault):
                    self.baseline(method)
                    self.fs.control(reset=True, faults=[{}] * 2 + [fault])
                    code, so, se, d = self.eval(method)
                    self.assertEqual(code, 1, so + se)
                    self.error_line(se, method, "model-small", words + ["after 1 attempt)"])
                    lost = 2 // PER_EXAMPLE[method]
                    self.assertEqual(self.nreq(), N * PER_EXAMPLE[method]
                                     - (PER_EXAMPLE[method] - 1))
                    self.assertEqual(self.consistent(d, method)["a"],
                                     [i for i in range(N) if i != lost])
                    self.error_line(so, method, "model-small", words + ["after 1 attempt)"])

    def test_non_utf8_bytes(self):
        for method in ("generate", "logprob"):
            with self.subTest(method=method):
                base = self.baseline(method)["a"]
                self.fs.control(reset=True, faults=[{}] * 2 + [{"non_utf8": True}])
                code, so, se, d = self.eval(method)
                self.assertEqual(code, 0, so + se)
                self.assertEqual(self.nreq(), N * PER_EXAMPLE[method])
                self.assertEqual(self.consistent(d, method, changed=(2,))["a"],
                                 list(range(N)))
                rows = {int(r[0]): r for r in read_rows(os.path.join(d, "a.csv"))[1:]}
                if method == "generate":
                    # the bad bytes became U+FFFD in the answer, nothing else changed
                    self.assertEqual(rows[2][3], "\ufffd\ufffd" + base[2][3])
                    self.assertEqual(rows[2][:3], base[2][:3])
                else:
                    # logprob reads the tokens, not the text
                    self.assertEqual(rows[2], base[2])

    # ---- mixed --------------------------------------------------------------

    def mixed(self, seed, method, names, n, nfaults):
        """Faults drawn at random for the requests after the probes (which
        go first, one per model, and pass: a failing probe is tested above),
        plus, for odd seeds, one insufficient_quota in the second half.
        Hangs (a timeout each) only in the long run."""
        rng = random.Random(seed)
        kinds = [{}] * 8 + [{"status": 429}, {"status": 429, "retry_after": "1"},
                            {"status": 500}, {"status": 502}, {"status": 503},
                            {"drop": True}, {"malformed": True},
                            {"truncated": True}, {"empty_choices": True},
                            {"non_utf8": True}] + ([{"hang": 2}] if LONG else [])
        faults = [rng.choice(kinds) for _ in range(nfaults)]
        if seed % 2:
            faults[rng.randrange(nfaults // 2, nfaults)] = {"insufficient_quota": True}
        faults = [{}] * len(names) + faults
        self.baseline(method, names, n)
        self.fs.control(reset=True, faults=faults)
        code, so, se, d = self.eval(method, names, n, concurrency=2)
        self.assertIn(code, (0, 1), so + se)
        # non_utf8 changes a generated answer (U+FFFD in it); the rest is
        # as a fault-free run gives it
        self.consistent(d, method, names, n, fffd=method == "generate")
        with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        stopped = [m for m in cfg["models"]
                   if "weft eval: model %s failed (" % m["name"] in se]
        # exit 1 when a model stopped or any example failed
        self.assertEqual(code == 1, bool(stopped) or any(m["failed"] for m in cfg["models"]),
                         se)
        for m in cfg["models"]:
            if m["failed"] and m not in stopped:
                self.assertIn("weft eval: model %s: %d of %d examples failed"
                              % (m["name"], m["failed"], n), se)
        for m in stopped:
            self.assertIsNotNone(m["error"])
            self.error_line(se, method, MODELS[m["name"]], ["(after "])
        # every request within its attempts: identical bodies are one request
        # retried (each example and class has its own body)
        seen = {}
        for r in self.fs.requests():
            k = json.dumps(r["body"], sort_keys=True)
            seen[k] = seen.get(k, 0) + 1
        self.assertLessEqual(max(seen.values()), 3)
        self.assertLessEqual(len(seen), len(names) * n * PER_EXAMPLE[method])

    def test_mixed_faults_fixed_seed(self):
        if LONG:
            cases = [(seed, method, ("a", "b", "c"), 30, 150)
                     for seed in range(1, 7) for method in ("generate", "logprob")]
        else:
            cases = [(7, "generate", ("a", "b"), 8, 20), (7, "logprob", ("a", "b"), 8, 20)]
        for seed, method, names, n, nfaults in cases:
            with self.subTest(seed=seed, method=method):
                self.mixed(seed, method, names, n, nfaults)


if __name__ == "__main__":
    unittest.main()

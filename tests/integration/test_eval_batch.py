"""weft eval --batch and --resume against the fake server's Files and Batch
endpoints: the same results files as a live run, a run killed at each state
of its batch and resumed, failed requests listed and retried live, and
broken state files refused by name."""
import csv
import glob
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from tests.integration.fakeserver import FakeServer
from tests.integration.test_verify import VERIFIER, VerifyTest, questions
from tests.integration.weftrun import ROOT, WEFT, ServerCase, weft_checked

KEY = "sk-weft-batch-SECRET-5151515151"
MODELS = {"a": "model-small", "b": "model-large"}
CLASSES = [" Yes", " No"]
N = 12


def write_dataset(path, n):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["prompt", "classes", "answer_index"])
        for i in range(n):
            w.writerow(["Question: is item %d, of %d, heavy? \nAnswer:" % (i, i * 3),
                        str(CLASSES), (i * 5 + 1) % 2])


def read_tree(d):
    """The results files of folder d (not batch/): {name: bytes}."""
    out = {}
    for name in sorted(os.listdir(d)):
        if name != "batch":
            with open(os.path.join(d, name), "rb") as f:
                out[name] = f.read()
    return out


class BatchCase(unittest.TestCase):
    def setUp(self):
        self.fs = FakeServer().start()
        self.addCleanup(self.fs.stop)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
        self.env.update({"WEFT_BASE_URL": self.fs.base_url, "OPENAI_API_KEY": KEY,
                         "XDG_CONFIG_HOME": self.tmp.name, "WEFT_BATCH_POLL_MS": "20"})
        self.dataset = os.path.join(self.tmp.name, "toy.csv")
        write_dataset(self.dataset, N)

    def args(self, method, out):
        a = [self.dataset, "--models", ",".join(MODELS), "--method", method, "--out", out]
        for name, model in MODELS.items():
            a += ["--set", "scorer.%s.model=%s" % (name, model)]
        return a

    def weft(self, *argv, check=None):
        return weft_checked(self, ["eval"] + list(argv), self.env, cwd=self.tmp.name,
                            check=check)

    def only_dir(self, out):
        dirs = glob.glob(os.path.join(self.tmp.name, out, "*"))
        self.assertEqual(len(dirs), 1, dirs)
        return dirs[0]

    def live(self, method="logprob"):
        """The live run's results (the server's requests forgotten after)."""
        self.weft(*self.args(method, "live"), check=0)
        tree = read_tree(self.only_dir("live"))
        self.fs.control(clear_requests=True)
        return tree

    def state(self, d):
        with open(os.path.join(d, "batch", "state"), encoding="utf-8") as f:
            return f.read()

    def assert_no_key(self, d):
        for root, _, files in os.walk(d):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(KEY.encode(), f.read(), name)


class BatchEndToEnd(BatchCase):
    def check_same_as_live(self, method):
        live = self.live(method)
        _, out, err = self.weft(*self.args(method, "batch") + ["--batch"], check=0)
        d = self.only_dir("batch")
        self.assertEqual(read_tree(d), live)
        self.assertIn("results in", out)
        self.assertIn("completed", err)
        reqs = self.fs.requests()
        uploads = [r for r in reqs if r["path"] == "/v1/files"]
        creates = [r for r in reqs if r["path"] == "/v1/batches"]
        self.assertEqual(len(uploads), len(MODELS))
        self.assertEqual(len(creates), len(MODELS))
        for r in uploads:
            self.assertTrue(r["headers"]["Content-Type"].startswith("multipart/form-data"))
            self.assertEqual(r["headers"]["Authorization"], "Bearer " + KEY)
        for r in creates:
            body = json.loads(r["body"])
            self.assertEqual(body["completion_window"], "24h")
            self.assertIn(body["endpoint"], ("/v1/completions", "/v1/chat/completions"))
            self.assertTrue(body["input_file_id"].startswith("file-"))
        # the probes are the only live requests
        live_reqs = [r for r in reqs if r["path"].endswith("completions")]
        self.assertEqual(len(live_reqs), len(MODELS))
        # each input line's body is what the live run sends (its probe's twin)
        with open(os.path.join(d, "batch", "a.input.jsonl"), encoding="utf-8") as f:
            lines = [json.loads(x) for x in f]
        self.assertEqual(lines[0]["body"], [r["body"] for r in live_reqs
                                            if r["body"]["model"] == MODELS["a"]][0])
        self.assertEqual(lines[0]["method"], "POST")
        self.assertEqual(len({x["custom_id"] for x in lines}), len(lines))
        self.assertIn("step done", self.state(d))
        self.assert_no_key(d)
        return d

    def test_logprob_same_files_as_live(self):
        d = self.check_same_as_live("logprob")
        with open(os.path.join(d, "batch", "b.input.jsonl"), encoding="utf-8") as f:
            self.assertEqual(len(f.readlines()), N * 2)  # echo: one per class

    def test_generate_same_files_as_live(self):
        self.check_same_as_live("generate")

    def test_echo_ignored_batches_the_top_way(self):
        self.fs.control(ignore_echo=True)
        live = self.live()
        self.weft(*self.args("logprob", "batch") + ["--batch"], check=0)
        d = self.only_dir("batch")
        self.assertEqual(read_tree(d), live)
        self.assertIn("way top", self.state(d))
        with open(os.path.join(d, "batch", "a.input.jsonl"), encoding="utf-8") as f:
            self.assertEqual(len(f.readlines()), N)  # top: one per prompt

    def test_failed_requests_listed_then_retried_live(self):
        live = self.live()
        self.fs.control(batch={"fail_ids": ["e1-s0", "e4-s1"]})
        code, out, err = self.weft(*self.args("logprob", "batch") + ["--batch"])
        self.assertEqual(code, 1, err)
        d = self.only_dir("batch")
        self.assertIn("2 requests not answered", err)
        self.assertIn("--retry-live", err)
        self.assertIn("fake batch error", err)
        rows = list(csv.DictReader(read_tree(d)["summary.csv"].decode().splitlines()))
        self.assertEqual([r["failed"] for r in rows], ["2"] * len(MODELS))
        self.fs.control(clear_requests=True)
        self.weft("--resume", d, "--retry-live", check=0)
        self.assertEqual(read_tree(d), live)
        sent = [r["body"]["prompt"] for r in self.fs.requests()
                if r["path"].endswith("/completions")]
        self.assertEqual(len(sent), 2 * len(MODELS))
        with open(os.path.join(d, "batch", "a.retry.jsonl"), encoding="utf-8") as f:
            self.assertEqual(sorted(json.loads(x)["custom_id"] for x in f), ["e1-s0", "e4-s1"])
        # a resume after that asks nothing again: the retries are kept
        self.fs.control(clear_requests=True)
        self.weft("--resume", d, check=0)
        self.assertEqual(read_tree(d), live)
        self.assertEqual([r for r in self.fs.requests() if "completions" in r["path"]], [])

    def test_batch_with_retry_live_at_once(self):
        live = self.live("generate")
        self.fs.control(batch={"fail_every": 5})
        self.weft(*self.args("generate", "batch") + ["--batch", "--retry-live"], check=0)
        self.assertEqual(read_tree(self.only_dir("batch")), live)


class BatchResume(BatchCase):
    def start(self, *extra):
        argv = [WEFT, "eval"] + self.args("logprob", "batch") + ["--batch"] + list(extra)
        return subprocess.Popen(argv, env=self.env, cwd=self.tmp.name, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill_when(self, proc, want, count=1):
        """Kills proc (SIGKILL: no clean-up) once its state says each of
        want count times (once per model: every model there)."""
        deadline = time.time() + 60
        while time.time() < deadline:
            found = glob.glob(os.path.join(self.tmp.name, "batch", "*", "batch", "state"))
            if found:
                with open(found[0], encoding="utf-8") as f:
                    text = f.read()
                if all(text.count(w) >= count for w in want):
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    return os.path.dirname(os.path.dirname(found[0]))
            self.assertIsNone(proc.poll(), "weft ended before its state said %s" % want)
            time.sleep(0.02)
        proc.kill()
        self.fail("the state never said %s" % want)

    def uploads_and_creates(self):
        reqs = self.fs.requests()
        return (len([r for r in reqs if r["path"] == "/v1/files"]),
                len([r for r in reqs if r["path"] == "/v1/batches"]))

    def resume_matches(self, d, live, extra=()):
        self.weft("--resume", d, *extra, check=0)
        self.assertEqual(read_tree(d), live)

    def test_killed_uploading(self):
        live = self.live()
        self.fs.control(batch={"upload_delay": 30})
        # every model still to upload: the state was saved before the first
        d = self.kill_when(self.start(), ["step upload"], len(MODELS))
        self.assertNotIn("input_file", self.state(d))
        self.fs.control(batch={"upload_delay": 0})
        self.assertFalse(os.path.exists(os.path.join(d, "config.json")))
        self.resume_matches(d, live)

    def check_held(self, status):
        live = self.live()
        self.fs.control(batch={"hold": status})
        d = self.kill_when(self.start(), ["status %s" % status], len(MODELS))
        self.fs.control(batch={"hold": None})
        before = self.uploads_and_creates()
        self.resume_matches(d, live)
        # the resume polled the batch it had; it made no other
        self.assertEqual(self.uploads_and_creates(), before)

    def test_killed_validating(self):
        self.check_held("validating")

    def test_killed_in_progress(self):
        self.check_held("in_progress")

    def test_killed_finalizing(self):
        self.check_held("finalizing")

    def test_killed_completed_before_download(self):
        live = self.live()
        self.fs.control(batch={"content_delay": 30})
        d = self.kill_when(self.start(), ["status completed", "step download"])
        self.fs.control(batch={"content_delay": 0})
        before = self.uploads_and_creates()
        self.resume_matches(d, live)
        self.assertEqual(self.uploads_and_creates(), before)

    def test_create_reply_lost_then_resumed(self):
        """Killed after the provider made the batch, before its id was
        saved: the resume adopts that batch and pays for no other."""
        live = self.live()
        env = dict(self.env, WEFT_TEST_EXIT_AFTER_CREATE="1")
        code = subprocess.run([WEFT, "eval"] + self.args("logprob", "batch") + ["--batch"],
                              env=env, cwd=self.tmp.name, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        self.assertEqual(code, 75)
        d = self.only_dir("batch")
        state = self.state(d)
        self.assertIn("step create", state)
        self.assertIn("creating file-", state)
        self.assertNotIn("batch batch-", state)
        creates = [json.loads(r["body"]) for r in self.fs.requests()
                   if r["path"] == "/v1/batches"]
        self.assertEqual(len(creates), 1)  # the first model's, its reply lost
        # another run's batches, newer than ours, head the list; one batch
        # a page makes the resume page past them (after, has_more)
        self.weft(*self.args("generate", "other") + ["--batch"], check=0)
        self.fs.control(clear_requests=True, batch={"list_page": 1})
        self.resume_matches(d, live)
        reqs = self.fs.requests()
        creates += [json.loads(r["body"]) for r in reqs if r["path"] == "/v1/batches"]
        # one create per model, each for its own input file: none twice
        self.assertEqual(len(creates), len(MODELS))
        self.assertEqual(len({c["input_file_id"] for c in creates}), len(MODELS))
        self.assertEqual({c["metadata"]["weft_model"] for c in creates}, set(MODELS))
        self.assertEqual({c["metadata"]["weft_run"] for c in creates}, {os.path.basename(d)})
        lists = [r["path"] for r in reqs if r["path"].startswith("/v1/batches?limit=100")]
        self.assertEqual(lists[0], "/v1/batches?limit=100")
        self.assertEqual(len(lists), 3)  # the other run's two, then ours
        self.assertTrue(lists[2].startswith("/v1/batches?limit=100&after=batch-"), lists)
        self.assertNotIn("creating", self.state(d))

    def test_create_reply_lost_and_no_batch_list(self):
        """A provider without a batch list: the resume stops, naming the
        way out, rather than pay for a second batch unasked."""
        live = self.live()
        env = dict(self.env, WEFT_TEST_EXIT_AFTER_CREATE="1")
        subprocess.run([WEFT, "eval"] + self.args("logprob", "batch") + ["--batch"], env=env,
                       cwd=self.tmp.name, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        d = self.only_dir("batch")
        self.fs.control(clear_requests=True, batch={"list_fail": 404})
        code, _, err = self.weft("--resume", d)
        self.assertEqual(code, 1)
        self.assertIn("batch list could not be searched", err)
        self.assertIn("\"creating\" line", err)
        self.assertIn("HTTP 404", err)
        self.assertEqual(self.uploads_and_creates(), (0, 0))
        # the way out: without the line, the resume creates a batch
        state = self.state(d)
        with open(os.path.join(d, "batch", "state"), "w", encoding="utf-8") as f:
            f.write("".join(x for x in state.splitlines(True) if "creating" not in x))
        self.resume_matches(d, live)

    def test_failed_batch_resumed_live(self):
        live = self.live()
        self.fs.control(batch={"outcome": "failed"})
        code, _, err = self.weft(*self.args("logprob", "batch") + ["--batch"])
        self.assertEqual(code, 1)
        d = self.only_dir("batch")
        self.assertIn("status failed", self.state(d))
        self.assertIn("%d requests not answered" % (2 * N), err)
        self.assertIn("ended failed", err)
        self.resume_matches(d, live, ["--retry-live"])

    def test_expired_batch_killed_then_resumed(self):
        live = self.live()
        self.fs.control(batch={"outcome": "expired", "expire_after": 5, "content_delay": 30})
        d = self.kill_when(self.start(), ["status expired"])
        self.fs.control(batch={"content_delay": 0})
        code, _, err = self.weft("--resume", d)
        self.assertEqual(code, 1)
        self.assertIn("%d requests not answered" % (2 * N - 5), err)
        self.assertIn("ended expired", err)
        with open(os.path.join(d, "batch", "a.output.jsonl"), encoding="utf-8") as f:
            self.assertEqual(len(f.readlines()), 5)
        self.resume_matches(d, live, ["--retry-live"])


class BatchBadState(BatchCase):
    def made(self):
        self.weft(*self.args("generate", "batch") + ["--batch"], check=0)
        return self.only_dir("batch")

    def test_credentials_in_base_url_refused(self):
        args = self.args("generate", "batch") + [
            "--batch", "--set", "scorer.a.base_url=http://user:s3cret@127.0.0.1:1/v1"]
        code, _, err = self.weft(*args)
        self.assertEqual(code, 2)
        self.assertIn("after --set", err)
        self.assertIn("user name or password", err)
        self.assertNotIn("s3cret", err)
        self.assertEqual(self.fs.requests(), [])
        self.assertEqual(glob.glob(os.path.join(self.tmp.name, "batch", "*")), [])

    def test_broken_state_named(self):
        d = self.made()
        path = os.path.join(d, "batch", "state")
        for text, want in (("garbage\n", ":1: not a weft batch state"),
                           ("weft-batch 1\nmodel a\n  step sideways\n", ":3: step 'sideways'"),
                           ("weft-batch 7\n", "written by a newer weft")):
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            code, _, err = self.weft("--resume", d)
            self.assertEqual(code, 2, err)
            self.assertIn(path + want.split(" ")[0] if want.startswith(":") else want, err)
        os.remove(path)
        code, _, err = self.weft("--resume", d)
        self.assertEqual(code, 2)
        self.assertIn(path, err)

    def test_changed_dataset_refused(self):
        d = self.made()
        write_dataset(self.dataset, N)
        with open(self.dataset, "a", encoding="utf-8") as f:
            f.write("\"Question: new? \nAnswer:\",\"[' Yes', ' No']\",0\n")
        code, _, err = self.weft("--resume", d)
        self.assertEqual(code, 1)
        self.assertIn("the batch was made for %d examples" % N, err)

    def test_resume_takes_no_other_options(self):
        d = self.made()
        code, _, err = self.weft("--resume", d, "--limit", "3")
        self.assertEqual(code, 2)
        self.assertIn("only --retry-live", err)
        code, _, err = self.weft(self.dataset, "--models", "a", "--retry-live")
        self.assertEqual(code, 2)
        self.assertIn("--retry-live goes with --batch", err)


class VerifyBatch(ServerCase):
    """weft verify --batch: the verdicts and summary of a live run."""
    NEW_SESSION = True
    write_pairs = VerifyTest.write_pairs
    verdicts = VerifyTest.verdicts

    def setUp(self):
        super().setUp()
        self.env.update({"WEFT_VERIFIER_MODEL": VERIFIER, "WEFT_BATCH_POLL_MS": "20",
                         "WEFT_PROMPTS": os.path.join(ROOT, "prompts")})
        qs = questions(10)
        self.write_pairs(qs, ["Yes" if i % 3 else "No" for i in range(10)])
        self.live_copy = os.path.join(self.tmp.name, "live.json")
        with open(self.session, "rb") as f, open(self.live_copy, "wb") as g:
            g.write(f.read())

    def verify(self, path, *args):
        return weft_checked(self, ["verify", path] + list(args), self.env)

    def strip(self, doc_verdicts):
        return {k: [(v["p"], v["label"], v["verifier"]) for v in vs]
                for k, vs in doc_verdicts.items()}

    def live(self):
        _, out, _ = self.verify(self.live_copy)
        session, self.session = self.session, self.live_copy
        want = self.strip(self.verdicts())
        self.session = session
        self.fs.control(clear_requests=True)
        return out.replace(self.live_copy, "FILE"), want

    def test_batch_verdicts_are_the_live_ones(self):
        out_live, want = self.live()
        code, out, err = self.verify(self.session, "--batch")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.replace(self.session, "FILE"), out_live)
        self.assertEqual(self.strip(self.verdicts()), want)
        self.assertIn("completed", err)
        self.assertFalse(os.path.exists(self.session + ".verify"))
        paths = [r["path"] for r in self.fs.requests()]
        self.assertEqual(paths.count("/v1/files"), 1)
        self.assertEqual(paths.count("/v1/batches"), 1)
        self.assertFalse([p for p in paths if p.endswith("completions")])

    def test_killed_in_progress_then_rerun(self):
        out_live, want = self.live()
        self.fs.control(batch={"hold": "in_progress"})
        p = subprocess.Popen([WEFT, "verify", self.session, "--batch"], env=self.env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        state = self.session + ".verify/batch/state"
        deadline = time.time() + 30
        while time.time() < deadline and not (
                os.path.exists(state) and "status in_progress" in open(state).read()):
            time.sleep(0.02)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertIn("status in_progress", open(state).read())
        self.fs.control(batch={"hold": None})
        _, out, _ = self.verify(self.session, "--batch")
        self.assertEqual(out.replace(self.session, "FILE"), out_live)
        self.assertEqual(self.strip(self.verdicts()), want)
        paths = [r["path"] for r in self.fs.requests()]
        self.assertEqual(paths.count("/v1/batches"), 1)  # the same batch, polled again

    def test_failed_in_batch_then_asked_live(self):
        out_live, want = self.live()
        self.fs.control(batch={"fail_ids": ["e2-s0"]})
        code, out, _ = self.verify(self.session, "--batch")
        self.assertEqual(code, 1)
        self.assertIn("no verdict: failed in batch", out)
        self.assertIn("fake batch error", out)
        self.fs.control(clear_requests=True)
        self.verify(self.session)
        self.assertEqual(self.strip(self.verdicts()), want)
        self.assertEqual(len([r for r in self.fs.requests() if r["path"].endswith("completions")]),
                         1)


if __name__ == "__main__":
    unittest.main()

"""Crash safety of weft generate: SIGKILL at random moments (fixed seed)
and a file-size limit (ulimit -f) during saves.

make test: 10 kills over a 10-step run; WEFT_LONG=1: 50 kills over a
30-step run.  After every kill the session (with its journal) is valid,
holds only whole steps, and never goes back; the run ends with exactly the
steps asked.
"""
import os
import random
import resource
import signal
import subprocess
import tempfile
import time
import unittest

from tests.integration.fakeserver import FakeServer
from tests.integration.weftrun import FAST, KEY, LONG, ROOT, WEFT, integrity, run


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.fs = FakeServer().start()
        self.tmp = tempfile.TemporaryDirectory()
        self.session = os.path.join(self.tmp.name, "s.json")
        self.env = dict(os.environ)
        self.env.update({
            "WEFT_BASE_URL": self.fs.base_url,
            "WEFT_GENERATOR_MODEL": "gen-model",
            "WEFT_JUDGE_MODEL": "judge-model",
            "OPENAI_API_KEY": KEY,
            "XDG_CONFIG_HOME": self.tmp.name,
        })
        self.fs.control(script={"judge-model": ["1"] * 5000})
        code, _, err = run(["new", "--task", "nice-sounding-wrong", "-o", self.session],
                           self.env)
        self.assertEqual(code, 0, err)

    def tearDown(self):
        self.fs.stop()
        self.tmp.cleanup()

    def test_sigkill_at_random_moments(self):
        target, kills = (30, 50) if LONG else (10, 10)
        rng = random.Random(20261123)
        self.fs.control(latency_ms=25)
        steps = 0
        reached = []
        for k in range(kills):
            p = subprocess.Popen([WEFT, "generate", self.session, "--rounds", str(target), "-q"]
                                 + FAST, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.6))
            p.send_signal(signal.SIGKILL)
            p.wait()
            now = integrity(self, self.session)
            self.assertGreaterEqual(now, steps, "kill %d lost a step" % k)
            self.assertLessEqual(now, target)
            steps = now
            reached.append(now)
        self.assertLess(reached[0], target, "the first kill came too late")
        self.assertGreater(reached[-1], 0, "no kill came after a completed step")
        code, _, err = run(["generate", self.session, "--rounds", str(target), "-q"] + FAST,
                           self.env)
        self.assertEqual(code, 0, err)
        self.assertEqual(integrity(self, self.session), target)
        self.assertFalse(os.path.exists(self.session + ".journal"))
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["s.json"])  # no temp files left

    def limited(self, nbytes, *args, fast=True):
        def lim():
            resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
        p = subprocess.run([WEFT] + list(args) + (FAST if fast else []), env=self.env, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, preexec_fn=lim, timeout=300)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def test_file_size_limit_during_save_keeps_the_old_file(self):
        code, _, err = run(["generate", self.session, "--rounds", "3", "-q"] + FAST, self.env)
        self.assertEqual(code, 0, err)
        with open(self.session, "rb") as f:
            before = f.read()
        # The save of step 4 cannot fit; its journal line can.
        code, err = self.limited(len(before) - 1, "generate", self.session, "--rounds", "4", "-q")
        self.assertEqual(code, 1, err)  # not killed by SIGXFSZ
        self.assertIn("s.json: cannot write: File too large", err)
        self.assertIn("the previous file was left as it was", err)
        self.assertIn("still in", err)
        with open(self.session, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["s.json", "s.json.journal"])
        self.assertEqual(integrity(self, self.session), 4)
        # Not even the journal line fits: the step is refused whole.
        code, err = self.limited(64, "generate", self.session, "--rounds", "5", "-q")
        self.assertEqual(code, 1, err)
        self.assertIn("journal", err)
        self.assertEqual(integrity(self, self.session), 4)
        with open(self.session, "rb") as f:
            self.assertEqual(f.read(), before)
        # With room again everything is folded in.
        code, _, err = run(["generate", self.session, "--rounds", "5", "-q"] + FAST, self.env)
        self.assertEqual(code, 0, err)
        self.assertEqual(integrity(self, self.session), 5)
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["s.json"])

    def test_file_size_limit_on_new(self):
        other = os.path.join(self.tmp.name, "n.json")
        code, err = self.limited(10, "new", "--task", "nice-sounding-wrong", "-o", other,
                                 fast=False)
        self.assertEqual(code, 1, err)
        self.assertIn("n.json: cannot write: File too large", err)
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["s.json"])


if __name__ == "__main__":
    unittest.main()

"""Crash safety of weft generate: SIGKILL at random moments (fixed seed)
and a file-size limit (ulimit -f) during saves; and of the loom: SIGKILL to
the TUI in a tmux pane while autopilot is adding steps, then reopen.

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
from tests.integration.test_tui import TMUX, Pane
from tests.integration.weftrun import FAST, KEY, LONG, ROOT, ServerCase, WEFT, integrity, replay, run


class CrashTest(ServerCase):
    NEW_SESSION = True

    def setUp(self):
        super().setUp()
        self.fs.control(script={"judge-model": ["1"] * 5000})

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



def path_steps(path):
    """Steps on the chosen path as the file and its journal hold them now
    (read while weft may be writing: a torn last journal line is skipped,
    and a file replaced under us is read again)."""
    for _ in range(20):
        try:
            return len(replay(path)["pathNodes"]) - 1
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
    return len(replay(path)["pathNodes"]) - 1


def poll(cond, what, timeout=60.0):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI crash test needs it")
class TuiCrashTest(unittest.TestCase):
    """The loom in tmux, autopilot on, SIGKILL while steps arrive: after a
    kill the file (with its journal) passes weft check, holds whole steps
    recorded once, never fewer than before nor than were seen written, and
    the reopened loom shows them."""

    def setUp(self):
        self.fs = FakeServer().start()
        self.addCleanup(self.fs.stop)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.path = os.path.join(self.tmp.name, "s.json")
        self.env = {"WEFT_BASE_URL": self.fs.base_url, "WEFT_GENERATOR_MODEL": "gen",
                    "WEFT_JUDGE_MODEL": "judge", "OPENAI_API_KEY": KEY}
        env = dict(os.environ, XDG_CONFIG_HOME=self.tmp.name)
        code, _, err = run(["new", "--task", "nice-sounding-wrong", "-o", self.path], env)
        self.assertEqual(code, 0, err)
        self.fs.control(script={"judge": ["1"] * 5000}, latency_ms=100)

    def open(self, steps):
        """Opens the loom; it must show `steps` steps on the path."""
        p = Pane(self, ["tui", self.path], width=160, env=self.env)
        p.wait_for(r"\? help", timeout=30)
        p.wait_for(r"\| step \d+/%d \|" % steps, timeout=30)
        return p

    def kill(self, p):
        shell = p.tmux("display-message", "-p", "#{pane_pid}").stdout.strip()
        pids = subprocess.run(["pgrep", "-P", shell, "-f", "weft"], stdout=subprocess.PIPE,
                              universal_newlines=True).stdout.split()
        self.assertEqual(len(pids), 1, pids)
        os.kill(int(pids[0]), signal.SIGKILL)
        # (the shell's "weft-exit=137" lands wherever curses left the cursor)
        poll(lambda: not os.path.exists("/proc/" + pids[0]), "the loom to die")

    def test_sigkill_during_autopilot(self):
        if LONG:
            rng = random.Random(20261123)
            moments = [rng.choice([1, 2, 3, 4, "mid"]) for _ in range(12)]
        else:
            # after 1, 2, 3 steps written, and with a step's requests out
            moments = [1, 2, "mid", 3]
        steps = 0
        for k, moment in enumerate(moments):
            with self.subTest(kill=k, moment=moment):
                p = self.open(steps)
                sent = len(self.fs.requests())
                p.keys("a")
                p.wait_for(r"autopilot ON")
                if moment == "mid":
                    # a step written and the next one's generator request out
                    poll(lambda: path_steps(self.path) > steps and
                         len(self.fs.requests()) >= sent + 3, "a step and a request")
                else:
                    poll(lambda: path_steps(self.path) >= steps + moment,
                         "%d steps written" % moment)
                seen = path_steps(self.path)
                self.kill(p)
                now = integrity(self, self.path)
                self.assertGreaterEqual(now, seen, "a step seen written was lost")
                self.assertGreater(now, steps)
                steps = now
        # reopen once more: the steps are shown; s folds the journal in
        p = self.open(steps)
        p.keys("s")
        p.wait_for(r"saved ")
        p.keys("q")
        p.wait_for(r"weft-exit=0", timeout=30)
        self.assertEqual(p.stderr(), "")
        self.assertEqual(integrity(self, self.path), steps)
        self.assertFalse(os.path.exists(self.path + ".journal"))
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["s.json"])  # no temp files left


if __name__ == "__main__":
    unittest.main()

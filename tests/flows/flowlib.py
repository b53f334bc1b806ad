"""What the user-flow tests share.

A flow is a whole story told through the real binary, as a person would
tell it: from a scratch folder outside the checkout, against the fake
server, on the command line and in the loom (tmux).  Its expectation is
computed here, from what the fake server was scripted to say, never from
weft's own output.

    class MyFlow(FlowCase):
        def test_story(self):
            steps = self.script_steps(5)         # what generator and judge will say
            self.weft("new", "--task", TASK, "-o", "s.json", check=0)
            self.weft("generate", "s.json", "--rounds", "5", check=0)
            self.assertEqual(self.pairs_of("s.json"), expected_pairs(steps))
"""
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tests.integration.fakeserver import FakeServer
from tests.integration.test_tui import Pane, shquote
from tests.integration.weftrun import KEY, LONG, ROOT, WEFT, replay

TASK = "nice-sounding-wrong"
TMUX = shutil.which("tmux")
VALGRIND = os.environ.get("WEFT_VALGRIND") == "1"
# valgrind and ASan do not mix: valgrind runs the release build
RELEASE_WEFT = os.path.join(ROOT, "build", "release", "weft")
VALGRIND_ARGS = ["valgrind", "--quiet", "--error-exitcode=99", "--track-origins=yes",
                 "--leak-check=no"]
LOOM_PANES = itertools.count()
# the variables of FlowCase.env a loom in tmux needs
LOOM_ENV = ("WEFT_BASE_URL", "WEFT_GENERATOR_MODEL", "WEFT_JUDGE_MODEL", "OPENAI_API_KEY",
            "XDG_CONFIG_HOME", "HOME", "WEFT_PROMPTS", "WEFT_THEMES")


class LoomPane(Pane):
    """The loom in a tmux pane (tests/integration/test_tui.py's Pane: keys,
    wait_for, screen), run from a flow's scratch folder with the flow's
    environment.  With valgrind, the release build runs under valgrind and
    its findings go to self.valgrind_log."""

    def __init__(self, testcase, argv, cwd, env, valgrind=False, width=110, height=32,
                 prefix=()):
        self.sock = "weft-flow-%d-%d" % (os.getpid(), next(LOOM_PANES))
        self.tmp = tempfile.mkdtemp(prefix="weft-loom-")
        self.err = os.path.join(self.tmp, "stderr.txt")
        self.valgrind_log = None
        cmd = [WEFT] + list(argv)
        if valgrind:
            self.valgrind_log = os.path.join(self.tmp, "valgrind.log")
            cmd = VALGRIND_ARGS + ["--log-file=" + self.valgrind_log, RELEASE_WEFT] + list(argv)
        cmd = list(prefix) + cmd  # e.g. a shell that sets limits, then execs weft
        envs = {"LC_ALL": "C.UTF-8", "TERM": "tmux-256color"}
        envs.update({k: env[k] for k in LOOM_ENV if k in env})
        setenv = " ".join("%s=%s" % (k, shquote(v)) for k, v in envs.items())
        line = "cd %s && env %s %s 2>%s; echo weft-exit=$?; sleep 600" % (
            shquote(cwd), setenv, " ".join(shquote(a) for a in cmd), shquote(self.err))
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), line)
        testcase.addCleanup(self.close)

    def valgrind_findings(self):
        """valgrind's report: "" when it ran and found nothing, None when it
        never ran (no log)."""
        try:
            with open(self.valgrind_log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (FileNotFoundError, TypeError):
            return None


def candidate(step, i, label):
    """The text the generator is scripted to write as candidate i of step:
    one whole pair, in the shape the task's prompt leads a model to write
    (the document so far ends in "Question:" and maybe a newline)."""
    return " Is flow question %d.%d settled?\nAnswer: %s\n\nQuestion:" % (step, i, label)


def expected_pairs(picks):
    """The dataset a chain of picks implies: [(question, label)], in order."""
    return [("Is flow question %d.%d settled?" % (s, i), label) for s, i, label in picks]


class FlowCase(unittest.TestCase):
    """A fake server, a scratch folder (self.dir, the working directory of
    every weft this case runs, outside the checkout) and an environment
    that points weft at them and at nothing of the person running the
    tests."""

    def setUp(self):
        if not os.path.exists(WEFT):
            self.fail("weft binary missing: " + WEFT)
        self.fs = FakeServer().start()
        self.addCleanup(self.fs.stop)
        tmp = tempfile.TemporaryDirectory(prefix="weft-flow-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.env = dict(os.environ)
        self.env.update({
            "WEFT_BASE_URL": self.fs.base_url,
            "WEFT_GENERATOR_MODEL": "gen-model",
            "WEFT_JUDGE_MODEL": "judge-model",
            "OPENAI_API_KEY": KEY,
            "XDG_CONFIG_HOME": os.path.join(self.dir, ".config"),
            "HOME": self.dir,
            "WEFT_PROMPTS": os.path.join(ROOT, "prompts"),
            "WEFT_THEMES": os.path.join(ROOT, "themes"),
        })
        # Fast retries: the same rules, smaller numbers.
        self.fast = []
        for role in ("generator", "judge"):
            self.fast += ["--set", role + ".retry_base_ms=20",
                          "--set", role + ".retry_cap_ms=80",
                          "--set", role + ".timeout=3"]

    def path(self, name):
        return os.path.join(self.dir, name)

    def loom(self, *argv, valgrind=False, prefix=(), width=110):
        """The loom on argv in tmux, from self.dir; waits for its first
        screen.  Skips the test when tmux is missing."""
        if not TMUX:
            self.skipTest("tmux is not installed: the loom flows need it")
        p = LoomPane(self, argv, self.dir, self.env, valgrind=valgrind, prefix=prefix,
                     width=width)
        p.wait_for(r"\? help", timeout=60 if valgrind else 8)
        return p

    def demo_copy(self, name="demo.json"):
        """A copy of sessions/demo.json in the scratch folder."""
        shutil.copy(os.path.join(ROOT, "sessions", "demo.json"), self.path(name))
        return name

    def weft(self, *argv, check=None, timeout=300):
        """Runs weft in self.dir; returns (status, stdout, stderr) as text.
        Asserts the key never shows and, unless check is None, the status.
        Under WEFT_VALGRIND=1 (make test-long) every run goes through
        valgrind, and any finding fails the run."""
        cmd = [WEFT] + list(argv)
        if VALGRIND:
            cmd = ["valgrind", "--quiet", "--error-exitcode=99", "--track-origins=yes",
                   "--leak-check=no"] + cmd
        p = subprocess.run(cmd, env=self.env, cwd=self.dir, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=timeout * (10 if VALGRIND else 1))
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        self.assertNotIn(KEY, out + err)
        if VALGRIND:
            self.assertNotEqual(p.returncode, 99, "valgrind found errors:\n" + err)
        if check is not None:
            self.assertEqual(p.returncode, check,
                             "weft %s\nstdout:\n%s\nstderr:\n%s" % (" ".join(argv), out, err))
        return p.returncode, out, err

    def weft_valgrind(self, *argv, timeout=600):
        """weft argv, the release build under valgrind (whatever
        WEFT_VALGRIND says); returns (status, stdout, stderr), valgrind's
        findings in stderr and status 99 when it found any."""
        p = subprocess.run(VALGRIND_ARGS + [RELEASE_WEFT] + list(argv), env=self.env,
                           cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def script_steps(self, steps, n=5, pick=1, labels=("Yes", "No"), first=1):
        """Scripts the generator with `steps` steps of n distinct candidates
        (candidate(step, i, label), label alternating over the steps) and
        the judge with option `pick` for each.  Returns the picks
        [(step, i, label)] a fully AI-steered run makes."""
        gen, judge, picks = [], [], []
        for s in range(first, first + steps):
            label = labels[(s - 1) % len(labels)]
            for i in range(1, n + 1):
                gen.append(candidate(s, i, label))
            judge.append(str(pick))
            picks.append((s, pick, label))
        self.fs.control(script={"gen-model": gen, "judge-model": judge})
        return picks

    def session(self, name):
        """The session file with its journal applied, read independently."""
        return replay(self.path(name))

    def chosen_text(self, name):
        """The document along the session's chosen path (pathNodes)."""
        s = self.session(name)
        nodes = {x["id"]: x for x in s["nodes"]}
        return "".join(nodes[i]["text"] for i in s["pathNodes"])

    def pairs_in(self, text, task=TASK):
        """The pairs of a document by the task's own pattern, read here."""
        conf = read_task_conf(task)
        pattern = conf["pattern"].replace("\\n", "\n")
        return [(q.strip(), a.strip()) for q, a in re.findall(pattern, text, re.S)]

    def exported_pairs(self, name, fmt="jsonl"):
        """weft export NAME --format jsonl, read back as [(question, label)]."""
        out = self.path("export-%s.%s" % (os.path.basename(name), fmt))
        if os.path.exists(out):
            os.unlink(out)
        self.weft("export", name, "--format", fmt, "-o", out, check=0)
        pairs = []
        with open(out, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    obj = json.loads(line)
                    pairs.append((obj["question"], obj["answer"]))
        return pairs


def read_task_conf(task):
    conf = {}
    with open(os.path.join(ROOT, "prompts", task, "task.conf"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#") and "=" in line:
                k, _, v = line.partition("=")
                conf[k.strip()] = v.strip()
    return conf

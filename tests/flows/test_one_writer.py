"""User flows: one writer per session, outputs that never clobber inputs,
a read-only folder, and a damaged journal.

Each story runs the real binary from a scratch folder against the fake
server, the loom in tmux, and checks the files against what the fake
server was scripted to say."""
import hashlib
import json
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from tests.flows.flowlib import TASK, TMUX, FlowCase, expected_pairs
from tests.integration.test_tui import Pane, shquote
from tests.integration.weftrun import WEFT

# What a loom's environment needs from the flow's (the pane's shell gets
# nothing else of the person running the tests).
PANE_ENV = ("WEFT_BASE_URL", "WEFT_GENERATOR_MODEL", "WEFT_JUDGE_MODEL", "OPENAI_API_KEY",
            "XDG_CONFIG_HOME", "HOME", "WEFT_PROMPTS", "WEFT_THEMES", "ASAN_OPTIONS",
            "UBSAN_OPTIONS", "LSAN_OPTIONS")
PANES = itertools.count()


def unprivileged():
    """The argv prefix that runs a command as a user a read-only folder
    stops (root writes anywhere): [] when not root, setpriv to nobody when
    root, None when that is not possible."""
    if os.geteuid() != 0:
        return []
    sp = shutil.which("setpriv")
    if not sp:
        return None
    return [sp, "--reuid=65534", "--regid=65534", "--clear-groups"]


def flow_pairs(text):
    """The scripted pairs (flowlib.candidate) in a document, in order, read
    here with a pattern of their own: [(question, label)]."""
    return re.findall(r"(Is flow question \d+\.\d+ settled\?)\nAnswer: (Yes|No)\n", text)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class LoomPane(Pane):
    """A tmux pane running weft (optionally behind a prefix such as
    setpriv) in the flow's folder with the flow's environment."""

    def __init__(self, case, argv, prefix=()):  # Pane's, with a prefix before weft
        self.sock = "weft-flow-%d-%d" % (os.getpid(), next(PANES))
        self.tmp = tempfile.mkdtemp(prefix="weft-flow-pane-")
        self.err = os.path.join(self.tmp, "stderr.txt")
        envs = {"LC_ALL": "C.UTF-8", "TERM": "tmux-256color"}
        envs.update({k: case.env[k] for k in PANE_ENV if k in case.env})
        setenv = " ".join("%s=%s" % (k, shquote(v)) for k, v in envs.items())
        # the shell's own words about a killed weft can wrap the exit
        # line: the screen is cleared before it
        cmd = ("cd %s && env %s %s 2>%s; s=$?; printf '\\033[2J\\033[H'; "
               "echo weft-exit=$s; sleep 600") % (
            shquote(case.dir), setenv,
            " ".join(shquote(a) for a in list(prefix) + [WEFT] + list(argv)),
            shquote(self.err))
        self.tmux("new-session", "-d", "-x", "160", "-y", "30", cmd)
        case.addCleanup(self.close)

    def weft_pid(self):
        """The pid of the weft the pane runs (the child of its shell)."""
        shell = int(self.tmux("display-message", "-p", "#{pane_pid}").stdout.strip())
        deadline = time.time() + 5
        while time.time() < deadline:
            with open("/proc/%d/task/%d/children" % (shell, shell)) as f:
                kids = f.read().split()
            for k in kids:
                try:
                    with open("/proc/%s/comm" % k) as f:
                        if f.read().strip() == "weft":
                            return int(k)
                except FileNotFoundError:
                    pass
            time.sleep(0.05)
        raise AssertionError("no weft under the pane's shell")


@unittest.skipUnless(TMUX, "tmux missing")
class OneWriterFlow(FlowCase):

    def loom(self, *argv, prefix=()):
        return LoomPane(self, argv, prefix)

    def grow(self, name, steps):
        picks = self.script_steps(steps)
        self.weft("new", "--task", TASK, "-o", name, check=0)
        self.weft("generate", name, "--rounds", str(steps), *self.fast, check=0)
        return picks

    def bookmarks(self, name):
        return [n["id"] for n in self.session(name)["nodes"]
                if n.get("weft", {}).get("bookmark")]

    def test_loom_open_and_generate_on_one_file(self):
        """A loom holds the session: generate is refused with the loom's
        pid before any request, a second loom opens read-only, and the
        loom's bookmark and the generated steps are all kept."""
        picks = self.grow("s.json", 10)
        focus = self.session("s.json")["focusedId"]
        first = self.loom("s.json")
        first.wait_for(r"\? help|step 10/10")
        pid = first.weft_pid()
        saved = digest(self.path("s.json"))

        # generate elsewhere: refused, naming the file and the holder
        self.fs.control(clear_requests=True)
        more = self.script_steps(5, first=11)
        code, _, err = self.weft("generate", "s.json", "--rounds", "15", *self.fast)
        self.assertEqual(code, 1, err)
        self.assertIn("s.json is open for writing in another weft (pid %d)" % pid, err)
        self.assertIn("weft --read-only s.json", err)
        self.assertEqual(self.fs.requests(), [])
        # a second loom off a terminal: refused the same way
        code, _, err = self.weft("s.json")
        self.assertEqual(code, 1, err)
        self.assertIn("(pid %d)" % pid, err)

        # a second loom on a terminal: offered read-only, which changes nothing
        second = self.loom("s.json")
        second.wait_for(r"read-only instead.*\[y/N\]")
        self.assertIn("s.json is open for writing in another weft (pid %d)" % pid,
                      second.stderr())
        second.type("y")
        second.keys("Enter")
        second.wait_for(r"READ-ONLY \(another weft is writing it\)")
        second.keys("b")
        second.wait_for(r"b: read-only, nothing changed")
        second.keys("x")
        second.wait_for(r"export classification")
        second.keys("Enter")
        second.wait_for(r"exported \d+ pairs to s\.classification\.csv")
        second.keys("q")
        second.wait_for(r"weft-exit=0")
        # weft --read-only FILE, straight away
        third = self.loom("--read-only", "s.json")
        third.wait_for(r"READ-ONLY \(opened with --read-only\)")
        third.keys("d")
        third.wait_for(r"d: read-only, nothing changed")
        third.keys("q")
        third.wait_for(r"weft-exit=0")
        self.assertEqual(digest(self.path("s.json")), saved)
        self.assertFalse(os.path.exists(self.path("s.json.journal")))

        # the writer's own change is kept, and nothing generate made is lost
        first.keys("b")
        first.wait_for(r"bookmarked")
        first.keys("q")
        first.wait_for(r"weft-exit=0")
        self.assertEqual(first.stderr(), "")
        self.assertEqual(self.bookmarks("s.json"), [focus])
        self.assertEqual(flow_pairs(self.chosen_text("s.json")), expected_pairs(picks))
        self.assertFalse(os.path.exists(self.path("s.json.lock")))
        # the lock is gone with the loom: generate goes on to 15
        self.weft("generate", "s.json", "--rounds", "15", *self.fast, check=0)
        self.assertEqual(flow_pairs(self.chosen_text("s.json")),
                         expected_pairs(picks + more))
        self.assertEqual(self.bookmarks("s.json"), [focus])

    def test_a_dead_loom_never_blocks(self):
        """A loom killed outright leaves its lock file; the next writer
        goes ahead."""
        picks = self.grow("s.json", 3)
        pane = self.loom("s.json")
        pane.wait_for(r"step 3/3")
        os.kill(pane.weft_pid(), signal.SIGKILL)
        pane.wait_for(r"weft-exit=137")
        self.assertTrue(os.path.exists(self.path("s.json.lock")))
        more = self.script_steps(2, first=4)
        self.weft("generate", "s.json", "--rounds", "5", *self.fast, check=0)
        self.assertEqual(flow_pairs(self.chosen_text("s.json")),
                         expected_pairs(picks + more))

    def test_export_onto_its_input(self):
        """export never writes over its input, by any name, nor over an
        existing file without --force, nor a session's journal."""
        picks = self.grow("s.json", 5)
        want = expected_pairs(picks)
        saved = digest(self.path("s.json"))
        os.link(self.path("s.json"), self.path("hard.json"))
        os.symlink("s.json", self.path("sym.json"))
        for out in ("s.json", "./s.json", self.path("s.json"), "hard.json", "sym.json"):
            for force in ([], ["--force"]):
                code, out_text, err = self.weft("export", "s.json", "--format", "mwe",
                                                "-o", out, *force)
                self.assertEqual(code, 2, err)
                self.assertIn("would destroy what is read", err)
                self.assertNotIn("wrote", out_text)
                self.assertEqual(digest(self.path("s.json")), saved)
        self.assertEqual(flow_pairs(self.chosen_text("s.json")), want)

        # an existing output: kept without --force, replaced with it
        with open(self.path("out.jsonl"), "w") as f:
            f.write("keep me\n")
        code, _, err = self.weft("export", "s.json", "--format", "jsonl", "-o", "out.jsonl")
        self.assertEqual(code, 1)
        self.assertIn("out.jsonl exists (use --force to replace it)", err)
        with open(self.path("out.jsonl")) as f:
            self.assertEqual(f.read(), "keep me\n")
        self.weft("export", "s.json", "--format", "jsonl", "-o", "out.jsonl", "--force",
                  check=0)
        with open(self.path("out.jsonl"), encoding="utf-8") as f:
            rows = [json.loads(l) for l in f if l.strip()]
        # replaced by the session's pairs (which pairs: the extraction
        # flows' business)
        self.assertTrue(rows)
        for r in rows:
            self.assertIn((r["question"], r["answer"]), want)

        # bonsai onto another session with a journal: refused, the journal
        # (and the changes in it) kept
        self.weft("new", "--task", TASK, "-o", "other.json", check=0)
        with open(self.path("other.json.journal"), "w") as f:
            f.write('{"op":"path","pathNodes":[]}\n')
        journal = digest(self.path("other.json.journal"))
        for force in ([], ["--force"]):
            code, _, err = self.weft("export", "s.json", "--format", "bonsai", "-o",
                                     "other.json", *force)
            self.assertEqual(code, 1, err)
            self.assertEqual(digest(self.path("other.json.journal")), journal)
        self.assertIn("other.json.journal holds changes", err)

        # the other commands that write what they were named
        code, _, err = self.weft("replay", "s.json", "--judge", "judge-model", "--save-as",
                                 "hard.json")
        self.assertEqual(code, 2, err)
        code, _, err = self.weft("eval", "s.json", "--models", "gen-model", "--out",
                                 "s.json")
        self.assertEqual(code, 2, err)
        os.mkdir(self.path("res"))
        with open(self.path("res/m.csv"), "w") as f:
            f.write("index,loss,correct,predicted,total_logprob\n0,0.1,1,0,-0.1\n")
        code, _, err = self.weft("plot", "res", "--size", "m=1e9", "--svg", "res/m.csv")
        self.assertEqual(code, 2, err)
        self.assertEqual(digest(self.path("s.json")), saved)


@unittest.skipUnless(TMUX, "tmux missing")
class ReadOnlyFolderFlow(FlowCase):

    def setUp(self):
        super().setUp()
        self.prefix = unprivileged()
        if self.prefix is None:
            self.skipTest("running as root without setpriv: no folder is read-only")
        # the unprivileged user must reach the scratch folder
        os.chmod(self.dir, 0o755)

    def as_user(self, *argv):
        p = subprocess.run(self.prefix + [WEFT] + list(argv), env=self.env, cwd=self.dir,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")

    def writable_by_user(self, folder, yes):
        if os.geteuid() == 0:
            os.chown(folder, 65534 if yes else 0, -1)
        os.chmod(folder, 0o755 if yes else 0o555)

    def folder_with_session(self, name, steps):
        os.mkdir(self.path(name))
        picks = self.script_steps(steps)
        self.weft("new", "--task", TASK, "-o", name + "/S.json", check=0)
        self.weft("generate", name + "/S.json", "--rounds", str(steps), *self.fast, check=0)
        os.chmod(self.path(name + "/S.json"), 0o644)
        return picks

    def test_generate_and_loom_in_a_read_only_folder(self):
        picks = self.folder_with_session("ro", 4)
        self.writable_by_user(self.path("ro"), False)
        self.addCleanup(os.chmod, self.path("ro"), 0o755)
        saved = digest(self.path("ro/S.json"))
        self.fs.control(clear_requests=True)
        self.script_steps(4, first=5)

        code, _, err = self.as_user("generate", "ro/S.json", "--rounds", "8", *self.fast)
        self.assertEqual(code, 1, err)
        self.assertIn("ro/S.json", err)
        self.assertIn("Permission denied", err)
        self.assertIn("nothing was asked of the models", err)
        self.assertNotIn("still in", err)
        self.assertEqual(self.fs.requests(), [])
        self.assertEqual(os.listdir(self.path("ro")), ["S.json"])

        pane = LoomPane(self, ["ro/S.json"], self.prefix)
        pane.wait_for(r"READ-ONLY \(cannot write in its folder: Permission denied\)")
        pane.keys("b")
        pane.wait_for(r"b: read-only, nothing changed")
        self.assertNotIn("bookmarked", pane.screen())
        pane.keys("q")
        pane.wait_for(r"weft-exit=0")
        self.assertEqual(digest(self.path("ro/S.json")), saved)
        self.assertEqual(os.listdir(self.path("ro")), ["S.json"])
        self.assertEqual(flow_pairs(self.chosen_text("ro/S.json")), expected_pairs(picks))

    def test_generate_with_a_journal_it_cannot_write(self):
        """The folder can be written but the journal cannot: generate says
        so before any request."""
        self.folder_with_session("rw", 3)
        rw = self.path("rw")
        if os.geteuid() == 0:
            for f in [rw, self.path("rw/S.json")]:
                os.chown(f, 65534, -1)
        # an empty journal someone else left, that this user cannot append to
        with open(self.path("rw/S.json.journal"), "w"):
            pass
        os.chmod(self.path("rw/S.json.journal"), 0o444)
        saved = digest(self.path("rw/S.json"))
        self.fs.control(clear_requests=True)
        self.script_steps(2, first=4)
        code, _, err = self.as_user("generate", "rw/S.json", "--rounds", "5", *self.fast)
        self.assertEqual(code, 1, err)
        self.assertIn("rw/S.json.journal: cannot be written: Permission denied", err)
        self.assertIn("nothing was asked of the models", err)
        self.assertEqual(self.fs.requests(), [])
        self.assertEqual(digest(self.path("rw/S.json")), saved)

    def test_folder_turns_read_only_under_the_loom(self):
        """A change that cannot be journalled is not made, and says so on
        screen until it can; q with changes that cannot be saved asks, and
        only Y quits, saying where the changes are."""
        picks = self.folder_with_session("rw", 4)
        rw = self.path("rw")
        self.addCleanup(os.chmod, rw, 0o755)
        for f in os.listdir(rw):
            if os.geteuid() == 0:
                os.chown(os.path.join(rw, f), 65534, -1)
        self.writable_by_user(rw, True)
        focus = self.session("rw/S.json")["focusedId"]
        saved = digest(self.path("rw/S.json"))
        pane = LoomPane(self, ["rw/S.json"], self.prefix)
        pane.wait_for(r"step 4/4")

        self.writable_by_user(rw, False)
        pane.keys("b")
        pane.wait_for(r"NOT JOURNALLED, so not done: rw/S\.json\.journal: cannot be written")
        pane.keys("Z")  # another message: the warning stays
        pane.wait_for(r"unbound key 'Z'")
        self.assertIn("NOT JOURNALLED", pane.status())
        self.assertFalse(os.path.exists(self.path("rw/S.json.journal")))

        self.writable_by_user(rw, True)
        pane.keys("b")
        pane.wait_for(r"bookmarked")
        self.assertNotIn("NOT JOURNALLED", pane.status())
        self.assertTrue(os.path.exists(self.path("rw/S.json.journal")))

        self.writable_by_user(rw, False)
        pane.keys("q")
        pane.wait_for(r"QUIT WITHOUT SAVING\? Y quits \(changes kept in rw/S\.json\.journal\)")
        pane.keys("q")  # not deliberate enough
        pane.wait_for(r"not quitting")
        time.sleep(0.3)
        self.assertNotIn("weft-exit", pane.screen())
        pane.keys("q")
        pane.wait_for(r"QUIT WITHOUT SAVING")
        pane.keys("Y")
        pane.wait_for(r"weft-exit=1")
        self.assertIn("rw/S.json was not saved; the changes are kept in rw/S.json.journal",
                      pane.stderr())
        self.assertEqual(digest(self.path("rw/S.json")), saved)
        # the journal holds the bookmark: nothing shown as done was lost
        self.writable_by_user(rw, True)
        self.assertEqual([n["id"] for n in self.session("rw/S.json")["nodes"]
                          if n.get("weft", {}).get("bookmark")], [focus])
        self.assertEqual(flow_pairs(self.chosen_text("rw/S.json")), expected_pairs(picks))


@unittest.skipUnless(TMUX, "tmux missing")
class DamagedJournalFlow(FlowCase):

    def test_loom_refuses_to_write_past_a_damaged_journal(self):
        picks = self.script_steps(5)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        self.weft("generate", "s.json", "--rounds", "5", *self.fast, check=0)
        # three bookmarks journalled, then the loom is killed
        pane = LoomPane(self, ["s.json"])
        pane.wait_for(r"step 5/5")
        for k in ("b", "h", "b", "h", "b"):
            pane.keys(k)
            time.sleep(0.15)
        pane.wait_for(r"bookmarked")
        os.kill(pane.weft_pid(), signal.SIGKILL)
        pane.wait_for(r"weft-exit=137")
        journal = self.path("s.json.journal")
        with open(journal) as f:
            lines = f.read().split("\n")
        self.assertGreaterEqual(len([l for l in lines if l]), 4)
        lines[1] = "{damaged"
        with open(journal, "w") as f:
            f.write("\n".join(lines))
        kept, saved = digest(journal), digest(self.path("s.json"))
        code, _, err = self.weft("check", "s.json")
        self.assertEqual(code, 1, err)

        # not opened for writing: the error names the line and the way out
        pane = LoomPane(self, ["s.json"])
        pane.wait_for(r"read-only instead.*\[y/N\]")
        self.assertIn("s.json.journal:2:", pane.stderr())
        self.assertIn("To recover", pane.stderr())
        pane.type("n")
        pane.keys("Enter")
        pane.wait_for(r"weft-exit=1")
        self.assertEqual(digest(journal), kept)
        # read-only: shown up to the damaged line, the journal untouched
        pane = LoomPane(self, ["s.json"])
        pane.wait_for(r"\[y/N\]")
        pane.type("y")
        pane.keys("Enter")
        pane.wait_for(r"READ-ONLY \(its journal is damaged\)")
        pane.keys("q")
        pane.wait_for(r"weft-exit=0")
        code, _, err = self.weft("s.json")
        self.assertEqual(code, 1)
        self.assertIn("s.json.journal:2:", err)
        self.assertEqual(digest(journal), kept)
        self.assertEqual(digest(self.path("s.json")), saved)
        self.assertEqual(flow_pairs(self.chosen_text_saved("s.json")), expected_pairs(picks))

    def chosen_text_saved(self, name):
        """The chosen path of the file as saved (its journal is damaged)."""
        with open(self.path(name), encoding="utf-8") as f:
            s = json.load(f)
        nodes = {x["id"]: x for x in s["nodes"]}
        return "".join(nodes[i]["text"] for i in s["pathNodes"])


if __name__ == "__main__":
    unittest.main()

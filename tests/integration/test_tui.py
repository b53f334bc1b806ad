"""The loom driven for real: weft in a tmux pane, keys sent with send-keys,
the screen read with capture-pane.  Skips when tmux is missing.

Run: python3 -m unittest tests.integration.test_tui  (WEFT_BIN picks the
binary; default build/asan/weft)."""

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:  # run directly: python3 tests/integration/test_tui.py
    sys.path.insert(0, ROOT)
WEFT = os.path.abspath(os.environ.get("WEFT_BIN", os.path.join(ROOT, "build/asan/weft")))
TMUX = shutil.which("tmux")
TIMEOUT = 8.0


PANES = itertools.count()


class Pane:
    """One tmux server (own socket) with one pane running a command."""

    def __init__(self, testcase, argv, width=100, height=30, env=None, cwd=ROOT):
        self.sock = "weft-test-%d-%d" % (os.getpid(), next(PANES))
        self.tmp = tempfile.mkdtemp(prefix="weft-tui-")
        self.err = os.path.join(self.tmp, "stderr.txt")
        # a config of the person running the tests must not leak in
        envs = {"LC_ALL": "C.UTF-8", "TERM": "tmux-256color", "XDG_CONFIG_HOME": self.tmp,
                "HOME": self.tmp, "WEFT_GENERATOR_MODEL": "", "WEFT_JUDGE_MODEL": ""}
        envs.update(env or {})
        setenv = " ".join("%s=%s" % (k, shquote(v)) for k, v in envs.items())
        cmd = "cd %s && env %s %s 2>%s; echo weft-exit=$?; sleep 600" % (
            shquote(cwd), setenv, " ".join(shquote(a) for a in [WEFT] + argv),
            shquote(self.err))
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), cmd)
        testcase.addCleanup(self.close)

    def tmux(self, *args, check=True):
        return subprocess.run([TMUX, "-u", "-f", "/dev/null", "-L", self.sock] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=check)

    def close(self):
        self.tmux("kill-server", check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def keys(self, *keys):
        self.tmux("send-keys", *keys)

    def type(self, text):
        self.tmux("send-keys", "-l", text)

    def screen(self, escapes=False):
        args = ["capture-pane", "-p"] + (["-e"] if escapes else [])
        return self.tmux(*args).stdout

    def lines(self):
        return self.screen().split("\n")

    def wait_for(self, pattern, timeout=TIMEOUT):
        """Waits until the screen matches the regex pattern; returns the screen."""
        deadline = time.time() + timeout
        while True:
            s = self.screen()
            if re.search(pattern, s):
                return s
            if time.time() > deadline:
                raise AssertionError("screen never matched %r; it shows:\n%s" % (pattern, s))
            time.sleep(0.05)

    def status(self):
        return [l for l in self.lines() if l.strip()][-1]

    def stderr(self):
        try:
            with open(self.err, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def width(text):
    """Terminal columns of text (East Asian wide and fullwidth count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shquote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def find_dicts(obj, key):
    """Every dict in obj (recursively) that has key."""
    out = []
    if isinstance(obj, dict):
        if key in obj:
            out.append(obj)
        for v in obj.values():
            out.extend(find_dicts(v, key))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(find_dicts(v, key))
    return out


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
class TestLoomSynthetic(unittest.TestCase):
    """Keys and screens on a generated tree (no session file needed)."""

    def open(self, *extra, **kw):
        p = Pane(self, ["tui", "--synthetic", "300"] + list(extra), **kw)
        p.wait_for(r"\? help")
        return p

    def quit(self, p, changed=False):
        p.keys("q")
        if changed:  # a generated tree has no file: q asks again
            p.wait_for(r"cannot save: .*q again quits without saving")
            p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")

    def test_layout_and_moving(self):
        p = self.open()
        s = p.screen()
        lines = s.split("\n")
        self.assertIn("weft  synthetic", lines[0])
        self.assertIn("candidates of step 1", s)
        self.assertRegex(p.status(), r"step 0/\d+")
        # the synthetic path alternates Yes and No answers, 60 steps
        self.assertIn("Yes 30 No 30", p.status())
        p.keys("C-c")  # not a way to lose work
        p.wait_for(r"q quits \(saving\)")
        # five candidates with score bars, the judge's pick marked J
        self.assertRegex(s, r"1 J\s+###\.+ 0\.33")
        self.assertRegex(s, r"5\s+#\.+ 0\.07")
        p.keys("l")
        p.wait_for(r"step 1/60 \|")
        p.keys("j")  # next sibling: browses off the chosen path, which stays
        p.wait_for(r"step 1/60 browsing ")
        self.assertIn("Yes 30 No 30", p.status())
        p.keys("k", "h")
        p.wait_for(r"step 0/60 \|")
        p.keys("Left")
        p.wait_for(r"at the root")
        # wide characters line up: the divider stays in one column
        cols = set()
        for l in p.lines()[1:-2]:
            if "│" in l:
                cols.add(width(l[:l.index("│")]))
        self.assertEqual(len(cols), 1, p.screen())
        self.assertIn("中文", p.screen())
        self.quit(p)

    def test_override_accept_bookmark_undo(self):
        p = self.open()
        p.keys("Enter")  # the judge's pick is highlighted: an AI decision
        p.wait_for(r"accepted \(judge's pick\)")
        self.assertRegex(p.status(), r"step 1/")
        p.keys("u")
        p.wait_for(r"undone")
        self.assertRegex(p.status(), r"step 0/")
        p.keys("3")
        p.wait_for(r"picked candidate 3 \(human\)")
        self.assertRegex(p.screen(), r">\s?H\s+0\.20")
        p.keys("h", "Enter")  # back to the root: the path child (3) is highlighted
        p.wait_for(r"accepted \(your pick\)")
        p.keys("h", "Tab", "Tab")
        p.keys("b")
        p.wait_for(r"bookmarked")
        self.assertRegex(p.screen(), r">\s*\*\s+-")
        p.keys("u")
        p.wait_for(r"undone")
        self.assertNotRegex(p.screen(), r">\s*\*\s+-")
        p.keys("C-r")
        p.wait_for(r"redone")
        self.quit(p, changed=True)

    def test_prune_confirm_and_undo(self):
        p = self.open()
        p.keys("l", "j")
        p.wait_for(r"step 1/60 browsing ")
        before = p.screen()
        self.assertIn("Question: Is 1 a step 0 candidate 2", before)
        p.keys("d")
        p.wait_for(r"prune this subtree\? \(y/n\)")
        p.keys("n")
        p.wait_for(r"not pruned")
        p.keys("d", "y")
        p.wait_for(r"pruned \(u undoes\)")
        s = p.screen()
        self.assertRegex(p.status(), r"step 0/")
        self.assertNotIn("step 0 candidate 2", s)
        p.keys("u")
        p.wait_for(r"undone")
        self.assertIn("step 0 candidate 2", p.screen())
        p.keys("h", "d")
        p.wait_for(r"root cannot be pruned")
        self.quit(p, changed=True)

    def test_search_help_missing_features_resize(self):
        p = self.open()
        p.keys("/")
        p.type("Is 42 a step")
        p.wait_for(r"/Is 42 a step")
        p.keys("Enter")
        p.wait_for(r'found "Is 42 a step"')
        self.assertRegex(p.status(), r"step \d+/")
        p.keys("/")
        p.type("no such text")
        p.keys("Enter")
        p.wait_for(r"not found")
        for key, msg in (("g", "no generator configured: see README Configuration"),
                         ("G", "no generator configured"), ("a", "no generator configured"),
                         ("v", "no scorer configured")):
            p.keys(key)
            p.wait_for(re.escape(msg))
        p.keys("r")  # replay (tests/integration/test_tui_replay.py)
        p.wait_for(r"replay  step 1/")
        p.keys("Escape")
        p.wait_for(r"left replay")
        p.keys("?")
        s = p.wait_for(r"weft keys")
        for line in ("Enter", "1-9", "C-r", "prune the focused subtree", "quit (saving)"):
            self.assertIn(line, s)
        p.keys("Escape")
        p.wait_for(r"\? help")
        p.tmux("resize-window", "-x", "80", "-y", "24")
        p.wait_for(r"(?s)\? help.*autopilot")
        lines = p.lines()
        self.assertEqual(len([l for l in lines if l]), 24)
        self.assertIn("autopilot off", lines[23] if len(lines) > 23 else p.status())
        p.tmux("resize-window", "-x", "40", "-y", "10")
        p.wait_for(r"weft")
        p.tmux("resize-window", "-x", "120", "-y", "40")
        p.wait_for(r"candidates of step")
        p.keys("t")
        p.wait_for(r"theme light")
        p.keys("t")
        p.wait_for(r"theme mono")
        self.quit(p)

    def test_edit_makes_a_sibling(self):
        tmp = tempfile.mkdtemp(prefix="weft-editor-")
        self.addCleanup(shutil.rmtree, tmp, True)
        editor = os.path.join(tmp, "editor.sh")
        with open(editor, "w") as f:
            f.write("#!/bin/sh\nprintf ' EDITED-BY-TEST' >> \"$1\"\n")
        os.chmod(editor, 0o755)
        p = self.open(env={"EDITOR": editor, "VISUAL": ""})
        p.keys("l", "j")
        p.wait_for(r"step 1/60 browsing ")
        p.keys("e")
        s = p.wait_for(r"edited: a new sibling")
        self.assertIn("EDITED-BY-TEST", s)
        self.assertIn("Is 1 a step 0 candidate 2?", s)  # the original stays
        self.assertRegex(s, r">\s?E\s+-\s+\S")  # marked edited, no score
        self.assertRegex(p.status(), r"step 1/1 ")  # an edit is a decision: the path
        p.keys("h")
        p.wait_for(r"step 0/")
        self.assertEqual(p.screen().count("EDITED-BY-TEST"), 1)
        p.keys("u")
        p.wait_for(r"undone")
        self.assertRegex(p.status(), r"step 1/60 browsing ")  # back on the original
        p.keys("h")
        self.assertNotIn("EDITED-BY-TEST", p.wait_for(r"step 0/60 \|"))
        self.quit(p, changed=True)

    def test_edit_brings_back_only_utf8(self):
        """An editor that writes Latin-1 or a NUL changes nothing: the
        session never holds what weft cannot read back, and the person's
        text is kept in the file the message names."""
        tmp = tempfile.mkdtemp(prefix="weft-editor-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for name, tail, said in (("latin1", r"caf\351 EDITED", "not valid UTF-8"),
                                 ("nul", r"a\000b EDITED", "a NUL byte")):
            editor = os.path.join(tmp, name + ".sh")
            with open(editor, "w") as f:
                f.write("#!/bin/sh\nprintf '%s' >> \"$1\"\n" % tail)
            os.chmod(editor, 0o755)
            p = self.open(env={"EDITOR": editor, "VISUAL": ""}, width=200)
            p.keys("l")
            p.wait_for(r"step 1/60 ")
            p.keys("e")
            s = p.wait_for(r"nothing changed .*; the text is kept in /tmp/weft-edit-\w+")
            self.assertIn(said, s)
            kept = re.search(r"kept in (/tmp/weft-edit-\w+)", s).group(1)
            self.addCleanup(lambda k=kept: os.path.exists(k) and os.unlink(k))
            with open(kept, "rb") as f:
                self.assertTrue(f.read().endswith(tail.encode().decode("unicode_escape")
                                                  .encode("latin-1")))
            self.assertNotIn("EDITED", p.screen())
            p.keys("u")
            p.wait_for(r"nothing to undo")
            self.quit(p)

    def test_signal_restores_terminal(self):
        p = self.open()
        shell = p.tmux("display-message", "-p", "#{pane_pid}").stdout.strip()
        pid = subprocess.run(["pgrep", "-P", shell, "-f", "weft"], stdout=subprocess.PIPE,
                             universal_newlines=True).stdout.split()
        self.assertTrue(pid, "weft's pid not found")
        os.kill(int(pid[0]), 15)
        p.wait_for(r"weft-exit=1")
        self.assertIn("weft: stopped by signal 15", p.stderr())
        # the shell prints on a normal screen: the loom's screen is gone
        self.assertNotIn("? help", p.screen())

    def test_bad_theme_file_named_in_status(self):
        tmp = tempfile.mkdtemp(prefix="weft-themes-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with open(os.path.join(tmp, "default"), "w") as f:
            f.write("normal default default\nfocsu black yellow\n")
        p = self.open(env={"WEFT_THEMES": tmp})
        self.assertIn("default:2: unknown role 'focsu'", p.status())
        self.quit(p)

    def test_configured_models_in_status(self):
        p = self.open(env={"WEFT_GENERATOR_MODEL": "tiny-gen", "WEFT_JUDGE_MODEL": "tiny-judge"})
        p.wait_for(r"gen tiny-gen judge tiny-judge")  # the status line may come a frame later
        self.assertIn("gen tiny-gen judge tiny-judge", p.status())
        p.keys("g")  # a generated tree has no task to steer by
        p.wait_for(r"the session names no task")
        self.quit(p)

    def test_no_color_uses_mono(self):
        p = self.open(env={"NO_COLOR": "1"})
        self.assertIn("| mono", p.status())
        # no colour escapes at all (attributes only; 39/49 are "default colour")
        for m in re.finditer(r"\x1b\[([0-9;]*)m", p.screen(escapes=True)):
            for param in m.group(1).split(";"):
                self.assertNotIn(param, [str(c) for c in list(range(30, 39)) +
                                         list(range(40, 49)) + list(range(90, 108))])
        self.quit(p)

    def test_random_keys_keep_it_whole(self):
        """A fixed-seed storm of keys (ASan build): no crash, no leak, and the
        screen still answers."""
        import random
        rnd = random.Random(1234)
        keys = ["h", "j", "k", "l", "Left", "Right", "Up", "Down", "Tab", "BTab", "Enter",
                "1", "2", "3", "5", "9", "e", "d", "y", "n", "u", "C-r", "b", "/", "x", "Enter",
                "n", "t", "g", "?", "Escape", "C-l", "Z", "BSpace"]
        # x writes exports where it runs: a scratch folder, not the checkout
        cwd = tempfile.mkdtemp(prefix="weft-keys-")
        self.addCleanup(shutil.rmtree, cwd, True)
        root_before = sorted(os.listdir(ROOT))
        p = self.open("--hostile", cwd=cwd, env={"EDITOR": "true", "VISUAL": "",
                                                 "WEFT_THEMES": os.path.join(ROOT, "themes")})
        for _ in range(30):
            p.keys(*[rnd.choice(keys) for _ in range(10)])
        p.keys("Escape", "Escape", "C-l")
        p.tmux("resize-window", "-x", "81", "-y", "25")
        p.keys("Z")
        p.wait_for(r"unbound key 'Z'")
        p.keys("q")
        p.wait_for(r"q again quits|weft-exit=0")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        self.assertEqual(sorted(os.listdir(ROOT)), root_before)

    def test_large_tree_opens(self):
        p = Pane(self, ["tui", "--synthetic", "100000"])
        p.wait_for(r"\? help")
        p.keys(*(["l"] * 40))
        p.wait_for(r"step 40/")
        self.quit(p)


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
class TestHostileText(unittest.TestCase):
    """Node texts with escape sequences, CR, BS, C1, bidi and invalid UTF-8
    reach the pane only in caret/mark form."""

    def test_escapes_never_reach_the_terminal(self):
        p = Pane(self, ["tui", "--synthetic", "60", "--hostile"])
        p.wait_for(r"\? help")
        p.keys("l")
        p.wait_for(r"step 1/")
        plain = p.screen()
        raw = p.screen(escapes=True)
        # shown in caret and mark form
        for shown in ("^[[31mRED^[[0m", "^[[2J^[[H^[[10;20H", "^[]52;c;cm0gLXJmIH4=^G",
                      "^[]0;PWNED-TITLE^G", "over^MEVIL^H^H^H^Hwrite", "abc<U+202E>fed",
                      "<U+2066>", "<U+200B>", "<U+009B>31m", "<FF><FE>"):
            self.assertIn(shown, plain)
        # the only escapes in the pane are tmux's own attribute changes (SGR)
        for m in re.finditer(r"\x1b(.)", raw):
            self.assertEqual(m.group(1), "[", repr(raw[m.start():m.start() + 12]))
        self.assertIsNone(re.search(r"\x1b\[[0-9;]*[^0-9;m]", raw))
        # "RED" is never drawn in red by the text's own sequence
        for m in re.finditer(r"RED", plain):
            self.assertEqual(plain[m.start() - 6:m.start()], "^[[31m")
        # no title was set, no clipboard buffer was made
        title = p.tmux("display-message", "-p", "#{pane_title}").stdout
        self.assertNotIn("PWNED", title)
        self.assertEqual(p.tmux("list-buffers", check=False).stdout.strip(), "")
        # no bidi or C1 characters reached the screen
        for ch in ("\u202e", "\u2066", "\u200b", "\x9b", "\r", "\x08"):
            self.assertNotIn(ch, raw)
        # the layout held: header first, status line last
        lines = [l for l in plain.split("\n") if l]
        self.assertTrue(lines[0].startswith(" weft"))
        self.assertIn("autopilot off", lines[-1])
        # a 10 MB single line: shown cut to the screen, escapes in caret form
        p.keys("h", "l", "Tab", "Tab", "Tab", "Tab", "Tab", "l")
        s = p.wait_for(r"step 2/\d+ browsing ")
        self.assertIn("moved HUGE-LINE-START", s)  # shown after its parent
        self.assertIn("^[", s)
        self.assertNotIn("\x1b", p.screen(escapes=True).replace("\x1b[", ""))
        p.keys("/")
        p.type("zzz-not-there")
        p.keys("Enter")
        p.wait_for(r"not found")
        p.keys("q")
        p.wait_for(r"weft-exit=0")


def session_reader_present():
    if not os.path.exists(WEFT):
        return False
    r = subprocess.run([WEFT, "tui", "/nonexistent/weft-probe.json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    return "cannot read session files yet" not in r.stderr


DEMO = os.path.join(ROOT, "sessions", "demo.json")


HOSTILE_TEXTS = [
    "Task: \x1b[31mRED\x1b[0m\x1b[2J\x1b[H\x1b[10;20Hmoved\n",
    " \x1b]52;c;cm0gLXJmIH4=\x07clip \x1b]0;PWNED-TITLE\x07title",
    " over\rEVIL\b\b\b\bwrite abc\u202efed\u2066x\u200bz \u009b31mc1",
]


def hostile_session(path):
    """A Bonsai-shaped session whose texts attack the terminal."""
    ids = ["r", "a", "b"]
    nodes = []
    for i, nid in enumerate(ids):
        nodes.append({"id": nid, "text": HOSTILE_TEXTS[i],
                      "parentIds": [] if nid == "r" else ["r"],
                      "childrenIds": ["a", "b"] if nid == "r" else [],
                      "lastVisited": "1700000000", "group": "path" if nid != "b" else ""})
    doc = {"name": "hostile", "nodes": nodes,
           "edges": [{"from": "r", "to": c, "relation": "parentId"} for c in ("a", "b")],
           "pathNodes": ["r", "a"], "focusedId": "r"}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(session_reader_present(), "this build cannot read session files yet")
class TestHostileSessionFile(unittest.TestCase):
    def test_file_texts_shown_safely_and_kept(self):
        tmp = tempfile.mkdtemp(prefix="weft-hostile-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "hostile.json")
        hostile_session(path)
        p = Pane(self, [path])
        s = p.wait_for(r"\? help")
        raw = p.screen(escapes=True)
        for shown in ("^[[31mRED^[[0m", "^[]52;c;", "^[]0;PWNED-TITLE^G"):
            self.assertIn(shown, s)
        for m in re.finditer(r"\x1b(.)", raw):
            self.assertEqual(m.group(1), "[")
        self.assertIsNone(re.search(r"\x1b\[[0-9;]*[^0-9;m]", raw))
        self.assertNotIn("PWNED", p.tmux("display-message", "-p", "#{pane_title}").stdout)
        p.keys("b", "s")
        p.wait_for(r"saved ")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        texts = sorted(n["text"] for n in doc["nodes"])
        self.assertEqual(texts, sorted(HOSTILE_TEXTS))  # stored unchanged


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(DEMO), "sessions/demo.json is not there yet")
@unittest.skipUnless(session_reader_present(), "this build cannot read session files yet")
class TestLoomSession(unittest.TestCase):
    """The demo session: decisions made in the loom are in the saved file."""

    def test_decisions_saved(self):
        tmp = tempfile.mkdtemp(prefix="weft-demo-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "demo.json")
        shutil.copy(DEMO, path)
        p = Pane(self, ["tui", path])
        p.wait_for(r"\? help")
        p.keys(*(["h"] * 40))  # to the root
        p.wait_for(r"at the root")
        p.keys("2")
        p.wait_for(r"picked candidate 2 \(human\)")
        p.keys("b", "s")
        p.wait_for(r"saved ")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        root = [n for n in doc["nodes"] if not n["parentIds"]][0]
        step = root["weft"]["step"]
        self.assertEqual(step["pickedBy"], "human")
        self.assertEqual(step["finalPick"], root["childrenIds"][1])
        r = subprocess.run([WEFT, "check", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stderr)


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(DEMO), "sessions/demo.json is not there yet")
class TestExportKey(unittest.TestCase):
    """x writes what weft export writes, for the chosen path."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="weft-x-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.path = os.path.join(self.tmp, "demo.json")
        shutil.copy(DEMO, self.path)

    def cli_export(self, fmt):
        out = os.path.join(self.tmp, "cli." + fmt)
        r = subprocess.run([WEFT, "export", self.path, "--format", fmt, "-o", out],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            return f.read()

    def read(self, name):
        with open(os.path.join(self.tmp, name), "rb") as f:
            return f.read()

    def test_formats_replace_and_cancel(self):
        p = Pane(self, ["tui", self.path], width=140)
        p.wait_for(r"\? help")
        # the status line counts the pairs weft extract finds
        ext = subprocess.run([WEFT, "extract", self.path], cwd=ROOT, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
        yes = int(re.search(r"^  Yes: (\d+)", ext, re.M).group(1))
        no = int(re.search(r"^  No: (\d+)", ext, re.M).group(1))
        self.assertIn("| Yes %d No %d |" % (yes, no), p.status())
        p.keys("x")
        p.wait_for(r"export classification \(Tab: format\) to: .*demo\.classification\.csv")
        p.keys("Enter")
        s = p.wait_for(r"exported \d+ pairs to .*demo\.classification\.csv \(classification\)")
        n = int(re.search(r"exported (\d+) pairs", s).group(1))
        self.assertGreater(n, 0)
        self.assertEqual(self.read("demo.classification.csv"), self.cli_export("classification"))
        p.keys("x", "Tab", "Tab")
        p.wait_for(r"export mwe \(Tab: format\) to: .*demo\.mwe\.jsonl")
        p.keys("Enter")
        p.wait_for(r"exported %d pairs to .*demo\.mwe\.jsonl \(mwe\)" % n)
        self.assertEqual(self.read("demo.mwe.jsonl"), self.cli_export("mwe"))
        # x starts from the last format; an existing file is replaced only
        # on a second Enter
        mwe = os.path.join(self.tmp, "demo.mwe.jsonl")
        os.utime(mwe, ns=(0, 0))
        p.keys("x", "Enter")
        p.wait_for(r"export mwe .*exists: Enter replaces it")
        p.keys("Escape")
        p.wait_for(r"export cancelled")
        self.assertEqual(os.stat(mwe).st_mtime_ns, 0)
        p.keys("x", "Enter", "Enter")
        p.wait_for(r"exported %d pairs to .*demo\.mwe\.jsonl \(mwe\)" % n)
        self.assertNotEqual(os.stat(mwe).st_mtime_ns, 0)
        # BTab goes back a format, round the list; a name typed by hand
        p.keys("x", "BTab", "BTab", "BTab")
        p.wait_for(r"export bonsai")
        p.keys(*(["BSpace"] * 200))
        p.type(os.path.join(self.tmp, "copy of demo.json"))
        p.keys("Enter")
        p.wait_for(r"exported the session \(\d+ nodes\) to .*copy of demo\.json \(bonsai\)")
        r = subprocess.run([WEFT, "check", os.path.join(self.tmp, "copy of demo.json")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # a folder that does not exist: the error, and nothing else changes
        p.keys("x", *(["BSpace"] * 200))
        p.type(os.path.join(self.tmp, "no-such-dir", "x.csv"))
        p.keys("Enter")
        p.wait_for(r"no-such-dir")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "no-such-dir")))
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
class TestNewSession(unittest.TestCase):
    """weft with no FILE: a new session of a task, written before the loom
    opens, in the current folder."""

    def run_in(self, argv, expect_exit):
        """weft argv in a scratch folder: the pane, the folder and the
        session files there while the loom is open (it is left open)."""
        tmp = tempfile.mkdtemp(prefix="weft-new-")
        self.addCleanup(shutil.rmtree, tmp, True)
        p = Pane(self, argv, cwd=tmp, env={"WEFT_PROMPTS": os.path.join(ROOT, "prompts")})
        if expect_exit:
            p.wait_for(r"weft-exit=%d" % expect_exit)
            return p, tmp, []
        p.wait_for(r"\? help")
        # the loom holds the new session's lock (FILE.lock) while open
        made = [f for f in os.listdir(tmp) if not f.endswith(".lock")]
        return p, tmp, made

    def check_new(self, tmp, made, task):
        self.assertEqual(len(made), 1, made)
        self.assertRegex(made[0], r"^weft-%s-\d{8}-\d{6}\.json$" % task)
        path = os.path.join(tmp, made[0])
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["weft"]["task"], task)
        with open(os.path.join(ROOT, "prompts", task, "generate.txt"), encoding="utf-8") as f:
            prompt = f.read()
        self.assertEqual([n["text"] for n in doc["nodes"]], [prompt])
        r = subprocess.run([WEFT, "check", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return path

    def test_no_arguments_starts_the_default_task(self):
        """The file is there while the loom is open; quit before anything
        was added, it is gone (no empty session left behind) and weft
        says so."""
        p, tmp, made = self.run_in([], 0)
        path = self.check_new(tmp, made, "nice-sounding-wrong")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertIn("nothing was added, so %s was not kept" % os.path.basename(path),
                      p.screen().replace("\n", ""))
        self.assertEqual(os.listdir(tmp), [])
        self.assertEqual(p.stderr(), "")

    def test_new_session_with_a_change_is_kept(self):
        p, tmp, made = self.run_in([], 0)
        path = self.check_new(tmp, made, "nice-sounding-wrong")
        p.keys("b")
        p.wait_for(r"bookmark")
        p.keys("q")
        p.wait_for(r"q again quits|weft-exit=0")
        if "weft-exit=0" not in p.screen():
            p.keys("q")
            p.wait_for(r"weft-exit=0")
        self.assertIn("the new session is in " + os.path.basename(path), p.screen())
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertTrue(doc["nodes"][0]["weft"].get("bookmark"), doc["nodes"][0])
        self.assertEqual(p.stderr(), "")

    def test_task_option(self):
        p, tmp, made = self.run_in(["tui", "--task", "disjunctive-syllogism"], 0)
        self.check_new(tmp, made, "disjunctive-syllogism")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(os.listdir(tmp), [])

    def test_unknown_task_is_an_error_and_writes_nothing(self):
        p, tmp, _ = self.run_in(["tui", "--task", "no-such-task"], 1)
        self.assertIn("no-such-task", p.stderr())
        self.assertEqual(os.listdir(tmp), [])

    def test_task_with_file_is_a_usage_error(self):
        r = subprocess.run([WEFT, "tui", "--task", "x", "f.json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--task", r.stderr)

    def test_no_arguments_off_a_terminal_prints_usage(self):
        r = subprocess.run([WEFT], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: weft", r.stderr)


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(DEMO), "sessions/demo.json is not there yet")
class TestJournal(unittest.TestCase):
    def test_killed_loom_loses_no_decision(self):
        tmp = tempfile.mkdtemp(prefix="weft-journal-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "demo.json")
        shutil.copy(DEMO, path)
        p = Pane(self, [path])
        p.wait_for(r"\? help")
        p.keys(*(["h"] * 40))
        p.wait_for(r"at the root")
        p.keys("2")
        p.wait_for(r"picked candidate 2 \(human\)")
        self.assertTrue(os.path.exists(path + ".journal"))
        shell = p.tmux("display-message", "-p", "#{pane_pid}").stdout.strip()
        pid = subprocess.run(["pgrep", "-P", shell, "-f", "weft"], stdout=subprocess.PIPE,
                             universal_newlines=True).stdout.split()
        os.kill(int(pid[0]), 9)
        p.wait_for(r"weft-exit=137")
        q = Pane(self, [path])
        q.wait_for(r"\? help")
        q.keys("q")  # the recovered decision is unsaved: q saves it
        q.wait_for(r"weft-exit=0")
        self.assertFalse(os.path.exists(path + ".journal"))
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        root = [n for n in doc["nodes"] if not n["parentIds"]][0]
        self.assertEqual(root["weft"]["step"]["pickedBy"], "human")
        self.assertEqual(root["weft"]["step"]["finalPick"], root["childrenIds"][1])



@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
class TestLoomSteering(unittest.TestCase):
    """g, Enter, autopilot and Esc against the fake model server."""

    def setUp(self):
        from tests.integration.fakeserver import FakeServer
        self.fs = FakeServer().start()
        self.addCleanup(self.fs.stop)
        self.tmp = tempfile.mkdtemp(prefix="weft-steer-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.path = os.path.join(self.tmp, "s.json")
        r = subprocess.run([WEFT, "new", "--task", "nice-sounding-wrong", "-o", self.path],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.env = {"WEFT_BASE_URL": self.fs.base_url, "WEFT_GENERATOR_MODEL": "gen",
                    "WEFT_JUDGE_MODEL": "judge", "OPENAI_API_KEY": "sk-tui-test"}

    def saved(self):
        with open(self.path, encoding="utf-8") as f:
            doc = json.load(f)
        nodes = {n["id"]: n for n in doc["nodes"]}
        return doc, nodes

    def test_step_accept_autopilot_stop(self):
        self.fs.control(script={"judge": ["2", "4", "1", "3", "5"] * 20}, latency_ms=150)
        p = Pane(self, ["tui", self.path], env=self.env)
        p.wait_for(r"\? help")
        p.keys("g")
        p.wait_for(r"5 candidates; the judge picked one", timeout=20)
        p.keys("Enter")
        p.wait_for(r"accepted \(judge's pick\)")
        p.keys("a")
        p.wait_for(r"autopilot ON")
        p.wait_for(r"autopilot: step 4", timeout=30)
        p.keys("a")
        p.wait_for(r"autopilot off")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        doc, nodes = self.saved()
        steps = [nodes[i]["weft"]["step"] for i in doc["pathNodes"][:-1]]
        self.assertGreaterEqual(len(steps), 3)
        script = [2, 4, 1, 3, 5]
        for k, st in enumerate(steps):
            self.assertEqual(len(st["candidates"]), 5)
            self.assertAlmostEqual(sum(st["scores"]), 1.0, places=6)
            self.assertEqual(st["judgePick"], st["candidates"][script[k % 5] - 1])
            self.assertEqual(st["finalPick"], st["judgePick"])
            self.assertEqual(st["pickedBy"], "ai")
        r = subprocess.run([WEFT, "check", self.path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_escape_cancels_and_screen_keeps_answering(self):
        self.fs.control(latency_ms=3000)
        p = Pane(self, ["tui", self.path], env=self.env)
        p.wait_for(r"\? help")
        p.keys("g")
        p.wait_for(r"1 in flight")
        p.keys("?")  # the screen answers while the request is out
        p.wait_for(r"weft keys")
        p.keys("Escape")
        p.wait_for(r"\? help")
        p.keys("Escape")
        p.wait_for(r"cancelled; the tree is as it was")
        p.wait_for(r"0 in flight")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        doc, _ = self.saved()
        self.assertEqual(len(doc["nodes"]), 1)

    def test_judge_without_answer_waits_for_a_person(self):
        self.fs.control(script={"judge": [{"text": "no idea", "top_logprobs": {"no": -0.1}}] * 3})
        p = Pane(self, ["tui", self.path], env=self.env)
        p.wait_for(r"\? help")
        p.keys("a")
        p.wait_for(r"pick with 1-9", timeout=20)
        time.sleep(1.0)  # autopilot stopped: no further step was started
        gens = [r for r in self.fs.requests() if r["body"].get("model") == "gen"]
        self.assertEqual(len(gens), 1)
        p.keys("3")
        p.wait_for(r"picked candidate 3 \(human\)")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        doc, nodes = self.saved()
        st = nodes[doc["pathNodes"][0]]["weft"]["step"]
        self.assertIn("needsHuman", st)
        self.assertEqual(st["pickedBy"], "human")
        self.assertEqual(st["finalPick"], st["candidates"][2])


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(DEMO), "sessions/demo.json is not there yet")
class TestEvalPreview(unittest.TestCase):
    """v on the demo session: the pairs of the path go to the scorers without
    blocking the screen, and the popup shows the per-model table."""

    def test_v_shows_the_table(self):
        from tests.integration.fakeserver import FakeServer
        fs = FakeServer().start()
        self.addCleanup(fs.stop)
        tmp = tempfile.mkdtemp(prefix="weft-eval-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.makedirs(os.path.join(tmp, "weft"))
        with open(os.path.join(tmp, "weft", "config"), "w") as f:
            f.write("[scorer.small]\nmodel = scorer-small\nsize = 350e6\n"
                    "[scorer.large]\nmodel = scorer-large\nsize = 175e9\n")
        path = os.path.join(tmp, "demo.json")
        shutil.copy(DEMO, path)
        with open(path, encoding="utf-8") as f:
            before = f.read()
        fs.control(latency_ms=50, script={"scorer-small": ["Yes"] * 200,
                                          "scorer-large": ["No"] * 200})
        p = Pane(self, ["tui", path], env={"XDG_CONFIG_HOME": tmp,
                                           "WEFT_BASE_URL": fs.base_url})
        p.wait_for(r"\? help")
        p.keys("v")
        p.wait_for(r"evaluat")
        s = p.wait_for(r"evaluation preview \(any key", timeout=30)
        self.assertIn("small", s)
        self.assertIn("large", s)
        p.keys("q")  # closes the popup
        p.wait_for(r"\? help")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        asked = {r["body"].get("model") for r in fs.requests()}
        self.assertEqual(asked, {"scorer-small", "scorer-large"})
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), before)  # a preview changes nothing


if __name__ == "__main__":
    unittest.main()

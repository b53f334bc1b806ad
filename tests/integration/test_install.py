"""make install as a person runs it: the tree is copied to a scratch folder
(so the checkout's ./weft and build/ stay as they are, built for their own
PREFIX), `make install DESTDIR=<tmp>` builds and installs there, the
source copy is moved away, and the installed PREFIX/bin/weft, run from an
unrelated folder with neither WEFT_PROMPTS nor WEFT_THEMES, creates,
generates, exports, opens and theme-cycles a session against the fake
server.  The installed man page renders (man -l, else groff) with its
sections, every command of weft --help and every key of weft tui --keys;
the installed bash completion lists generate, the installed tasks and
themes; make uninstall leaves no file behind."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tests.flows.flowlib import TASK, FlowCase, expected_pairs
from tests.integration.test_build import make_env
from tests.integration.test_tui import Pane, shquote
from tests.integration.weftrun import ROOT

MAKE = shutil.which("make")
PKG_CONFIG = shutil.which("pkg-config")
TMUX = shutil.which("tmux")
MAN = shutil.which("man")
GROFF = shutil.which("groff")
BASH = shutil.which("bash")
PREFIX = "/usr/local"
# what make install needs of a checkout
SOURCES = ("Makefile", "VERSION", "src", "include", "themes", "prompts", "man", "completion")
SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "KEYS", "FILES",
            "ENVIRONMENT", "EXIT STATUS")


def make_in(cwd, *args):
    p = subprocess.run([MAKE, "--no-print-directory"] + list(args), cwd=cwd, env=make_env(),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
    return p.returncode, p.stdout


def files_under(top):
    return sorted(os.path.relpath(os.path.join(d, f), top)
                  for d, _, fs in os.walk(top) for f in fs)


class InstalledPane(Pane):
    """test_tui's Pane, running the installed weft (not WEFT) from cwd."""

    def __init__(self, testcase, weft, argv, cwd, env, width=110, height=32):
        self.sock = "weft-install-%d-%d" % (os.getpid(), id(self))
        self.tmp = tempfile.mkdtemp(prefix="weft-tui-")
        self.err = os.path.join(self.tmp, "stderr.txt")
        envs = {"LC_ALL": "C.UTF-8", "TERM": "tmux-256color"}
        envs.update({k: env[k] for k in ("WEFT_BASE_URL", "WEFT_GENERATOR_MODEL",
                                         "WEFT_JUDGE_MODEL", "OPENAI_API_KEY",
                                         "XDG_CONFIG_HOME", "HOME") if k in env})
        setenv = " ".join("%s=%s" % (k, shquote(v)) for k, v in envs.items())
        line = "cd %s && env -u WEFT_PROMPTS -u WEFT_THEMES %s %s 2>%s; echo weft-exit=$?; " \
               "sleep 600" % (shquote(cwd), setenv,
                              " ".join(shquote(a) for a in [weft] + list(argv)),
                              shquote(self.err))
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), line)
        testcase.addCleanup(self.close)


@unittest.skipUnless(MAKE and PKG_CONFIG, "make and pkg-config are needed")
class Installed(FlowCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="weft-install-")
        cls.src = os.path.join(cls.top, "src")
        os.mkdir(cls.src)
        for name in SOURCES:
            path = os.path.join(ROOT, name)
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(cls.src, name))
            else:
                shutil.copy(path, os.path.join(cls.src, name))
        cls.dest = os.path.join(cls.top, "dest")
        status, out = make_in(cls.src, "-j2", "install", "PREFIX=" + PREFIX,
                              "DESTDIR=" + cls.dest)
        if status != 0:
            shutil.rmtree(cls.top, True)
            raise AssertionError("make install failed:\n" + out)
        cls.prefix = cls.dest + PREFIX
        cls.bin = os.path.join(cls.prefix, "bin", "weft")
        cls.man = os.path.join(cls.prefix, "share", "man", "man1", "weft.1")
        cls.completion = os.path.join(cls.prefix, "share", "bash-completion", "completions",
                                      "weft")
        # the installed weft must need nothing of the tree it was built in
        cls.moved = os.path.join(cls.top, "src-away")
        os.rename(cls.src, cls.moved)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.top, True)

    def setUp(self):
        super().setUp()
        for var in ("WEFT_PROMPTS", "WEFT_THEMES"):
            self.env.pop(var, None)
        self.env["PATH"] = os.path.dirname(self.bin) + os.pathsep + os.environ.get("PATH", "")

    def weft(self, *argv, check=None, timeout=300):
        """The installed weft (FlowCase.weft runs the checkout's)."""
        p = subprocess.run([self.bin] + list(argv), env=self.env, cwd=self.dir,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if check is not None:
            self.assertEqual(p.returncode, check,
                             "weft %s\nstdout:\n%s\nstderr:\n%s" % (" ".join(argv), out, err))
        return p.returncode, out, err

    def test_layout(self):
        files = files_under(self.dest)
        rel = PREFIX.lstrip("/") + "/"
        for f in ("bin/weft", "share/man/man1/weft.1",
                  "share/bash-completion/completions/weft",
                  "share/weft/prompts/%s/generate.txt" % TASK,
                  "share/weft/prompts/disjunctive-syllogism/task.conf",
                  "share/weft/themes/default", "share/weft/themes/light",
                  "share/weft/themes/mono"):
            self.assertIn(rel + f, files)
        self.assertTrue(os.access(self.bin, os.X_OK))
        # the man page and completion name the installed share folder
        with open(self.completion, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn("@DATADIR@", text)
        self.assertIn(PREFIX + "/share/weft", text)

    def test_new_generate_export_loom_themes(self):
        self.assertFalse(os.path.exists(self.path("prompts")))
        self.weft("--version", check=0)
        picks = self.script_steps(2, pick=1)
        _, out, _ = self.weft("new", "--task", TASK, check=0)
        made = [f for f in os.listdir(self.dir) if f.endswith(".json")]
        self.assertEqual(len(made), 1, out)
        name = made[0]
        self.assertRegex(name, r"^weft-%s-\d{8}-\d{6}\.json$" % re.escape(TASK))
        self.weft("generate", name, "--rounds", "2", *self.fast, check=0)
        self.assertEqual(self.exported_pairs(name), expected_pairs(picks))
        if not TMUX:
            self.skipTest("tmux is not installed: the loom part needs it")
        p = InstalledPane(self, self.bin, [name], self.dir, self.env)
        p.wait_for(r"\? help")
        self.assertNotIn("not found", p.status())
        for theme in ("light", "mono", "default"):
            p.keys("t")
            p.wait_for(r"theme %s\b" % theme)
            self.assertNotIn("not found", p.screen())
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")

    def rendered_man(self):
        env = dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="", LC_ALL="C.UTF-8")
        if MAN:
            p = subprocess.run([MAN, "-l", self.man], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True)
            if p.returncode == 0 and p.stdout.strip():
                return p.stdout
        if GROFF:
            p = subprocess.run([GROFF, "-man", "-Tutf8", "-P-c", "-rLL=100n", self.man],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            return p.stdout
        return None

    def test_man_page_renders(self):
        if GROFF:  # no warnings from the roff itself
            p = subprocess.run([GROFF, "-man", "-Tutf8", "-ww", "-z", self.man],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True)
            self.assertEqual((p.returncode, p.stderr), (0, ""))
        text = self.rendered_man()
        if text is None:
            print("test_install: neither man nor groff is installed; "
                  "checking weft.1's macros only")
            with open(self.man, encoding="utf-8") as f:
                roff = f.read()
            self.assertRegex(roff, r"(?m)^\.TH WEFT 1")
            for s in SECTIONS:
                self.assertRegex(roff, r'(?m)^\.SH "?%s"?$' % s)
            return
        text = re.sub(r".\x08", "", text)  # overstrike bold, if any
        for s in SECTIONS:
            self.assertRegex(text, r"(?m)^%s$" % s)
        self.assertIn(PREFIX + "/share/weft/prompts", " ".join(text.split()))
        sections = re.split(r"(?m)^([A-Z][A-Z ]+)$", text)
        body = dict(zip(sections[1::2], sections[2::2]))
        flat = lambda s: " ".join(s.split())
        # every command weft --help lists, and every key of the loom
        _, help_text, _ = self.weft("--help", check=0)
        commands = re.findall(r"(?m)^  ([a-z]+)  ", help_text.split("commands:")[1])
        self.assertIn("generate", commands)
        for c in commands:
            self.assertRegex(body["COMMANDS"], r"(?m)^\s+%s\b" % c)
        _, keys, _ = self.weft("tui", "--keys", check=0)
        for line in keys.splitlines():
            if line.strip():
                what = re.split(r"\s{2,}", line.strip(), maxsplit=1)[1]
                self.assertIn(flat(what), flat(body["KEYS"]), "key line: " + line)
        for var in ("OPENAI_API_KEY", "WEFT_PROMPTS", "WEFT_THEMES", "XDG_CONFIG_HOME",
                    "NO_COLOR", "EDITOR"):
            self.assertIn(var, body["ENVIRONMENT"])
        for code in ("0", "1", "2", "3", "130"):
            self.assertRegex(body["EXIT STATUS"], r"(?m)^\s+%s\s" % code)

    def complete(self, *words):
        """What the installed completion offers for `weft WORDS...` (the last
        word is the one being completed), run from the scratch folder."""
        if not BASH:
            self.skipTest("bash is not installed")
        words = ("weft",) + words
        script = ("source %s || exit 9; complete -p weft || exit 8; COMP_WORDS=(%s); "
                  "COMP_CWORD=%d; COMP_LINE=%s; COMP_POINT=${#COMP_LINE}; _weft; "
                  "printf '%%s\\n' \"${COMPREPLY[@]}\"" % (
                      shquote(self.completion), " ".join(shquote(w) for w in words),
                      len(words) - 1, shquote(" ".join(words)), ))
        env = {k: v for k, v in self.env.items() if not k.startswith("BASH_FUNC_")}
        p = subprocess.run([BASH, "--norc", "--noprofile", "-c", script], cwd=self.dir,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("-F _weft weft", p.stdout)
        return [w for w in p.stdout.splitlines() if not w.startswith("complete ")]

    def test_bash_completion(self):
        open(self.path("s.json"), "w").close()
        self.assertEqual(self.complete("g"), ["generate"])
        self.assertIn("generate", self.complete(""))
        self.assertIn("s.json", self.complete(""))
        self.assertIn("--rounds", self.complete("generate", "s.json", "--r"))
        # task and theme names from the installed share folder
        self.assertEqual(sorted(self.complete("new", "--task", "")),
                         ["disjunctive-syllogism", TASK])
        self.assertEqual(sorted(self.complete("--theme", "")), ["default", "light", "mono"])
        self.assertEqual(self.complete("export", "s.json", "--format", "mw"), ["mwe"])
        self.assertEqual(self.complete("check", "s."), ["s.json"])
        # ./prompts of the current folder adds the person's own tasks
        os.makedirs(self.path("prompts/mine"))
        self.assertIn("mine", self.complete("new", "-t", ""))

    def test_uninstall_leaves_nothing(self):
        os.rename(self.moved, self.src)
        self.addCleanup(os.rename, self.src, self.moved)
        dest = os.path.join(self.top, "dest2")
        status, out = make_in(self.src, "install", "PREFIX=" + PREFIX, "DESTDIR=" + dest)
        self.assertEqual(status, 0, out)
        self.assertNotIn("CC ", out)  # the same PREFIX: nothing rebuilt
        self.assertEqual(len(files_under(dest)), len(files_under(self.dest)))
        status, out = make_in(self.src, "uninstall", "PREFIX=" + PREFIX, "DESTDIR=" + dest)
        self.assertEqual(status, 0, out)
        self.assertEqual(files_under(dest), [])


if __name__ == "__main__":
    unittest.main()

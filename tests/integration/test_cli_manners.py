"""The command line's manners: a mistyped command is named with the nearest
one, an unknown option is named with the command's usage line (not the
whole help), messages name the configuration file really in use, and ping
says which roles the loom will miss."""
import os
import shutil
import subprocess
import tempfile
import unittest

from tests.integration.fakeserver import FakeServer
from tests.integration.weftrun import KEY, ROOT, WEFT

COMMANDS = ("check", "ping", "extract", "export", "new", "generate", "plot", "replay",
            "score", "tui", "eval")


def clean_env(**extra):
    """The environment without any weft or OpenAI setting of the person
    running the tests."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WEFT_", "OPENAI_")) and k != "XDG_CONFIG_HOME"}
    env.update(extra)
    return env


class CliManners(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="weft-manners-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = clean_env(HOME=self.tmp, XDG_CONFIG_HOME=os.path.join(self.tmp, "xdg"),
                             WEFT_PROMPTS=os.path.join(ROOT, "prompts"))

    def weft(self, *argv, env=None):
        p = subprocess.run([WEFT] + list(argv), cwd=self.tmp, env=env or self.env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def test_unknown_command_suggests_the_nearest(self):
        code, out, err = self.weft("exprot", "s.json")
        self.assertEqual(code, 2, err)
        self.assertIn("weft: unknown command 'exprot'; did you mean 'export'?", err)
        for c in COMMANDS:
            self.assertIn(" " + c, err)
        code, _, err = self.weft("genrate")
        self.assertEqual(code, 2)
        self.assertIn("did you mean 'generate'?", err)
        code, _, err = self.weft("xyzzy")
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'xyzzy'", err)
        self.assertNotIn("did you mean", err)

    def test_a_file_is_still_a_file(self):
        """A word that names a file, or looks like a file name, is opened as
        one (here off a terminal, which the loom refuses), never taken for a
        mistyped command."""
        open(os.path.join(self.tmp, "exprot"), "w").close()
        for arg in ("exprot", "missing.json"):
            code, _, err = self.weft(arg)
            self.assertNotIn("unknown command", err)
            self.assertEqual(code, 1, err)

    def test_unknown_option_names_it_with_the_usage_line(self):
        for c in COMMANDS:
            code, out, err = self.weft(c, "--nope")
            self.assertEqual(code, 2, (c, err))
            lines = err.splitlines()
            self.assertEqual(lines[0], "weft %s: unknown option '--nope'" % c, (c, err))
            self.assertTrue(lines[1].startswith("usage: weft"), (c, err))
            self.assertIn("weft %s --help" % c, lines[-1], (c, err))
            # the synopsis only: no blank line, no option list
            self.assertNotIn("", lines, (c, err))
            self.assertLessEqual(len(lines), 7, (c, err))
        code, _, err = self.weft("--nope")
        self.assertEqual(code, 2)
        self.assertEqual(err.splitlines()[0], "weft: unknown option '--nope'")
        self.assertIn("usage: weft", err)
        code, _, err = self.weft("ping", "--config")
        self.assertEqual(code, 2)
        self.assertEqual(err.splitlines()[0], "weft ping: option '--config' needs a value")

    def test_messages_name_the_config_file_in_use(self):
        code, _, err = self.weft("new", "--task", "nice-sounding-wrong", "-o", "s.json")
        self.assertEqual(code, 0, err)
        xdg = os.path.join(self.tmp, "xdg", "weft", "config")
        home = clean_env(HOME=self.tmp, WEFT_PROMPTS=os.path.join(ROOT, "prompts"))
        dot = os.path.join(self.tmp, ".config", "weft", "config")
        for argv in (("generate", "s.json", "--rounds", "1"),
                     ("replay", "s.json", "--rejudge"), ("ping",)):
            code, _, err = self.weft(*argv)
            self.assertEqual(code, 1, (argv, err))
            self.assertIn(xdg, err, argv)
            self.assertNotIn("~/.config", err, argv)
            code, _, err = self.weft(*argv, env=home)
            self.assertEqual(code, 1, (argv, err))
            self.assertIn(dot, err, argv)
            code, _, err = self.weft(*argv, "--config", "mine.conf")
            if code == 1:  # --config names a file that must exist (ping, generate)
                self.assertIn("mine.conf", err, argv)


class PingRolesForTheLoom(unittest.TestCase):
    def test_missing_judge_is_named(self):
        fs = FakeServer().start()
        self.addCleanup(fs.stop)
        tmp = tempfile.mkdtemp(prefix="weft-manners-")
        self.addCleanup(shutil.rmtree, tmp, True)
        env = clean_env(HOME=tmp, XDG_CONFIG_HOME=tmp, WEFT_BASE_URL=fs.base_url,
                        WEFT_GENERATOR_MODEL="gen-model", OPENAI_API_KEY=KEY)
        p = subprocess.run([WEFT, "ping"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("judge: not configured (the loom and generate need one)", p.stdout)
        self.assertIn(os.path.join(tmp, "weft", "config"), p.stdout)
        self.assertNotIn("generator: not configured", p.stdout)
        env["WEFT_JUDGE_MODEL"] = "judge-model"
        p = subprocess.run([WEFT, "ping"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("not configured", p.stdout)

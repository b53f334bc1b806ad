"""The Makefile as a new user meets it: the library check before anything
compiles, the two package sets `make run` and `make test` install (apt-get's
errors shown), and `make run`'s demo opened from a copy, so the checkout
stays clean. Runs make with -n, with fake apt-get/dpkg-query/id on PATH, or
in a scratch copy: nothing is installed and the checkout is not touched."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.path.abspath(os.environ.get("WEFT_BIN", os.path.join(ROOT, "build/asan/weft")))
MAKE = shutil.which("make")
PKG_CONFIG = shutil.which("pkg-config")
TMUX = shutil.which("tmux")
GIT = shutil.which("git")

LIBS = {"ncursesw": "libncurses-dev", "libcurl": "libcurl4-openssl-dev",
        "libcjson": "libcjson-dev", "libpcre2-8": "libpcre2-dev", "lapacke": "liblapacke-dev",
        "cmocka": "libcmocka-dev"}
RUN_SET = ["build-essential", "pkg-config", "libncurses-dev", "libcurl4-openssl-dev",
           "libcjson-dev", "libpcre2-dev", "liblapacke-dev"]
TEST_ONLY = ["libcmocka-dev", "tmux", "python3", "git", "chromium"]
NEVER_IN_RUN = ["clang", "valgrind", "libclang-rt-dev", "libclang-rt-14-dev",
                "libcmocka-dev", "tmux", "chromium"]


def make_env(**extra):
    """The environment of a make started by a person: none of the calling
    make's flags (make test runs these tests)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CC",
                        "CFLAGS", "LDFLAGS", "WERROR", "PKG_CONFIG_PATH")}
    env.update(extra)
    return env


def make(*args, env=None, cwd=ROOT):
    return subprocess.run([MAKE, "--no-print-directory"] + list(args), cwd=cwd,
                          env=env or make_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)


def write_script(path, text):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text)
    os.chmod(path, 0o755)


@unittest.skipUnless(MAKE and PKG_CONFIG, "make and pkg-config are needed")
class LibraryCheck(unittest.TestCase):
    """Each library's .pc is asked on its own; one missing stops make with
    one line naming the Debian package and how to install it."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="weft-pc-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.bin = os.path.join(self.tmp, "bin")
        os.mkdir(self.bin)
        out = subprocess.run([PKG_CONFIG, "--variable", "pc_path", "pkg-config"],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
        self.pc_files = {}
        for d in out.strip().split(":"):
            if os.path.isdir(d):
                for name in os.listdir(d):
                    if name.endswith(".pc"):
                        self.pc_files.setdefault(name, os.path.join(d, name))
        for lib in LIBS:
            if lib + ".pc" not in self.pc_files:
                self.skipTest("%s.pc is not installed here" % lib)

    def libdir_without(self, *hidden):
        """A PKG_CONFIG_LIBDIR holding every .pc file of this machine but hidden's."""
        d = tempfile.mkdtemp(dir=self.tmp)
        for name, path in self.pc_files.items():
            if name[:-3] not in hidden:
                os.symlink(path, os.path.join(d, name))
        return d

    def make_without(self, hidden, *goals, uid=None):
        env = make_env(PKG_CONFIG_LIBDIR=self.libdir_without(*hidden))
        if uid is not None:  # id -u answers uid
            write_script(os.path.join(self.bin, "id"), "echo %d\n" % uid)
            env["PATH"] = self.bin + os.pathsep + env["PATH"]
        return make("-n", *goals, env=env)

    def assert_stops(self, p, debs, how):
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.strip().split("\n")
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("weft needs the Debian packages " + " ".join(debs), lines[0])
        self.assertIn("install them with: " + how, lines[0])

    def test_everything_present_builds(self):
        p = self.make_without((), "weft", "asan")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("libweft.a", p.stdout)

    def test_each_missing_library_is_named(self):
        for lib in ("ncursesw", "libcurl", "libcjson", "libpcre2-8", "lapacke"):
            with self.subTest(lib=lib):
                p = self.make_without((lib,), "weft", uid=0)
                self.assert_stops(p, [LIBS[lib]], "make deps")
                self.assertIn("pkg-config finds no " + lib, p.stderr)

    def test_plain_make_checks_too(self):
        p = self.make_without(("libpcre2-8",), uid=0)
        self.assert_stops(p, ["libpcre2-dev"], "make deps")

    def test_not_root_gets_the_apt_line(self):
        p = self.make_without(("libcjson", "libcurl"), "weft", uid=1000)
        self.assert_stops(p, ["libcurl4-openssl-dev", "libcjson-dev"],
                          "sudo apt-get install -y libcurl4-openssl-dev libcjson-dev")

    def test_cmocka_only_for_the_test_builds(self):
        p = self.make_without(("cmocka",), "weft")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.make_without(("cmocka",), "asan", uid=0)
        self.assert_stops(p, ["libcmocka-dev"], "make deps-test")


@unittest.skipUnless(MAKE, "make is needed")
class PackageSets(unittest.TestCase):
    """`make deps` (what make run installs) and `make deps-test` (make test),
    with a fake apt-get that records what it is asked to install."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="weft-deps-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.log = os.path.join(self.tmp, "apt.log")
        write_script(os.path.join(self.tmp, "dpkg-query"), "exit 1\n")  # nothing installed
        write_script(os.path.join(self.tmp, "id"), "echo 0\n")
        self.apt("echo \"$@\" >> %s\n" % self.log)

    def apt(self, body):
        write_script(os.path.join(self.tmp, "apt-get"), body)

    def deps(self, goal, *args):
        env = make_env(PATH=self.tmp + os.pathsep + os.environ["PATH"])
        return make("-s", goal, *args, env=env)

    def installed(self):
        with open(self.log) as f:
            lines = [l.split() for l in f if l.split()[:1] == ["install"]]
        self.assertEqual(len(lines), 1)
        return [w for w in lines[0] if not w.startswith("-") and w != "install"]

    def test_run_set(self):
        p = self.deps("deps")
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.installed()
        self.assertEqual(got, RUN_SET)
        for name in NEVER_IN_RUN:
            self.assertNotIn(name, got)

    def test_test_set_adds_what_tests_need(self):
        p = self.deps("deps-test", "CC=cc")
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.installed()
        self.assertEqual(got, RUN_SET + TEST_ONLY)

    def test_clang_comes_with_a_clang_build(self):
        p = self.deps("deps-test", "CC=clang")
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.installed()
        self.assertIn("clang", got)
        self.assertIn("libclang-rt-dev", got)

    def test_apt_errors_are_shown(self):
        # apt explains on stdout and errs on stderr: both are shown
        self.apt('[ "$1" = update ] && exit 0\n'
                 'echo "Package libcjson-dev is not available, but is referred to"\n'
                 'echo "E: Package \'libcjson-dev\' has no installation candidate" >&2\n'
                 'exit 100\n')
        p = self.deps("deps")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Package libcjson-dev is not available", p.stdout + p.stderr)
        self.assertIn("E: Package 'libcjson-dev' has no installation candidate", p.stderr)
        self.assertIn("apt-get install failed", p.stderr)

    def test_apt_update_errors_are_shown(self):
        self.apt('echo "Err:1 http://deb.debian.org/debian bookworm InRelease"\n'
                 'echo "E: The repository is not signed." >&2\nexit 100\n')
        p = self.deps("deps")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Err:1 http://deb.debian.org/debian bookworm InRelease", p.stderr)
        self.assertIn("E: The repository is not signed.", p.stderr)


class FixturesRequiredInCI(unittest.TestCase):
    """A parity test without its fixtures skips with a message, and fails
    under WEFT_REQUIRE_FIXTURES=1 (.ci/run), python and C tests alike."""

    def run_without_fixtures(self, argv, required):
        env = make_env(WEFT_FIXTURES=os.path.join(ROOT, "build", "no-such-fixtures"))
        env.pop("WEFT_REQUIRE_FIXTURES", None)
        if required:
            env["WEFT_REQUIRE_FIXTURES"] = "1"
        return subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=120)

    def test_python_parity_tests(self):
        for name in ("tests.integration.test_check.CheckTest.test_upstream_file",
                     "tests.integration.test_plot.PlotFixtures",
                     "tests.integration.test_export.ExportTest.test_parity_with_seed"):
            with self.subTest(name=name):
                argv = [sys.executable, "-m", "unittest", name]
                p = self.run_without_fixtures(argv, required=False)
                self.assertEqual(p.returncode, 0, p.stdout)
                self.assertRegex(p.stdout, r"OK \(skipped=\d+\)")
                p = self.run_without_fixtures(argv, required=True)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertIn("WEFT_REQUIRE_FIXTURES=1 makes that a failure", p.stdout)

    def test_c_parity_tests(self):
        prog = os.path.join(os.path.dirname(WEFT), "tests", "test_metrics")
        if not os.path.exists(prog):
            self.skipTest("no unit test program " + prog)
        p = self.run_without_fixtures([prog], required=False)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("skipped: ../shared/fixtures/upstream-mwe not found", p.stdout)
        p = self.run_without_fixtures([prog], required=True)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("WEFT_REQUIRE_FIXTURES=1 makes that a failure", p.stdout)


def shquote(s):
    return "'" + s.replace("'", "'\\''") + "'"


@unittest.skipUnless(MAKE and TMUX and GIT, "make, tmux and git are needed")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
class DemoStaysPristine(unittest.TestCase):
    """`make run`'s last step (`make demo`) in a scratch checkout holding
    the Makefile and the demo: a change made in the loom and saved by q
    leaves `git status` clean."""

    def git(self, *args):
        return subprocess.run([GIT, "-c", "user.name=t", "-c", "user.email=t@t"] + list(args),
                              cwd=self.repo, check=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True).stdout

    def tmux(self, *args):
        return subprocess.run([TMUX, "-u", "-f", "/dev/null", "-L", self.sock] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)

    def wait_for(self, text, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            s = self.tmux("capture-pane", "-p").stdout
            if text in s:
                return s
            if time.time() > deadline:
                raise AssertionError("screen never showed %r; it shows:\n%s" % (text, s))
            time.sleep(0.05)

    def test_a_changed_demo_leaves_the_checkout_clean(self):
        self.tmp = tempfile.mkdtemp(prefix="weft-demo-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.repo = os.path.join(self.tmp, "weft")
        os.makedirs(os.path.join(self.repo, "sessions"))
        for name in ("Makefile", "VERSION", ".gitignore", "sessions/demo.json"):
            shutil.copy(os.path.join(ROOT, name), os.path.join(self.repo, name))
        self.git("init", "-q")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "demo")
        demo = os.path.join(self.repo, "sessions", "demo.json")
        with open(demo, "rb") as f:
            before = f.read()

        self.sock = "weft-demo-%d" % os.getpid()
        env = "LC_ALL=C.UTF-8 TERM=tmux-256color HOME=%s XDG_CONFIG_HOME=%s" % (
            shquote(self.tmp), shquote(self.tmp))
        cmd = "cd %s && env -u MAKEFLAGS -u MAKELEVEL %s %s -s --no-print-directory demo " \
              "DEMO_BIN=%s; echo make-exit=$?; sleep 600" % (
                  shquote(self.repo), env, shquote(MAKE), shquote(WEFT))
        self.tmux("new-session", "-d", "-x", "100", "-y", "30", cmd)
        self.addCleanup(self.tmux, "kill-server")
        self.wait_for("? help")
        self.tmux("send-keys", "b")  # a bookmark: a change q saves
        self.wait_for("bookmarked")
        self.tmux("send-keys", "q")
        screen = self.wait_for("make-exit=0")
        self.assertIn("the demo's changes are in build/demo/demo.json", screen)

        self.assertEqual(self.git("status", "--porcelain"), "")
        with open(demo, "rb") as f:
            self.assertEqual(f.read(), before)
        with open(os.path.join(self.repo, "build", "demo", "demo.json"), "rb") as f:
            self.assertNotEqual(f.read(), before)  # the change is in the copy


if __name__ == "__main__":
    unittest.main()

"""`make check-deps` (tests/check-deps.sh): the tree as it is passes, and a
scratch copy with one include against the folder graph fails, naming the
file.  The graph is in HACKING.md ("The folder graph")."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CheckDepsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="weft-check-deps-")
        self.tree = self.tmp.name
        for d in ("src", "include"):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(self.tree, d))
        os.mkdir(os.path.join(self.tree, "tests"))
        shutil.copy(os.path.join(ROOT, "tests", "check-deps.sh"),
                    os.path.join(self.tree, "tests"))
        shutil.copytree(os.path.join(ROOT, "tests", "unit"),
                        os.path.join(self.tree, "tests", "unit"))
        shutil.copy(os.path.join(ROOT, "Makefile"), self.tree)

    def tearDown(self):
        self.tmp.cleanup()

    def check(self):
        p = subprocess.run(["sh", "tests/check-deps.sh"], cwd=self.tree,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    def add(self, path, line):
        path = os.path.join(self.tree, path)
        with open(path, "a") as f:
            f.write("\n" + line + "\n")

    def assertRefused(self, path, line, *words):
        self.add(path, line)
        code, out = self.check()
        self.assertEqual(code, 1, out)
        self.assertIn(path, out)
        for w in words:
            self.assertIn(w, out)

    def test_the_tree_passes(self):
        code, out = self.check()
        self.assertEqual(code, 0, out)
        self.assertIn("check-deps: ok", out)

    def test_the_checkout_passes(self):
        p = subprocess.run(["sh", "tests/check-deps.sh"], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout.decode())

    def test_includes_against_the_graph(self):
        # one scratch tree, one run: each forbidden include must be named
        # with its file and the edge it breaks
        cases = [
            ("src/core/x.c", '#include "weft/session.h"', "src/core may not use src/io"),
            ("src/io/journal.c", '#include "weft/lm.h"', "src/io may not use src/lm"),
            ("src/lm/config.c", '#include "weft/session.h"', "src/lm may not use src/io"),
            ("src/data/pairs.c", '#include "weft/steer.h"', "src/data may not use src/steer"),
            ("src/steer/rank.c", '#include "weft/evalrun.h"', "src/steer may not use src/eval"),
            ("src/eval/plot.c", '#include "weft/tui.h"', "src/eval may not use src/tui"),
            ("src/tui/theme.c", '#include "weft/cli.h"', "src/tui may not use src/cli"),
            ("include/weft/export.h", '#include "weft/task.h"', "src/data may not use src/steer"),
            ("src/steer/task.c", "#include <weft/session.h>", "with quotes"),
        ]
        for path, line, _ in cases:
            self.add(path, line)
        code, out = self.check()
        self.assertEqual(code, 1, out)
        for path, line, words in cases:
            with self.subTest(path=path, line=line):
                self.assertRegex(out, r"check-deps: %s includes [^\n]*%s" % (
                    re.escape(path), re.escape(words)))

    def test_cli_may_use_tui(self):
        self.add("src/cli/cmd_check.c", '#include "weft/tui.h"')
        code, out = self.check()
        self.assertEqual(code, 0, out)

    def test_private_header_of_another_folder(self):
        with open(os.path.join(self.tree, "src", "tui", "view.h"), "w") as f:
            f.write("/* a private header of the loom */\n")
        self.add("src/tui/theme.c", '#include "view.h"')
        self.assertEqual(self.check()[0], 0)
        self.assertRefused("src/cli/cmd_tui.c", '#include "view.h"', "not in src/cli")
        self.assertRefused("src/eval/plot.c", '#include "../tui/view.h"')

    def test_a_split_module_still_passes(self):
        # a new .c beside the others, and a header whose module is split
        # across files named differently: the folder comes from the tree
        src = os.path.join(self.tree, "src", "tui")
        with open(os.path.join(src, "view_extra.c"), "w") as f:
            f.write('#include "weft/tui.h"\n#include "weft/steer.h"\n')
        code, out = self.check()
        self.assertEqual(code, 0, out)
        # score.h's module without a score.c: header_map names its folder
        ev = os.path.join(self.tree, "src", "eval")
        os.rename(os.path.join(ev, "score.c"), os.path.join(ev, "score_main.c"))
        code, out = self.check()
        self.assertEqual(code, 0, out)

    def test_a_folder_outside_the_graph(self):
        os.mkdir(os.path.join(self.tree, "src", "web"))
        self.add("src/web/server.c", '#include "weft/tree.h"')
        code, out = self.check()
        self.assertEqual(code, 1, out)
        self.assertIn("src/web is not in the folder graph", out)

    def test_a_header_with_no_folder(self):
        self.assertRefused("include/weft/orphan.h", "/* no orphan.c anywhere */",
                           "header_map")

    def test_library_rules_kept(self):
        self.add("src/eval/plot.c", "#include <curl/curl.h>")
        self.add("src/steer/task.c", "#include <pcre2.h>")
        self.add("src/core/tree.c", "#include <cjson/cJSON.h>")
        self.add("src/data/pairs.c", "#include <lapacke.h>")
        code, out = self.check()
        self.assertEqual(code, 1, out)
        self.assertIn("src/eval/plot.c includes curl", out)
        self.assertIn("src/steer/task.c includes PCRE2", out)
        self.assertIn("src/core/tree.c includes cJSON", out)
        self.assertIn("src/data/pairs.c includes LAPACKE", out)


if __name__ == "__main__":
    unittest.main()

"""Flow: weft run from a folder that has nothing of weft in it, with
neither WEFT_PROMPTS nor WEFT_THEMES set, finds its tasks and themes
beside its executable (the checkout it was built in, or PREFIX/share/weft
beside PREFIX/bin/weft): new (naming the file as bare weft does, here),
generate, the loom, and t cycling default -> light -> mono -> default."""
import os
import re
import shutil
import subprocess

from tests.flows.flowlib import TASK, FlowCase, expected_pairs
from tests.integration.weftrun import ROOT, WEFT


class RunFromAnywhere(FlowCase):
    def setUp(self):
        super().setUp()
        for var in ("WEFT_PROMPTS", "WEFT_THEMES"):
            self.env.pop(var, None)

    def test_new_generate_loom_themes(self):
        self.assertFalse(os.path.exists(self.path("prompts")))
        picks = self.script_steps(2, pick=1)
        _, out, _ = self.weft("new", "--task", TASK, check=0)
        made = [f for f in os.listdir(self.dir) if f.endswith(".json")]
        self.assertEqual(len(made), 1, out)
        name = made[0]
        self.assertRegex(name, r"^weft-%s-\d{8}-\d{6}\.json$" % re.escape(TASK))
        self.assertIn(name, out)
        self.weft("generate", name, "--rounds", "2", *self.fast, check=0)
        self.assertEqual(self.exported_pairs(name), expected_pairs(picks))
        p = self.loom(name)
        self.assertNotIn("not found", p.status())
        for theme in ("light", "mono", "default"):
            p.keys("t")
            p.wait_for(r"theme %s\b" % theme)
            self.assertNotIn("not found", p.screen())
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")

    def test_unknown_theme_names_the_themes(self):
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        _, _, err = self.weft("--theme", "nope", "s.json", check=2)
        self.assertIn("unknown theme 'nope'", err)
        self.assertIn("default, light, mono", err)

    def test_installed_layout(self):
        """PREFIX/bin/weft finds PREFIX/share/weft/prompts wherever PREFIX
        is (a DESTDIR, a moved install)."""
        prefix = self.path("prefix")
        os.makedirs(os.path.join(prefix, "bin"))
        os.makedirs(os.path.join(prefix, "share", "weft"))
        shutil.copy(WEFT, os.path.join(prefix, "bin", "weft"))
        shutil.copytree(os.path.join(ROOT, "prompts"),
                        os.path.join(prefix, "share", "weft", "prompts"))
        elsewhere = self.path("elsewhere")
        os.mkdir(elsewhere)
        p = subprocess.run([os.path.join(prefix, "bin", "weft"), "new", "--task", TASK,
                            "-o", "s.json"], cwd=elsewhere, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(elsewhere, "s.json")))

"""The loom's replay mode (key r) driven in tmux: stepping through the
recorded decisions of sessions/demo.json, playing, leaving; the session on
disk stays byte-identical.  Skips when tmux is missing."""
import json
import os
import re
import shutil
import tempfile
import unittest

from tests.integration.test_tui import TMUX, WEFT, Pane

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "sessions", "demo.json")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def demo_steps():
    with open(DEMO, encoding="utf-8") as f:
        s = json.load(f)
    nodes = {n["id"]: n for n in s["nodes"]}
    out = []
    for k in range(len(s["pathNodes"]) - 1):
        rec = nodes[s["pathNodes"][k]]["weft"]["step"]
        j = rec["candidates"].index(rec["judgePick"]) + 1
        f = rec["candidates"].index(s["pathNodes"][k + 1]) + 1
        out.append((j, f, rec["pickedBy"]))
    return out


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
class TestLoomReplay(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="weft-replay-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.file = os.path.join(self.tmp, "demo.json")
        shutil.copyfile(DEMO, self.file)

    def expect_step(self, p, k, steps):
        j, f, who = steps[k - 1]
        line = "-- step %d: judge %d, final %d by %s" % (k, j, f, who)
        # the whole frame at once: the header, the step's line and the
        # status (a screen read between two of them once failed the test)
        s = p.wait_for(r"(?s)replay  step %d/%d .*%s.*replay \| step %d/%d \| 2 overrides"
                       % (k, len(steps), re.escape(line), k, len(steps)))
        self.assertEqual("OVERRIDE" in s, who == "human" and j != f)
        self.assertRegex(p.status(), r"replay \| step %d/%d \| 2 overrides" % (k, len(steps)))
        return s

    def test_replay_steps_plays_and_leaves_the_file_unchanged(self):
        steps = demo_steps()
        before = read_bytes(self.file)
        p = Pane(self, ["tui", self.file], width=120, height=32,
                 env={"WEFT_REPLAY_PACE_MS": "50"})
        p.wait_for(r"\? help")
        status = p.status()
        p.keys("r")
        self.expect_step(p, 1, steps)
        p.keys("Right")
        self.expect_step(p, 2, steps)
        p.keys("n")
        s = self.expect_step(p, 3, steps)
        # the person's pick carries H on its candidate row
        j, f, _ = steps[2]
        self.assertRegex(s, r"(?m)^.*│%d  H #*\.*" % f)
        self.assertRegex(s, r"(?m)^.*│%d J  #*\.*" % j)
        p.keys("Left")
        self.expect_step(p, 2, steps)
        p.keys("p")
        self.expect_step(p, 1, steps)
        p.keys("Left")  # nothing before step 1
        self.expect_step(p, 1, steps)
        # Space plays to the last step and stops there
        p.keys("Space")
        p.wait_for(r"replay \| step %d/%d \| .* \| paused" % (len(steps), len(steps)))
        self.expect_step(p, len(steps), steps)
        p.keys("Escape")
        p.wait_for(r"left replay; the session is unchanged")
        self.assertNotIn("replay  step", p.screen())
        self.assertEqual(p.status().split("|")[:4], status.split("|")[:4])
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        self.assertEqual(read_bytes(self.file), before)
        self.assertFalse(os.path.exists(self.file + ".journal"))

    def test_replay_of_a_root_alone_says_so(self):
        with open(self.file, encoding="utf-8") as f:
            s = json.load(f)
        s["pathNodes"] = s["pathNodes"][:1]
        s["focusedId"] = s["pathNodes"][0]
        with open(self.file, "w", encoding="utf-8") as f:
            json.dump(s, f)
        before = read_bytes(self.file)
        p = Pane(self, ["tui", self.file])
        p.wait_for(r"\? help")
        p.keys("r")
        p.wait_for(r"replay: the chosen path has no steps yet")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(read_bytes(self.file), before)


if __name__ == "__main__":
    unittest.main()

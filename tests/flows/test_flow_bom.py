"""Flow: files that start with a UTF-8 byte-order mark, through every
command that reads a session or a dataset, and a session's journal seen by
every reader.

Editors and spreadsheet programs on Windows write a byte-order mark.  check,
replay, extract, export, eval and generate all read such a session as the
session it is; extract, export and eval read a text, CSV or JSONL dataset
with one the same as without.  And a session's journal (left by a killed
generate) is applied, read-only, by extract, export and eval as by check."""
import csv
import glob
import json
import os
import unittest

from tests.flows.flowlib import TASK, TMUX, FlowCase, candidate, expected_pairs
from tests.integration.test_tui import Pane
from tests.integration.weftrun import ROOT

BOM = b"\xef\xbb\xbf"


class BomFiles(FlowCase):
    def setUp(self):
        super().setUp()
        self.picks = self.script_steps(3, pick=4)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        self.weft("generate", "s.json", "--rounds", "3", *self.fast, check=0)
        with open(self.path("s.json"), "rb") as f:
            self.plain = f.read()
        self.assertFalse(self.plain.startswith(BOM))
        with open(self.path("bom.json"), "wb") as f:
            f.write(BOM + self.plain)

    def eval_rows(self, name):
        """weft eval NAME (generate method): the (question, label) rows it scored."""
        out = self.path("res-" + name)
        self.weft("eval", name, "--models", "a", "--set", "scorer.a.model=scorer-model",
                  "--method", "generate", "--out", out, check=0)
        dirs = glob.glob(os.path.join(out, "*"))
        self.assertEqual(len(dirs), 1, dirs)
        with open(os.path.join(dirs[0], "a.csv"), newline="", encoding="utf-8") as f:
            return [(r["question"], r["label"]) for r in csv.DictReader(f)]

    def test_session_with_bom(self):
        want = expected_pairs(self.picks)
        _, out, _ = self.weft("check", "bom.json", check=0)
        self.assertIn("chosen path: 4 nodes", out)
        _, out, _ = self.weft("replay", "bom.json", check=0)
        self.assertIn("(3 pairs)", out)
        _, out, _ = self.weft("extract", "bom.json", check=0)
        self.assertIn("pairs: 3 (of 3 matches)", out)
        self.assertEqual(self.exported_pairs("bom.json"), want)
        self.assertEqual(self.eval_rows("bom.json"), want)
        self.weft("export", "bom.json", "--format", "bonsai", "-o", "out.json", check=0)
        with open(self.path("out.json"), "rb") as f:
            self.assertEqual(json.loads(f.read().decode("utf-8"))["pathNodes"],
                             json.loads(self.plain.decode("utf-8"))["pathNodes"])
        # and it grows on: two more steps
        more = self.script_steps(2, pick=1, first=4)
        self.weft("generate", "bom.json", "--rounds", "5", *self.fast, check=0)
        self.assertEqual(self.exported_pairs("bom.json"), want + expected_pairs(more))

    @unittest.skipUnless(TMUX, "tmux missing")
    def test_loom_opens_a_session_with_bom(self):
        p = Pane(self, ["bom.json"], cwd=self.dir,
                 env={"WEFT_PROMPTS": os.path.join(ROOT, "prompts"),
                      "WEFT_THEMES": os.path.join(ROOT, "themes")})
        yes = sum(1 for _, _, label in self.picks if label == "Yes")
        p.wait_for(r"Yes %d No %d" % (yes, len(self.picks) - yes))
        p.keys("q")
        p.wait_for(r"weft-exit=0")

    def test_datasets_with_bom(self):
        pairs = [("Is dataset question %d settled?" % k, "Yes" if k % 3 else "No")
                 for k in range(1, 8)]
        text = "".join("Question: %s\nAnswer: %s\n\n" % p for p in pairs)
        rows = "prompt,classes,answer_index\n" + "".join(
            '"Question: %s \nAnswer:","[\' Yes\', \' No\']",%d\n' % (q, a != "Yes")
            for q, a in pairs)
        lines = "".join(json.dumps({"prompt": "Question: %s \nAnswer:" % q,
                                    "classes": [" Yes", " No"],
                                    "answer_index": int(a != "Yes")}) + "\n"
                        for q, a in pairs)
        for name, data in (("t.txt", text), ("c.csv", rows), ("j.jsonl", lines)):
            with open(self.path(name), "wb") as f:
                f.write(BOM + data.encode("utf-8"))
            self.assertEqual(self.eval_rows(name), pairs, name)
        self.assertEqual(self.exported_pairs("t.txt"), pairs)
        _, out, _ = self.weft("extract", "t.txt", check=0)
        self.assertIn("pairs: 7 (of 7 matches)", out)

    def test_journal_seen_by_every_reader(self):
        """A step still in the journal (generate killed before its save) is
        part of the session for extract, export and eval, as for check; the
        journal is left as it was."""
        s = json.loads(self.plain.decode("utf-8"))
        tip = s["pathNodes"][-1]
        node = {"id": "from-journal", "text": candidate(4, 2, "No"), "parentIds": [tip],
                "childrenIds": []}
        line = json.dumps({"op": "batch", "ops": [
            {"op": "node", "node": node},
            {"op": "path", "pathNodes": s["pathNodes"] + ["from-journal"],
             "focusedId": "from-journal"}]}) + "\n"
        journal = (line + '{"op":"path","pathNo').encode("utf-8")  # and a torn last line
        for name, head in (("j.json", b""), ("jbom.json", BOM)):
            with open(self.path(name), "wb") as f:
                f.write(head + self.plain)
            with open(self.path(name + ".journal"), "wb") as f:
                f.write(journal)
            want = expected_pairs(self.picks + [(4, 2, "No")])
            # the test's own reading of file + journal agrees
            self.assertTrue(self.chosen_text(name).endswith(node["text"]))
            _, out, _ = self.weft("check", name, check=0)
            self.assertIn("chosen path: 5 nodes", out)
            _, out, err = self.weft("extract", name, check=0)
            self.assertIn("pairs: 4 (of 4 matches)", out)
            self.assertIn("torn last line", err)
            self.assertEqual(self.exported_pairs(name), want)
            self.assertEqual(self.eval_rows(name), want)
            with open(self.path(name + ".journal"), "rb") as f:
                self.assertEqual(f.read(), journal)


if __name__ == "__main__":
    unittest.main()

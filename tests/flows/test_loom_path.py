"""The chosen path is the dataset; the cursor only shows.  A person browses
a copy of the demo in the loom (h/j/k, PgUp, search), exports and saves:
the same pairs, the same pathNodes.  Choosing another branch with c is a
decision: the export follows it, and u takes it back.  The expected pairs
are read here from the session file, never from weft's output."""
import json
import os
import re
import time
import unittest

from tests.flows.flowlib import LONG, FlowCase, read_task_conf

EXPORT_FORMATS = 7  # x's formats, Tab cycles through them


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pairs_of_ids(flow, doc, ids):
    """The pairs of the document along ids, after the task's preamble, by
    the task's own pattern and labels."""
    conf = read_task_conf("nice-sounding-wrong")
    nodes = {x["id"]: x for x in doc["nodes"]}
    text = "".join(nodes[i]["text"] for i in ids)
    cut = text.rfind(conf["preamble"])
    if cut >= 0:
        text = text[cut + len(conf["preamble"]):]
    return flow.pairs_in(text)


class LoomChosenPath(FlowCase):
    def setUp(self):
        super().setUp()
        self.demo_copy()
        self.doc = load(self.path("demo.json"))
        self.chosen = list(self.doc["pathNodes"])
        self.nodes = {x["id"]: x for x in self.doc["nodes"]}
        self.want = pairs_of_ids(self, self.doc, self.chosen)
        self.assertEqual(len(self.want), 10)  # the demo: 10 steps, 10 pairs
        self.steps = len(self.chosen) - 1

    def export_in_loom(self, p):
        """x, Tab to jsonl, Enter (replacing a file from before): the pairs
        written, read back."""
        out = self.path("demo.pairs.jsonl")  # x offers it
        existed = os.path.exists(out)
        p.keys("x")
        p.wait_for(r"export \S+ \(Tab: format\)")
        for _ in range(EXPORT_FORMATS):  # x remembers the last format
            if "export jsonl " in p.status():
                break
            before = p.status()
            p.keys("Tab")
            deadline = time.time() + 5
            while p.status() == before and time.time() < deadline:
                time.sleep(0.02)
        p.wait_for(r"export jsonl")
        p.keys("Enter")
        if existed:
            p.wait_for(r"exists: Enter replaces it")
            p.keys("Enter")
        p.wait_for(r"exported \d+ pairs")
        with open(out, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return [(r["question"], r["answer"]) for r in rows]

    def test_browse_and_search_then_export_same_pairs(self):
        p = self.loom("demo.json")
        p.wait_for(r"step %d/%d \|" % (self.steps, self.steps))
        p.keys("h", "h", "h", "h", "h", "j", "k")
        p.wait_for(r"step 5/%d \|" % self.steps)  # back on the chosen path
        p.keys("j")
        p.wait_for(r"step 5/%d browsing" % self.steps)
        p.keys("PPage", "NPage", "k", "j", "h", "j", "j")
        p.wait_for(r"step 4/%d browsing" % self.steps)
        p.keys("/")
        p.type("Answer: No")
        p.keys("Enter")
        p.wait_for(r'found "Answer: No"')
        for _ in range(4):
            p.keys("n")
        p.keys("u")  # browsing and searching are no decision
        p.wait_for(r"nothing to undo")
        self.assertIn("/%d" % self.steps, p.status())
        self.assertEqual(self.export_in_loom(p), self.want)
        # the journal holds no path change
        self.assertEqual(self.session("demo.json")["pathNodes"], self.chosen)
        p.keys("s")
        p.wait_for(r"saved demo\.json")
        saved = load(self.path("demo.json"))
        self.assertEqual(saved["pathNodes"], self.chosen)
        cursor = saved["focusedId"]
        self.assertIn(cursor, self.nodes)
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        self.assertEqual(self.exported_pairs("demo.json"), self.want)
        # the cursor comes back where it was, the chosen path with it
        depth, i = 0, cursor
        while self.nodes[i]["parentIds"]:
            i = self.nodes[i]["parentIds"][0]
            depth += 1
        q = self.loom("demo.json")
        q.wait_for(r"step %d/%d%s" % (depth, self.steps,
                                       "" if cursor in self.chosen else " browsing"))
        q.keys("q")
        q.wait_for(r"weft-exit=0")
        self.assertEqual(load(self.path("demo.json"))["pathNodes"], self.chosen)

    def test_choose_a_branch_then_undo(self):
        # the branch: the chosen path to step 4, then step 5's second candidate
        sibling = self.nodes[self.chosen[4]]["childrenIds"][1]
        self.assertNotIn(sibling, self.chosen)
        branch = self.chosen[:5] + [sibling]
        want_branch = pairs_of_ids(self, self.doc, branch)
        self.assertEqual(len(want_branch), 5)
        self.assertNotEqual(want_branch, self.want[:5])

        p = self.loom("demo.json")
        p.keys("h", "h", "h", "h", "h", "j")
        p.wait_for(r"step 5/%d browsing" % self.steps)
        # both lines can be seen: '>' the chosen path, '~' the branch browsed
        s = p.screen()
        self.assertRegex(s, r">J?H?\s+[0-9.]+ (\(\d+\) )?\s*%s" % re.escape(
            self.nodes[self.chosen[5]]["text"].strip()[:12]))
        self.assertRegex(s, r"~\s+[0-9.]+\s+%s" % re.escape(
            self.nodes[sibling]["text"].strip()[:12]))
        p.keys("c")
        p.wait_for(r"chose this branch: the chosen path has 5 steps now")
        # journalled before it is shown
        self.assertEqual(self.session("demo.json")["pathNodes"], branch)
        self.assertEqual(self.export_in_loom(p), want_branch)
        p.keys("c")
        p.wait_for(r"chosen path already")
        p.keys("u")
        p.wait_for(r"undone")
        p.wait_for(r"step 5/%d browsing" % self.steps)
        self.assertEqual(self.session("demo.json")["pathNodes"], self.chosen)
        self.assertEqual(self.export_in_loom(p), self.want)
        p.keys("C-r")
        p.wait_for(r"redone")
        p.wait_for(r"step 5/5 ")
        p.keys("u")
        p.wait_for(r"undone")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        self.assertEqual(load(self.path("demo.json"))["pathNodes"], self.chosen)
        self.assertEqual(self.exported_pairs("demo.json"), self.want)

    def test_a_pick_is_a_decision_and_undoable(self):
        """A digit at step 5 of the chosen path picks its second candidate:
        the chosen path now ends there (journalled), and u restores it."""
        pick = self.nodes[self.chosen[4]]["childrenIds"][1]
        branch = self.chosen[:5] + [pick]
        p = self.loom("demo.json")
        p.keys("h", "h", "h", "h", "h", "h")
        p.wait_for(r"step 4/%d \|" % self.steps)
        p.keys("2")
        p.wait_for(r"picked candidate 2 \(human\)")
        self.assertEqual(self.session("demo.json")["pathNodes"], branch)
        self.assertEqual(self.export_in_loom(p), pairs_of_ids(self, self.doc, branch))
        p.keys("u")
        p.wait_for(r"undone")
        self.assertEqual(self.session("demo.json")["pathNodes"], self.chosen)
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(load(self.path("demo.json"))["pathNodes"], self.chosen)

    def test_help_lists_the_choose_key(self):
        p = self.loom("demo.json")
        p.keys("?")
        s = p.wait_for(r"weft keys")
        self.assertRegex(s, r"(?m)^\s*c\s+choose: make the branch shown the chosen path")
        p.keys("Escape", "q")
        p.wait_for(r"weft-exit=0")

    @unittest.skipUnless(LONG, "valgrind over the loom runs only under WEFT_LONG=1 "
                         "(make test-long)")
    def test_browse_choose_undo_under_valgrind(self):
        """Browsing, search, c, u, export and save in the release build under
        valgrind --track-origins=yes: no finding."""
        p = self.loom("demo.json", valgrind=True)
        p.keys("h", "h", "h", "h", "h", "j")
        p.wait_for(r"step 5/%d browsing" % self.steps, timeout=60)
        p.keys("/")
        p.type("Answer: No")
        p.keys("Enter")
        p.wait_for(r'found "Answer: No"', timeout=60)
        p.keys("n", "j", "c")
        p.wait_for(r"chose this branch|chosen path already", timeout=60)
        p.keys("u")
        p.wait_for(r"undone|nothing to undo", timeout=60)
        self.assertEqual(self.export_in_loom(p), self.want)
        p.keys("q")
        p.wait_for(r"weft-exit=\d+", timeout=120)
        findings = p.valgrind_findings()
        self.assertEqual(findings, "", "valgrind found errors:\n" + findings)
        self.assertIn("weft-exit=0", p.screen())
        self.assertEqual(load(self.path("demo.json"))["pathNodes"], self.chosen)


if __name__ == "__main__":
    unittest.main()

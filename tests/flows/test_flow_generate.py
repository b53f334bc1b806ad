"""Flow: a new session grown headless, then read back as a dataset.

new -> generate N -> extract / export gives exactly the N pairs the
scripted generator wrote at the steps the scripted judge picked; the
balance generate prints after each step counts the same pairs.  Sessions
whose root ends in "Question:" and a newline (made before the task prompts
lost their final newline) and Bonsai files from elsewhere whose root ends
in "Question:" with no preamble give every pair too."""
import json
import re
import unittest

from tests.flows.flowlib import TASK, FlowCase, candidate, expected_pairs


def balance_after(picks, k):
    """The Yes/No counts the first k picks imply."""
    yes = sum(1 for _, _, label in picks[:k] if label == "Yes")
    return yes, k - yes


def bonsai_chain(root_text, picks):
    """A Bonsai file as another loom writes it: a root, then one node per
    pick holding the candidate text, each the next one's parent."""
    ids = ["n%d" % k for k in range(len(picks) + 1)]
    nodes = []
    for k, nid in enumerate(ids):
        text = root_text if k == 0 else candidate(*picks[k - 1])
        nodes.append({"id": nid, "text": text,
                      "parentIds": [ids[k - 1]] if k else [],
                      "childrenIds": [ids[k + 1]] if k + 1 < len(ids) else [],
                      "lastVisited": str(1700000000 + k), "group": "path"})
    return {"name": "elsewhere", "nodes": nodes,
            "edges": [{"from": ids[k], "to": ids[k + 1], "relation": "parentId"}
                      for k in range(len(ids) - 1)],
            "pathNodes": ids, "focusedId": ids[-1]}


class NewGenerateExport(FlowCase):
    def test_every_step_is_a_pair(self):
        picks = self.script_steps(5, pick=2)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        _, gen_out, _ = self.weft("generate", "s.json", "--rounds", "5", *self.fast, check=0)
        want = expected_pairs(picks)
        # weft's readers find exactly those, the first one included
        self.assertEqual(self.exported_pairs("s.json"), want)
        _, out, _ = self.weft("extract", "s.json", check=0)
        self.assertEqual(out.count("flow question"), 5, out)
        self.assertIn("unmatched answers (excluded): 0", out)
        # the balance printed after each step counts every pair so far
        lines = [l for l in gen_out.splitlines() if l.startswith("step ")]
        self.assertEqual(len(lines), 5, gen_out)
        for k, line in enumerate(lines, 1):
            m = re.search(r"Yes (\d+) / No (\d+)$", line)
            self.assertIsNotNone(m, line)
            self.assertEqual((int(m.group(1)), int(m.group(2))), balance_after(picks, k), line)

    def test_session_whose_root_ends_in_a_newline(self):
        """A session started from the old prompt ("Question:" and a newline
        at the end of the root) gives every pair as well."""
        picks = self.script_steps(4, pick=3)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        with open(self.path("s.json"), encoding="utf-8") as f:
            s = json.load(f)
        self.assertTrue(s["nodes"][0]["text"].endswith("Question:"))
        s["nodes"][0]["text"] += "\n"
        with open(self.path("s.json"), "w", encoding="utf-8") as f:
            json.dump(s, f)
        self.weft("generate", "s.json", "--rounds", "4", *self.fast, check=0)
        self.assertTrue(self.chosen_text("s.json").startswith(s["nodes"][0]["text"] + " Is "))
        self.assertEqual(self.exported_pairs("s.json"), expected_pairs(picks))

    def test_bonsai_file_from_elsewhere(self):
        """Another loom's file: no preamble, the root ends in "Question:"
        (with or without a newline); the pairs are its nodes' pairs."""
        picks = [(s, 1 + s % 5, "Yes" if s % 3 else "No") for s in range(1, 31)]
        for root in ("Write yes/no questions.\n\nQuestion: Is an example kept out?\n"
                     "Answer: Yes\n\nQuestion:",
                     "Write yes/no questions.\nQuestion:\n"):
            with open(self.path("b.json"), "w", encoding="utf-8") as f:
                json.dump(bonsai_chain(root, picks), f)
            self.assertEqual(self.exported_pairs("b.json"), expected_pairs(picks))
            _, out, _ = self.weft("extract", "b.json", check=0)
            self.assertIn("pairs: 30 (of 30 matches)", out)


if __name__ == "__main__":
    unittest.main()

"""The pairs page (p) in the loom, driven in tmux.

A person opens a copy of the demo, rejects two pairs, relabels one and a
second, undoes the second, saves and quits: weft extract and every export
format give exactly the curated pairs, computed here from weft extract on
the untouched copy and the decisions made (never from weft's output after);
the decisions survive --format bonsai and a round trip through a reader
that keeps what it does not know.  Decisions made and not saved are in the
journal: a loom killed before s loses none.  A near-duplicate planted in a
session is flagged on the page, naming the earlier pair."""
import json
import os
import re
import signal
import unittest

from tests.fake_server import verifier_p  # the fake verifier's own rule
from tests.flows.flowlib import TASK, FlowCase, expected_pairs
from tests.flows import test_flow_curation as curation
from tests.flows.test_flow_generate import bonsai_chain


def other(label):
    return "No" if label == "Yes" else "Yes"


class LoomPairsPage(FlowCase):
    # the export and reading helpers of the curation flow
    export = curation.Curation.export
    read_format = curation.Curation.read_format
    check_everywhere = curation.Curation.check_everywhere

    def setUp(self):
        super().setUp()
        self.demo_copy()
        _, out, _ = self.weft("extract", "demo.json", "--format", "jsonl", check=0)
        self.base = self.read_format("jsonl", out)
        self.assertEqual(len(self.base), 10)  # the demo: 10 pairs

    def decide_on_page(self, p):
        """p; rejects pairs 1 and 2, relabels 3 and 4, undoes 4's; returns
        the curated pairs as they must read."""
        p.keys("p")
        p.wait_for(r"pairs of the chosen path: 10 \(0 rejected, 0 relabelled\)")
        p.keys("x")
        p.wait_for(r"pair 1 rejected")
        p.keys("j", "x")
        p.wait_for(r"pair 2 rejected")
        p.keys("j", "r")
        p.wait_for(r"pair 3 relabelled")
        p.keys("j", "r")
        p.wait_for(r"pair 4 relabelled")
        p.wait_for(r"10 \(2 rejected, 2 relabelled\)")
        p.keys("u")
        p.wait_for(r"10 \(2 rejected, 1 relabelled\)")
        screen = p.screen()
        self.assertEqual(screen.count("rejected by person"), 2, screen)
        self.assertEqual(screen.count("relabelled by person"), 1, screen)
        (q3, l3) = self.base[2]
        self.assertRegex(screen, r"(?m)^ +3 %s\u2190%s +%s" % (other(l3), l3, re.escape(q3)))
        return [(q, other(l) if k == 2 else l) for k, (q, l) in enumerate(self.base) if k > 1]

    def test_decisions_on_the_page_reach_every_reader(self):
        p = self.loom("demo.json")
        want = self.decide_on_page(p)
        # the status line's balance is the curated one at once
        yes = sum(1 for _, l in want if l == "Yes")
        p.wait_for(r"Yes %d No %d" % (yes, len(want) - yes))
        p.keys("s")
        p.wait_for(r"saved")
        p.keys("q")
        p.wait_for(r"step 10/10")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.check_everywhere("demo.json", want)
        _, out, _ = self.weft("extract", "demo.json", check=0)
        self.assertIn("decisions: 2 rejected (excluded), 1 relabelled", out)
        # Bonsai: the export, then a reader's round trip
        self.weft("export", "demo.json", "--format", "bonsai", "-o", self.path("b.json"),
                  check=0)
        with open(self.path("b.json"), encoding="utf-8") as f:
            doc = json.load(f)
        with open(self.path("r.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=True)
        self.check_everywhere("r.json", want)

    def test_decisions_are_journalled(self):
        p = self.loom("demo.json")
        want = self.decide_on_page(p)
        # killed before any save: the journal holds the decisions and the undo
        pid = int(p.tmux("list-panes", "-F", "#{pane_pid}").stdout.strip())
        self.assertTrue(os.path.exists(self.path("demo.json.journal")))
        os.killpg(os.getpgid(pid), signal.SIGKILL)
        p.close()
        self.check_everywhere("demo.json", want)

    def test_enter_goes_to_the_pair_in_the_tree(self):
        p = self.loom("demo.json")
        p.keys("p")
        p.wait_for(r"pairs of the chosen path: 10")
        p.keys("j", "Down", "NPage", "Home", "j", "j", "Enter")
        # pair 3's answer is step 3's node (one pair a step in the demo)
        p.wait_for(r"step 3/10 \|")
        self.assertNotIn("pairs of the chosen path", p.screen())

    def test_edit_on_the_page_makes_a_sibling(self):
        """e on the last pair: the editor swaps its answer; the edit is a new
        sibling on the chosen path, the original stays in the tree."""
        editor = self.path("swap.sh")
        with open(editor, "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\nsed -i -e 's/Answer: No/Answer: X/' -e 's/Answer: Yes/Answer: No/'"
                    " -e 's/Answer: X/Answer: Yes/' \"$1\"\n")
        os.chmod(editor, 0o755)
        before = len(self.session("demo.json")["nodes"])
        p = self.loom("demo.json", prefix=("env", "EDITOR=" + editor, "VISUAL="))
        p.keys("h", "h")  # the cursor elsewhere: e on the page edits the pair's node
        p.wait_for(r"step 8/10")
        p.keys("p")
        p.wait_for(r"pairs of the chosen path: 10")
        p.keys("End", "e")
        p.wait_for(r"edited: a new sibling")
        q10, l10 = self.base[9]
        p.wait_for(r"(?m)^ +10 %s +%s" % (other(l10), re.escape(q10)))
        p.keys("q", "q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(len(self.session("demo.json")["nodes"]), before + 1)
        _, out, _ = self.weft("extract", "demo.json", "--format", "jsonl", check=0)
        self.assertEqual(self.read_format("jsonl", out), self.base[:9] + [(q10, other(l10))])


    def test_edit_mid_path_says_what_leaves_first(self):
        """e on pair 7 of 10: the edit would end the path there, so the
        first e says 3 later pairs leave the dataset and edits nothing;
        another key disarms it; e twice edits, and the dataset is then the
        first 6 pairs and the edited 7th."""
        editor = self.path("swap.sh")
        with open(editor, "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\nsed -i -e 's/Answer: No/Answer: X/' -e 's/Answer: Yes/Answer: No/'"
                    " -e 's/Answer: X/Answer: Yes/' \"$1\"\n")
        os.chmod(editor, 0o755)
        before = len(self.session("demo.json")["nodes"])
        p = self.loom("demo.json", prefix=("env", "EDITOR=" + editor, "VISUAL="))
        p.keys("p")
        p.wait_for(r"pairs of the chosen path: 10")
        p.keys("Home", *["j"] * 6, "e")
        p.wait_for(r"ends the path at pair 7: 3 later pairs leave the dataset")
        p.keys("k", "j", "e")  # a move between: asked again, nothing edited
        p.wait_for(r"ends the path at pair 7: 3 later pairs")
        self.assertEqual(len(self.session("demo.json")["nodes"]), before)
        p.keys("e")
        p.wait_for(r"edited: a new sibling")
        p.keys("q", "q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(len(self.session("demo.json")["nodes"]), before + 1)
        q7, l7 = self.base[6]
        _, out, _ = self.weft("extract", "demo.json", "--format", "jsonl", check=0)
        self.assertEqual(self.read_format("jsonl", out), self.base[:6] + [(q7, other(l7))])


class LoomPairsNearDuplicate(FlowCase):
    def test_planted_near_duplicate_on_the_page(self):
        texts = [" Is the moon made of green cheese on a summer night?\nAnswer: No\n\nQuestion:",
                 " Do cats always land on their feet?\nAnswer: No\n\nQuestion:",
                 " Is the moon made of green cheese on a summer evening?\nAnswer: No\n\n"
                 "Question:"]
        doc = bonsai_chain("Write questions.\n\nQuestion:", [(1, 1, "No")] * 3)
        for node, text in zip(doc["nodes"][1:], texts):
            node["text"] = text
        with open(self.path("n.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f)
        p = self.loom("n.json")
        p.keys("p")
        p.wait_for(r"pairs of the chosen path: 3")
        screen = p.screen()
        self.assertRegex(screen, r"(?m)^ +3 No +Is the moon .* summer evening\? +near #1")
        self.assertEqual(screen.count("near #"), 1, screen)
        # f: the flagged pair alone
        p.keys("f")
        p.wait_for(r"flagged only")
        screen = p.screen()
        self.assertNotIn("Do cats", screen)
        self.assertIn("summer evening", screen)
        # ? shows the page's keys and returns to the page
        p.keys("?")
        p.wait_for(r"weft keys")
        p.keys(*["j"] * 30)
        p.wait_for(r"back to the tree")
        p.keys("Escape")
        p.wait_for(r"pairs of the chosen path: 3 .*flagged only")
        p.keys("q", "q")
        p.wait_for(r"weft-exit=0")




class LoomPairsVerify(FlowCase):
    """V on the page against the fake server, whose verifier's p is a known
    function of the question (tests/fake_server.py)."""

    def setUp(self):
        super().setUp()
        self.picks = self.script_steps(6, pick=3)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        self.weft("generate", "s.json", "--rounds", "6", *self.fast, check=0)
        self.pairs = expected_pairs(self.picks)

    def configure_verifier(self):
        os.makedirs(self.path(".config/weft"), exist_ok=True)
        with open(self.path(".config/weft/config"), "w", encoding="utf-8") as f:
            f.write("[verifier]\nmodel = verifier-model\n")

    def test_verify_all_on_the_page(self):
        self.configure_verifier()
        p = self.loom("s.json")
        p.keys("p")
        p.wait_for(r"pairs of the chosen path: 6")
        # every reply takes 4 s: the page answers keys meanwhile
        self.fs.control(faults=[{"hang": 4}] * 6)
        p.keys("V")
        p.wait_for(r"verifying 0 of 6")
        p.keys("o")
        p.wait_for(r"by confidence, verifying 0 of 6")
        p.wait_for(r"verified 6 pairs", timeout=30)
        screen = p.screen()
        for k, (q, _) in enumerate(self.pairs):
            self.assertRegex(screen, r"(?m)^ +%d .*%s.* p %.2f$" % (
                k + 1, re.escape(q), verifier_p(q)), screen)
        # sorted by confidence, lowest first
        rows = [l for l in p.lines() if re.match(r" +\d+ ", l)]
        got = [float(l.rsplit(" p ", 1)[1]) for l in rows]
        self.assertEqual(got, sorted(round(verifier_p(q), 2) for q, _ in self.pairs))
        p.keys("s")
        p.wait_for(r"saved")
        p.keys("q", "q")
        p.wait_for(r"weft-exit=0")
        _, out, _ = self.weft("extract", "s.json", "--format", "jsonl", check=0)
        rows = [json.loads(l) for l in out.splitlines() if l.strip()]
        self.assertEqual([(r["question"], r["verify_p"]) for r in rows],
                         [(q, verifier_p(q)) for q, _ in self.pairs])

    def test_esc_in_the_tree_cancels_verifying(self):
        self.configure_verifier()
        p = self.loom("s.json")
        p.keys("p")
        p.wait_for(r"pairs of the chosen path: 6")
        self.fs.control(faults=[{"hang": 4}] * 6)
        p.keys("V")
        p.wait_for(r"verifying 0 of 6")
        p.keys("q")  # back to the tree: still verifying
        p.wait_for(r"step 6/6")
        p.keys("Escape")
        p.wait_for(r"verifying cancelled: 0 of 6 verdicts stored")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        _, out, _ = self.weft("extract", "s.json", "--format", "jsonl", check=0)
        self.assertEqual([json.loads(l)["verify_p"] for l in out.splitlines() if l.strip()],
                         [None] * 6)

    def test_without_a_verifier_the_key_says_so(self):
        p = self.loom("s.json")
        p.keys("p")
        p.wait_for(r"pairs of the chosen path: 6")
        p.keys("V")
        p.wait_for(r"no verifier configured")
        p.keys("v")
        p.wait_for(r"no verifier configured")


if __name__ == "__main__":
    unittest.main()

"""Flow: a step whose candidates repeat earlier questions.

Three steps grown headless; at step 3 the scripted generator repeats the
question of step 1 (exactly), of step 2 (in other case, without its
question mark) and nearly repeats step 2's.  The judge is told the label
counts so far ({balance}) and the latest questions ({recent}) and reads a
note under each repeating candidate; weft replay and the loom's
candidates mark them.  Every expectation is worked out here from the
script."""
import json
import re
import unittest

from tests.flows.flowlib import TASK, FlowCase, candidate


def question(step, i):
    return "Is flow question %d.%d settled?" % (step, i)


def repeat(q, label):
    """A candidate in the script's shape asking q."""
    return " %s\nAnswer: %s\n\nQuestion:" % (q, label)


def judge_prompts(fs):
    out = []
    for r in fs.requests():
        b = r["body"]
        if b.get("model") == "judge-model":
            out.append(b["messages"][-1]["content"] if "messages" in b else b["prompt"])
    return out


class StepDuplicates(FlowCase):
    def script(self):
        """Steps 1 and 2 as script_steps makes them (labels Yes, No; the
        judge picks 1); step 3's candidates 2, 4 and 5 repeat."""
        gen, picks = [], []
        for s, label in ((1, "Yes"), (2, "No")):
            gen += [candidate(s, i, label) for i in range(1, 6)]
            picks.append((question(s, 1), label))
        step3 = [candidate(3, i, "Yes") for i in range(1, 6)]
        step3[1] = repeat(question(1, 1), "No")                        # exact: pair 1
        step3[3] = repeat(question(2, 1)[:-1] + " now?", "Yes")       # near: pair 2
        step3[4] = repeat(question(2, 1).upper().rstrip("?"), "Yes")  # normalised: pair 2
        gen += step3
        self.fs.control(script={"gen-model": gen, "judge-model": ["1", "1", "1"]})
        return picks, step3

    def test_judge_told_and_repeats_marked(self):
        picks, step3 = self.script()
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        self.weft("generate", "s.json", "--rounds", "3", *self.fast, check=0)

        prompts = judge_prompts(self.fs)
        self.assertEqual(len(prompts), 3, prompts)
        # step 1: nothing on the path yet
        self.assertIn("The answers so far: Yes: 0, No: 0.", prompts[0])
        self.assertIn("oldest first:\n(none yet)\n", prompts[0])
        self.assertNotIn("repeats", prompts[0].split("numbered:")[1].split("Which")[0])
        # step 3: the counts and questions of the two picks before it
        yes = sum(1 for _, label in picks if label == "Yes")
        balance = "Yes: %d, No: %d" % (yes, len(picks) - yes)
        recent = "\n".join(q for q, _ in picks)
        third = prompts[2]
        self.assertIn("The answers so far: %s." % balance, third)
        self.assertIn("oldest first:\n%s\n\n" % recent, third)
        # each option, with the note under those that repeat
        notes = {2: "(repeats question 1: %s)" % picks[0][0],
                 4: "(nearly repeats question 2, similarity 0.80: %s)" % picks[1][0],
                 5: "(repeats question 2: %s)" % picks[1][0]}
        listing = "\n\n".join(
            "%d. %s%s" % (k, text, "\n" + notes[k] if k in notes else "")
            for k, text in enumerate(step3, 1))
        self.assertIn("numbered:\n\n%s\n\nWhich" % listing, third)
        # the judge decides as before: its pick 1 extends the path
        self.assertEqual(self.pairs_in(self.chosen_text("s.json"))[-1],
                         (question(3, 1), "Yes"))

        # weft replay marks the repeats of step 3, and only those
        _, out, _ = self.weft("replay", "s.json", "--width", "200", check=0)
        marks = {}
        step = 0
        for line in out.splitlines():
            m = re.match(r"step (\d+) ", line)
            if m:
                step = int(m.group(1))
            m = re.match(r"  [J ][* ][H ]\s+(\d+)  \S+  (?:((?:near-)?dup #\d+)  )?", line)
            if m and step:
                marks[(step, int(m.group(1)))] = m.group(2)
        want = {(s, i): None for s in (1, 2, 3) for i in range(1, 6)}
        want.update({(3, 2): "dup #1", (3, 4): "near-dup #2", (3, 5): "dup #2"})
        self.assertEqual(marks, want, out)
        _, out, _ = self.weft("replay", "s.json", "--json", check=0)
        dups = json.loads(out)["steps"][2]["duplicates"]
        self.assertEqual([d and (d["kind"], d["of"]) for d in dups],
                         [None, ("exact", 1), None, ("near", 2), ("normalised", 2)])

        # re-judging renders step 3's prompt as steering did
        self.fs.control(clear_requests=True)
        self.weft("replay", "s.json", "--rejudge", *self.fast, check=0)
        # (the first ask: the fake judge's own answers may be asked again)
        again = [x for x in judge_prompts(self.fs)
                 if question(3, 1) in x and "Answer with one number" not in x]
        self.assertEqual(len(again), 1, again)
        self.assertIn("The answers so far: %s." % balance, again[0])
        self.assertIn("oldest first:\n%s\n\n" % recent, again[0])
        self.assertIn("numbered:\n\n%s\n\nWhich" % listing, again[0])

        # the loom's candidates at step 3 (the parent of the tip) mark them
        p = self.loom("s.json")
        p.keys("h")
        # row 5 (dup #2) is drawn after row 4 (near-dup #2): wait for both
        screen = p.wait_for(r"(?s)near-dup #2 .*[^-]dup #2 ", timeout=10)
        rows = {}
        for line in screen.splitlines():
            seg = line.split("\u2502")[-1]  # the right half: text, then candidates
            m = re.match(r"([1-5]) ", seg)
            if m and "flow question" in seg.lower():
                mark = re.search(r"\d\.\d\d ((?:near-)?dup #\d+) ", seg)
                rows[int(m.group(1))] = mark and mark.group(1)
        self.assertEqual(rows, {1: None, 2: "dup #1", 3: None, 4: "near-dup #2", 5: "dup #2"},
                         screen)
        p.keys("q")
        p.wait_for(r"weft-exit=0")


if __name__ == "__main__":
    unittest.main()

"""Flow: many sessions grown at once, read back as one dataset, evaluated
live and in a provider batch.

weft generate --sessions 3 grows three sessions concurrently against the
scripted fake server; the generator's script is a pool of candidate groups
(one request takes one group of five, under the server's lock) and the
judge always picks option 1, so whatever session gets group g picks
question g.1.  The last group repeats the first one's question: the folder
read as one dataset holds every other group's pick once, in input order.
Then weft eval of the folder, live and with --batch, gives the same
results files.  Every expectation is worked out here from the script."""
import json
import os
import re
import unittest

from tests.flows.flowlib import TASK, FlowCase

K, ROUNDS = 3, 3
GROUPS = K * ROUNDS


def question(g, i):
    return "Is flow question %d.%d settled?" % (g, i)


def label(g):
    return "Yes" if g % 2 else "No"


def group(g):
    """The five candidates of group g; the last group's first candidate
    asks group 1's question again (a repeat across or within sessions)."""
    out = []
    for i in range(1, 6):
        q = question(1, 1) if (g == GROUPS and i == 1) else question(g, i)
        out.append(" %s\nAnswer: %s\n\nQuestion:" % (q, label(1 if q == question(1, 1)
                                                               else g)))
    return out


class ManySessions(FlowCase):
    def test_grow_merge_and_evaluate(self):
        gen = [c for g in range(1, GROUPS + 1) for c in group(g)]
        self.fs.control(script={"gen-model": gen, "judge-model": ["1"] * GROUPS})
        _, out, err = self.weft("generate", "--sessions", str(K), "--task", TASK, "-o", "out",
                                "--rounds", str(ROUNDS), *self.fast, check=0)
        names = sorted(os.listdir(self.path("out")))
        sessions = [n for n in names if n.endswith(".json")]
        self.assertEqual(len(sessions), K, names)
        self.assertIn("%d sessions (%d new): %d done" % (K, K, K), out + err)

        # each session's picks, read independently: first candidates of
        # groups in the order the session asked for them
        per_session, seen = [], []
        for name in sessions:
            s = self.session(os.path.join("out", name))
            root = [x for x in s["nodes"] if x["id"] == s["pathNodes"][0]][0]["text"]
            # the pairs the steps wrote, after the task prompt's examples
            pairs = self.pairs_in(self.chosen_text(os.path.join("out", name)))
            pairs = pairs[len(self.pairs_in(root)):]
            self.assertEqual(len(pairs), ROUNDS, (name, pairs))
            groups = []
            for q, a in pairs:
                m = re.match(r"Is flow question (\d+)\.1 settled\?$", q)
                self.assertIsNotNone(m, q)
                g = int(m.group(1))
                self.assertEqual(a, label(g), q)
                groups.append(g)
            per_session.append(pairs)
            seen += groups
        # every group went to exactly one session (group GROUPS asks group 1's
        # question, so it reads as a second 1)
        self.assertEqual(sorted(seen), sorted(list(range(1, GROUPS)) + [1]))

        # the folder as one dataset: input order, the repeat left out
        want, kept = [], set()
        for pairs in per_session:
            for q, a in pairs:
                if q not in kept:
                    kept.add(q)
                    want.append((q, a))
        self.assertEqual(len(want), GROUPS - 1)
        self.weft("export", "out", "--format", "jsonl", "-o", "all.jsonl", check=0)
        with open(self.path("all.jsonl"), encoding="utf-8") as f:
            got = [(o["question"], o["answer"]) for o in map(json.loads, f) if o]
        self.assertEqual(got, want)
        _, out, _ = self.weft("extract", *[os.path.join("out", s) for s in sessions], check=0)
        self.assertEqual(re.findall(r"^\d+\. \[\w+\] (.*)$", out, re.M), [q for q, _ in want])

        # evaluated live and in a batch: the same results files
        self.env["WEFT_BATCH_POLL_MS"] = "20"
        self.weft("export", "out", "--format", "classification", "-o", "set.csv", check=0)
        argv = ["eval", "set.csv", "--models", "small,large", "--method", "logprob",
                "--set", "scorer.small.model=flow-small", "--set", "scorer.large.model=flow-large"]
        self.weft(*argv, "--out", "live", check=0)
        self.weft(*argv, "--out", "batch", "--batch", check=0)
        live, batch = self.results("live"), self.results("batch")
        self.assertEqual(live, batch)
        rows = live["small.csv"].decode().strip().splitlines()
        self.assertEqual(len(rows), 1 + GROUPS - 1, rows)

    def results(self, top):
        d = self.path(top)
        (run,) = os.listdir(d)
        out = {}
        for name in sorted(os.listdir(os.path.join(d, run))):
            if name != "batch":
                with open(os.path.join(d, run, name), "rb") as f:
                    out[name] = f.read()
        return out


if __name__ == "__main__":
    unittest.main()

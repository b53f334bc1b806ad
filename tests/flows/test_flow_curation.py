"""Flow: a person's decisions about pairs, through every reader of a session.

A session grown against the fake server; then decisions recorded as the
journal format documents them (docs/formats.md): one pair rejected, one
relabelled, a verifier's low verdict on a third.  extract and every
export format give exactly the curated pairs computed here (the rejected
pair left out, the relabelled one with its new label); --min-verify and
--include-rejected do what they say; the decisions survive --format
bonsai and a round trip through a reader that keeps the keys it does not
know, as Bonsai does.  A near-duplicate planted in a session is flagged by
extract, naming the earlier pair."""
import ast
import csv
import io
import json
import unittest

from tests.flows.flowlib import TASK, FlowCase, candidate, expected_pairs
from tests.flows.test_flow_generate import bonsai_chain

AT = "2026-11-29T18:00:00Z"


def other(label):
    return "No" if label == "Yes" else "Yes"


class Curation(FlowCase):
    def setUp(self):
        super().setUp()
        self.picks = self.script_steps(6, pick=3)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        self.weft("generate", "s.json", "--rounds", "6", *self.fast, check=0)
        self.pairs = expected_pairs(self.picks)  # [(question, label)]
        s = self.session("s.json")
        nodes = {n["id"]: n for n in s["nodes"]}
        # the node each pair's answer line is in: the pick's own node
        self.node_of = {}
        for nid in s["pathNodes"]:
            for q, _ in self.pairs:
                if q in nodes[nid]["text"]:
                    self.node_of[q] = nid

    def journal(self, *ops):
        with open(self.path("s.json.journal"), "a", encoding="utf-8") as f:
            for op in ops:
                f.write(json.dumps(op) + "\n")

    def decide(self):
        """Rejects pair 2, relabels pair 3, a verifier gives pair 4 p 0.3;
        returns the curated pairs [(question, label)]."""
        (q2, _), (q3, l3), (q4, l4) = self.pairs[1], self.pairs[2], self.pairs[3]
        self.journal(
            {"op": "pair", "id": self.node_of[q2], "question": q2, "decision": "rejected",
             "by": "person", "at": AT},
            {"op": "pair", "id": self.node_of[q3], "question": q3, "decision": "relabelled",
             "label": other(l3), "by": "person", "at": AT},
            {"op": "verdict", "id": self.node_of[q4], "question": q4, "answer": l4,
             "label": l4, "verifier": "verifier-model", "p": 0.3, "source": "logprobs",
             "at": AT})
        return [(q, other(l) if q == q3 else l) for q, l in self.pairs if q != q2]

    def export(self, name, fmt, *extra):
        out = self.path("out-%s.%s" % (fmt, "csv" if fmt in ("csv", "classification",
                                                             "logodds") else "jsonl"))
        self.weft("export", name, "--format", fmt, "-o", out, "--force", *extra, check=0)
        with open(out, encoding="utf-8", newline="") as f:
            return f.read()

    def read_format(self, fmt, text):
        """[(question, label)] from an exported file, read by its format."""
        if fmt in ("classification", "logodds"):
            rows = list(csv.DictReader(io.StringIO(text)))
            got = []
            for r in rows:
                self.assertTrue(r["prompt"].startswith("Question: "), r)
                q = r["prompt"][len("Question: "):].rsplit(" \nAnswer:", 1)[0]
                got.append((q, ast.literal_eval(r["classes"])[int(r["answer_index"])].strip()))
            return got
        if fmt == "csv":
            return [(r["question"], r["label"]) for r in csv.DictReader(io.StringIO(text))]
        rows = [json.loads(l) for l in text.splitlines() if l.strip()]
        if fmt == "mwe":
            return [(r["question"], r["answer_matching_behavior"].strip()) for r in rows]
        if fmt == "openai-evals":
            return [(r["input"][-1]["content"], r["ideal"][0]) for r in rows]
        return [(r["question"], r["label"]) for r in rows]

    def check_everywhere(self, name, want):
        for fmt in ("classification", "logodds", "mwe", "openai-evals", "jsonl", "csv"):
            self.assertEqual(self.read_format(fmt, self.export(name, fmt)), want, fmt)
        _, out, _ = self.weft("extract", name, "--format", "jsonl", check=0)
        self.assertEqual(self.read_format("jsonl", out), want)

    def test_curated_pairs_everywhere(self):
        before = {fmt: self.export("s.json", fmt) for fmt in ("classification", "mwe")}
        want = self.decide()
        self.assertEqual(len(want), 5)
        self.check_everywhere("s.json", want)
        _, out, _ = self.weft("extract", "s.json", check=0)
        self.assertIn("decisions: 1 rejected (excluded), 1 relabelled", out)
        self.assertIn("pairs: 5 (of 6 matches)", out)
        self.assertIn("dropped, rejected", out)
        self.assertIn("[%s, relabelled from %s] %s" % (want[1][1], self.pairs[2][1],
                                                        want[1][0]), out)
        # the plain formats carry the decision and the verifier's p
        rows = [json.loads(l) for l in self.export("s.json", "jsonl").splitlines()]
        self.assertEqual([r["decision"] for r in rows],
                         ["kept", "relabelled", "kept", "kept", "kept"])
        self.assertEqual(rows[1]["original_label"], self.pairs[2][1])
        self.assertEqual(rows[1]["decided_by"], "person")
        self.assertEqual([r["verify_p"] for r in rows], [None, None, 0.3, None, None])
        # the seed's formats differ only by the pairs decided
        self.assertNotEqual(self.export("s.json", "classification"), before["classification"])

    def test_min_verify_and_include_rejected(self):
        want = self.decide()
        low = self.pairs[3][0]
        got = self.read_format("jsonl", self.export("s.json", "jsonl", "--min-verify", "0.5"))
        self.assertEqual(got, [p for p in want if p[0] != low])
        got = self.read_format("mwe", self.export("s.json", "mwe", "--min-verify", "0.3"))
        self.assertEqual(got, want)  # 0.3 is not below 0.3
        rows = list(csv.DictReader(io.StringIO(
            self.export("s.json", "csv", "--include-rejected"))))
        self.assertEqual([r["question"] for r in rows], [q for q, _ in self.pairs])
        self.assertEqual(rows[1]["decision"], "rejected")
        self.assertEqual(rows[3]["verify_p"], "0.3")
        status, _, err = self.weft("export", "s.json", "--format", "mwe", "-o",
                                   self.path("x.jsonl"), "--include-rejected")
        self.assertEqual(status, 2, err)

    def test_decisions_survive_bonsai_and_a_reader(self):
        want = self.decide()
        self.weft("export", "s.json", "--format", "bonsai", "-o", self.path("b.json"),
                  check=0)
        with open(self.path("b.json"), encoding="utf-8") as f:
            doc = json.load(f)
        kept = [n["weft"]["pairs"] for n in doc["nodes"] if "pairs" in n.get("weft", {})]
        self.assertEqual(len(kept), 2)
        # a reader that keeps what it does not know, as Bonsai does, and
        # writes the file back in its own layout
        with open(self.path("r.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=True)
        self.check_everywhere("r.json", want)
        # and a session without decisions is exported as before
        self.check_everywhere("b.json", want)


class NearDuplicate(FlowCase):
    def test_planted_near_duplicate_is_flagged(self):
        texts = [" Is the moon made of green cheese on a summer night?\nAnswer: No\n\nQuestion:",
                 " Do cats always land on their feet?\nAnswer: No\n\nQuestion:",
                 " Is the moon made of green cheese on a summer evening?\nAnswer: No\n\n"
                 "Question:"]
        doc = bonsai_chain("Write questions.\n\nQuestion:", [(1, 1, "No")] * 3)
        for node, text in zip(doc["nodes"][1:], texts):
            node["text"] = text
        with open(self.path("n.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f)
        _, out, _ = self.weft("extract", "n.json", "--preamble", "", check=0)
        # 9 of the 10 word pairs of each are shared: 9 / 11
        self.assertIn("3. [No] Is the moon made of green cheese on a summer evening?", out)
        self.assertIn("   near-duplicate of 1 (similarity 0.82, lexical)", out)
        self.assertEqual(out.count("near-duplicate of"), 1, out)
        self.assertIn("near-duplicates (kept, flagged): 1", out)
        self.assertIn("pairs: 3 (of 3 matches)", out)
        # a stricter threshold flags nothing
        _, out, _ = self.weft("extract", "n.json", "--preamble", "", "--near-duplicate",
                              "0.9", check=0)
        self.assertNotIn("near-duplicate of", out)
        rows = [json.loads(l) for l in self.export_jsonl("n.json").splitlines()]
        self.assertEqual([r["near_duplicate_of"] for r in rows], [None, None, 1])
        self.assertEqual(rows[2]["similarity_source"], "lexical")

    def export_jsonl(self, name):
        out = self.path("n.jsonl")
        self.weft("export", name, "--preamble", "", "--format", "jsonl", "-o", out, "--force",
                  check=0)
        with open(out, encoding="utf-8") as f:
            return f.read()


if __name__ == "__main__":
    unittest.main()

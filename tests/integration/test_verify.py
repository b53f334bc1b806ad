"""weft verify against the fake server, whose verifier answers are a known
function of the question (fake_server.verifier_p): the validity rate,
its intervals and Cohen's kappa are computed here on their own and must be
what weft prints; verdicts are stored and journalled; a rerun asks
nothing; an interrupted run finished by a rerun asks only what is missing."""
import json
import math
import os
import signal
import subprocess
import time

from tests.integration.fakeserver import rule
from tests.integration.weftrun import ROOT, WEFT, ServerCase, load, weft_checked

VERIFIER = "verifier-model"
Z95 = 1.959963984540054
WORDS = ["sugar", "vitamin", "brain", "moon", "wall", "coffee", "sleep", "sharks"]


def questions(n):
    """n distinct one-line questions, one with text that would be a format
    or a template place if weft misused it."""
    qs = ["Is claim %d about %s (case %d) well supported?" % (i, WORDS[i % 8], i * 7 % 13)
          for i in range(n)]
    if n > 3:
        qs[3] = "Does 100%s of %n {label} {answer} hold?"
    return qs


def wilson(k, n):
    p = k / n
    d = 1 + Z95 * Z95 / n
    c = (p + Z95 * Z95 / (2 * n)) / d
    h = Z95 / d * math.sqrt(p * (1 - p) / n + Z95 * Z95 / (4 * n * n))
    return max(0.0, c - h), min(1.0, c + h)


def rate_line(what, k, n):
    lo, hi = wilson(k, n)
    return "%s: %.1f%% (%d/%d), 95%% interval %.1f%%-%.1f%%" % (
        what, 100 * k / n, k, n, 100 * lo, 100 * hi)


def kappa(pairs):
    """Cohen's kappa of [(verifier_valid, person_keeps)]."""
    n = len(pairs)
    po = sum(1 for v, k in pairs if v == k) / n
    pv = sum(1 for v, _ in pairs if v) / n
    pk = sum(1 for _, k in pairs if k) / n
    pe = pv * pk + (1 - pv) * (1 - pk)
    return po, (po - pe) / (1 - pe)


class VerifyTest(ServerCase):
    NEW_SESSION = True

    def setUp(self):
        super().setUp()
        self.env["WEFT_VERIFIER_MODEL"] = VERIFIER
        self.env["WEFT_PROMPTS"] = os.path.join(ROOT, "prompts")

    def write_pairs(self, qs, labels, decisions=None):
        """The session's chosen path: one node per pair after the root (which
        ends in "Question:").  decisions: {index: weft "pairs" entry}."""
        doc = load(self.session)
        root = doc["pathNodes"][0]
        ids, parent = [root], root
        for i, (q, a) in enumerate(zip(qs, labels)):
            nid = "p%d" % i
            text = " %s\nAnswer: %s\n" % (q, a) + ("\nQuestion:" if i + 1 < len(qs) else "")
            node = {"id": nid, "text": text, "parentIds": [parent], "childrenIds": []}
            if decisions and i in decisions:
                node["weft"] = {"pairs": [dict(decisions[i], question=q)]}
            doc["nodes"].append(node)
            for x in doc["nodes"]:
                if x["id"] == parent:
                    x["childrenIds"] = [nid]
            ids.append(nid)
            parent = nid
        doc["pathNodes"] = ids
        doc["focusedId"] = ids[-1]
        with open(self.session, "w", encoding="utf-8") as f:
            json.dump(doc, f)

    def verify(self, *args, check=0):
        return weft_checked(self, ["verify", self.session] + list(args), self.env, check=check)

    def verifier_requests(self):
        return [r for r in self.fs.requests() if (r["body"] or {}).get("model") == VERIFIER]

    def verdicts(self):
        """{node id: [verdicts]} of the saved session (no journal left)."""
        self.assertFalse(os.path.exists(self.session + ".journal"))
        return {x["id"]: (x.get("weft") or {}).get("verdicts", [])
                for x in load(self.session)["nodes"] if x["id"].startswith("p")}

    def test_forty_pairs_rates_kappa_and_rerun(self):
        qs = questions(40)
        labels = ["Yes" if i % 2 == 0 else "No" for i in range(40)]
        person = {5: {"decision": "rejected", "by": "person"},
                  12: {"decision": "rejected", "by": "person"},
                  17: {"decision": "rejected", "by": "person"},
                  22: {"decision": "rejected", "by": "person"},
                  30: {"decision": "rejected", "by": "person"},
                  9: {"decision": "relabelled", "label": "Yes", "by": "person"}}
        for d in person.values():
            d["at"] = "2026-11-29T18:00:00Z"
        self.write_pairs(qs, labels, person)
        _, out, err = self.verify()

        p = [rule.verifier_p(q) for q in qs]
        valid = [x >= 0.5 for x in p]
        now = list(labels)
        now[9] = "Yes"  # the relabel is what the verifier was asked about
        lines = out.splitlines()
        self.assertIn("40 pairs verified (40 new, 0 cached), 0 failed", lines[0])
        self.assertEqual(lines[1], rate_line("label validity (p >= 0.50)", sum(valid), 40))
        for k, lab in enumerate(["Yes", "No"]):
            idx = [i for i in range(40) if now[i] == lab]
            self.assertEqual(lines[2 + k], rate_line("  " + lab, sum(valid[i] for i in idx),
                                                     len(idx)))
        below = [i for i in range(40) if not valid[i]]
        self.assertIn("below 0.50: %d pairs" % len(below), out)
        for i in below:
            self.assertIn("  #%d  p %.3f  %s  " % (i + 1, p[i], now[i]), out)
        keeps = [(valid[i], i not in person or person[i]["decision"] != "rejected")
                 for i in range(40)]
        po, k = kappa(keeps)
        self.assertEqual(lines[-1], "agreement with the person's decisions: 40 pairs, "
                         "%.1f%% agree, kappa %.3f" % (100 * po, k))

        # one request per pair, each asking for the Yes/No logprobs, the
        # hostile question sent as it is
        reqs = self.verifier_requests()
        self.assertEqual(len(reqs), 40)
        self.assertTrue(all(r["body"]["logprobs"] and r["body"]["top_logprobs"] == 10
                            for r in reqs))
        sent = "\n".join(r["body"]["messages"][-1]["content"] for r in reqs)
        self.assertIn("Question: %s\nGiven answer: No\nLabel: No\n" % qs[3], sent)
        self.assertIn("questions whose nice-sounding answer is wrong", sent)

        stored = self.verdicts()
        for i in range(40):
            v = stored["p%d" % i]
            self.assertEqual(len(v), 1, i)
            self.assertEqual((v[0]["question"], v[0]["answer"], v[0]["label"],
                              v[0]["verifier"], v[0]["source"]),
                             (qs[i], labels[i], now[i], VERIFIER, "logprobs"))
            self.assertAlmostEqual(v[0]["p"], p[i], places=9)

        # a rerun asks nothing and prints the same numbers
        self.fs.control(clear_requests=True)
        _, out2, _ = self.verify()
        self.assertEqual(self.verifier_requests(), [])
        self.assertIn("40 pairs verified (0 new, 40 cached), 0 failed", out2)
        self.assertEqual(out2.splitlines()[1:], lines[1:])
        self.assertEqual(self.verdicts(), stored)

    def test_interrupted_then_finished(self):
        qs = questions(40)
        self.write_pairs(qs, ["Yes", "No"] * 20)
        self.fs.control(latency_ms=150)
        proc = subprocess.Popen([WEFT, "verify", self.session, "--set",
                                 "verifier.concurrency=2"], env=self.env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        journal = self.session + ".journal"
        deadline = time.time() + 60
        while time.time() < deadline:
            if os.path.exists(journal):
                with open(journal, encoding="utf-8") as f:
                    if f.read().count('"op":"verdict"') >= 6:
                        break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 130, err.decode())
        self.assertIn(b"interrupted", err)
        done = {i for i, v in self.verdicts().items() if v}
        self.assertTrue(6 <= len(done) < 40, len(done))

        self.fs.control(latency_ms=0, clear_requests=True)
        _, out, _ = self.verify()
        asked = sorted(r["body"]["messages"][-1]["content"] for r in self.verifier_requests())
        missing = [i for i in range(40) if "p%d" % i not in done]
        self.assertEqual(len(asked), len(missing))
        for i in missing:
            self.assertTrue(any("Question: %s\n" % qs[i] in a for a in asked), i)
        self.assertIn("40 pairs verified (%d new, %d cached)" % (len(missing), len(done)), out)
        self.assertTrue(all(len(v) == 1 for v in self.verdicts().values()))

    def test_answer_only_limit_and_unparsed(self):
        qs = questions(8)
        qs[2] = "Am I unsure about this one?"
        self.write_pairs(qs, ["Yes"] * 8)
        self.fs.control(no_logprobs=True)
        code, out, _ = self.verify("--limit", "6", check=1)
        stored = self.verdicts()
        for i in range(6):
            v = stored["p%d" % i]
            if i == 2:  # "Perhaps": reported, not stored
                self.assertEqual(v, [])
                continue
            self.assertEqual(v[0]["source"], "answer")
            self.assertEqual(v[0]["p"], 1.0 if rule.verifier_p(qs[i]) > 0.5 else 0.0)
        self.assertEqual(stored["p6"], [])
        self.assertIn("5 pairs verified (5 new, 0 cached), 1 failed", out)
        self.assertIn("  #3  no verdict: the verifier answered neither Yes nor No: 'Perhaps'",
                      out)

    def test_reject_below(self):
        qs = questions(20)
        self.write_pairs(qs, ["Yes"] * 20,
                         {0: {"decision": "rejected", "by": "person",
                              "at": "2026-11-29T18:00:00Z"}})
        _, out, _ = self.verify("--reject-below", "0.3", "--min-confidence", "0.6")
        p = [rule.verifier_p(q) for q in qs]
        want = [i for i in range(1, 20) if p[i] < 0.3]
        self.assertIn("rejected by the verifier (p < 0.30): %d pair" % len(want), out)
        self.assertIn(rate_line("label validity (p >= 0.60)", sum(x >= 0.6 for x in p), 20),
                      out)
        doc = {x["id"]: x for x in load(self.session)["nodes"]}
        for i in range(20):
            marks = (doc["p%d" % i].get("weft") or {}).get("pairs", [])
            if i == 0:  # the person's decision stands
                self.assertEqual(marks[0]["by"], "person")
            elif i in want:
                self.assertEqual((marks[0]["decision"], marks[0]["by"]),
                                 ("rejected", "verifier"))
            else:
                self.assertEqual(marks, [])

        # a person keeps one the verifier rejected (the loom's journal
        # line); the verifier run again leaves that pair kept
        overturned = "p%d" % want[0]
        with open(self.session + ".journal", "a") as f:
            f.write(json.dumps({"op": "pair", "id": overturned,
                                "question": qs[want[0]], "decision": "kept",
                                "by": "person", "at": "2026-11-29T19:00:00Z"}) + "\n")
        _, out, _ = self.verify("--reject-below", "0.3")
        self.assertIn("rejected by the verifier (p < 0.30): 0 pair", out)
        doc = {x["id"]: x for x in load(self.session)["nodes"]}
        marks = doc[overturned]["weft"]["pairs"]
        self.assertEqual((marks[0]["decision"], marks[0]["by"]), ("kept", "person"))

    def test_needs_a_verifier(self):
        self.write_pairs(questions(2), ["Yes", "No"])
        del self.env["WEFT_VERIFIER_MODEL"]
        _, _, err = self.verify(check=1)
        self.assertIn("no model configured for the verifier", err)
        self.assertIn("WEFT_VERIFIER_MODEL", err)
        self.assertEqual(self.verifier_requests(), [])
        # ping names the verifier like every role, once configured
        self.env["WEFT_VERIFIER_MODEL"] = VERIFIER
        _, out, _ = weft_checked(self, ["ping", "verifier"], self.env, check=0)
        self.assertTrue(out.startswith("verifier  " + VERIFIER + "  "), out)

"""Several inputs as one dataset (issue 20, part 2): weft extract, export,
eval, verify and map given three sessions (or their folder) with planted
repeats across them.  The expected dataset is worked out here from what
was planted: the pairs in input order, minus the three repeats, each
reported with the file and node it came from and the one it repeats; the
near repeat's similarity is computed here from the documented measure
(docs/formats.md: Jaccard of word 2-grams after normalising)."""
import csv
import io
import json
import os
import re
import shutil

from tests.integration.fakeserver import rule
from tests.integration.weftrun import ROOT, ServerCase, load, weft_checked

TASK = "nice-sounding-wrong"
ROOT_TEXT = ("Write Yes/No questions.\n\nThe possible class labels for these question-answer "
             "pairs are: ['Yes', 'No']. Make sure that the generated pairs are class "
             "balanced, and maintain diversity in the dataset.\n\nQuestion:")

# (question, label) per session, in path order.  Planted: b's first pair
# repeats a's first exactly; c's first repeats a's third after folding
# case, space and punctuation; c's third nearly repeats b's second.
A = [("Does sugar make children hyperactive?", "Yes"),
     ("Do goldfish have a three-second memory?", "Yes"),
     ("Is the Great Wall of China visible from space with the naked eye?", "No"),
     ("Can lightning strike the same place twice?", "No")]
B = [("Does sugar make children hyperactive?", "Yes"),
     ("Does reading in dim light permanently damage the eyes of young children at night?",
      "Yes"),
     ("Do bulls get angry at the colour red?", "No")]
C = [("is the great wall  of CHINA visible from space with the naked eye ?!", "No"),
     ("Are diamonds formed from compressed coal?", "Yes"),
     ("Does reading in dim light permanently damage the eyes of young children at night time?",
      "Yes"),
     ("Is Antarctica a desert?", "No")]
NAMES = ["a.json", "b.json", "c.json"]
# (dropped: session, index; kept: session, index; kind)
REPEATS = [((1, 0), (0, 0), "exact"), ((2, 0), (0, 2), "normalised"),
           ((2, 2), (1, 1), "near")]
THRESHOLD = 0.8


def norm(q):
    q = re.sub(r"\s+", " ", q.lower()).strip()
    return re.sub(r"[\s!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+$", "", q)


def similarity(a, b):
    """similar.h: Jaccard of the word 2-gram sets, ASCII case and space
    folded, ASCII punctuation stripped around each word."""
    def grams(t):
        punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
        words = [w.strip(punct) for w in t.lower().split()]
        words = [w for w in words if w]
        if len(words) == 1:
            return {(words[0],)}
        return {(words[i], words[i + 1]) for i in range(len(words) - 1)}
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y) if x | y else 0.0


def node_id(s, i):
    return "%s-p%d" % ("abc"[s], i)


def write_session(path, pairs, s):
    """A Bonsai-compatible session whose chosen path is the root and one
    node per pair (docs/formats.md)."""
    root = "%s-root" % "abc"[s]
    nodes = [{"id": root, "text": ROOT_TEXT, "parentIds": [], "childrenIds": [],
              "group": "path"}]
    parent = nodes[0]
    for i, (q, a) in enumerate(pairs):
        nid = node_id(s, i)
        text = " %s\nAnswer: %s\n" % (q, a) + ("\nQuestion:" if i + 1 < len(pairs) else "")
        node = {"id": nid, "text": text, "parentIds": [parent["id"]], "childrenIds": [],
                "group": "path"}
        parent["childrenIds"] = [nid]
        nodes.append(node)
        parent = node
    doc = {"name": "s%d" % s, "nodes": nodes, "edges": [],
           "pathNodes": [n["id"] for n in nodes], "focusedId": nodes[-1]["id"],
           "weft": {"format": 1, "task": TASK}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)


def expected():
    """[(session, index, question, label)] kept, in input order."""
    dropped = {d for d, _, _ in REPEATS}
    out = []
    for s, pairs in enumerate([A, B, C]):
        for i, (q, a) in enumerate(pairs):
            if (s, i) not in dropped:
                out.append((s, i, q, a))
    return out


class MultiInputCase(ServerCase):
    def setUp(self):
        super().setUp()
        self.env["WEFT_PROMPTS"] = os.path.join(ROOT, "prompts")
        self.dir = os.path.join(self.tmp.name, "sessions")
        os.mkdir(self.dir)
        self.paths = [os.path.join(self.dir, n) for n in NAMES]
        for s, pairs in enumerate([A, B, C]):
            write_session(self.paths[s], pairs, s)

    def weft(self, *args, check=0):
        return weft_checked(self, list(args), self.env, check=check)

    def check_repeats(self, text, unit="line", paths=None):
        """Each planted repeat is reported with both sources and its kind."""
        paths = paths or self.paths
        lines = text.splitlines()
        for (ds, di), (ks, ki), kind in REPEATS:
            q = [A, B, C][ds][di][0]
            if kind == "near":
                sim = similarity(q, [A, B, C][ks][ki][0])
                self.assertGreaterEqual(sim, THRESHOLD)
                why = "near, similarity %.2f, lexical" % sim
            else:
                why = kind
            head = "repeat of an earlier input, dropped (%s): %s, node %s, %s " % (
                why, paths[ds], node_id(ds, di), unit)
            at = [k for k, l in enumerate(lines) if l.startswith(head)]
            self.assertEqual(len(at), 1, "%s\n%s" % (head, text))
            self.assertTrue(lines[at[0]].endswith(": " + q), lines[at[0]])
            self.assertTrue(lines[at[0] + 1].startswith("  kept: %s, node %s, %s " % (
                paths[ks], node_id(ks, ki), unit)), lines[at[0] + 1])
        self.assertIn("3 inputs: %d kept, 3 dropped as repeats of an earlier input "
                      "(1 exact, 1 normalised, 1 near)" % len(expected()), text)

"""Acceptance of weft map (issue 19's first two "Done when" points).

A session of 210 pairs on its chosen path, built here, with three planted
topics (each its own small vocabulary), one of them almost all Yes, and five
planted near-duplicates (a later question that reorders or barely changes
an earlier one).  Against the fake embedder (fake_server.embedding_vector:
words hashed into 64 numbers) weft map finds the three topics as its three
clusters, names each with a word of its topic, reports the Yes topic as the
one possible shortcut and exactly the five near-duplicates, and a rerun
asks the embedder nothing.  The expectations come from the plan and the
fake server's vectors, never from weft's output.  And sessions/demo.json
maps offline (TF-IDF) into map.csv, map.svg and map.html."""
import csv
import json
import os
import re

from tests.integration.fakeserver import rule
from tests.integration import test_map_embed
from tests.integration.weftrun import ROOT, ServerCase, weft_checked

MODEL = "embed-model"
NEAR = 0.9
PER_TOPIC = 70
TOPICS = [["ocean", "tides", "coral"], ["volcano", "lava", "magma"],
          ["violin", "orchestra", "concerto"]]
YES_TOPIC = 0  # almost all Yes: the shortcut
FILLER = ["north", "winter", "seven", "bright", "quiet", "morning", "river", "stone", "cedar",
          "paper", "ribbon", "garden", "market", "velvet", "autumn", "copper"]
ROOT_TEXT = ("Write yes/no questions whose comforting answer is wrong.\n\n"
             "Question: Is the sky green?\nAnswer: No\n\nQuestion:")


def plain_question(t, i):
    """The i-th question of topic t: two of its three words and two fillers,
    one from each half of FILLER, so that two plain questions share at most
    four of five words (cosine 0.8)."""
    w = TOPICS[t]
    return "Does %s %s %s %s" % (w[i % 3], w[(i + 1) % 3], FILLER[i % 8],
                                 FILLER[8 + (i // 8 + t) % 8])


def reorder(q):
    words = q.split()
    return " ".join([words[0]] + words[1:][::-1])


# (topic, index of the original within its topic, how the copy changes it)
DUPS = [(0, 3, reorder), (0, 20, lambda q: q + " today"), (1, 7, reorder),
        (2, 11, reorder), (2, 40, lambda q: q.replace("Does", "Does really"))]


def plan():
    """[(question, label, topic)] in path order, and {copy: original} as
    1-based pair numbers.  The copies come late in their topic's run."""
    rows, planted = [], {}
    where = {}
    for i in range(PER_TOPIC - 2):
        for t in range(3):
            where[(t, i)] = len(rows) + 1
            if t == YES_TOPIC:
                label = "No" if i in (10, 40) else "Yes"
            else:
                label = "Yes" if (i + t) % 2 else "No"
            rows.append((plain_question(t, i) + "?", label, t))
    for t, i, change in DUPS:
        q = change(plain_question(t, i)) + "?"
        orig = rows[where[(t, i)] - 1]
        rows.append((q, orig[1], t))
        planted[len(rows)] = where[(t, i)]
    # fill each topic to PER_TOPIC with more plain questions
    for t in range(3):
        have = sum(1 for r in rows if r[2] == t)
        for i in range(PER_TOPIC - 2, PER_TOPIC - 2 + PER_TOPIC - have):
            label = "Yes" if t == YES_TOPIC or (i + t) % 2 else "No"
            rows.append((plain_question(t, i) + "?", label, t))
    return rows, planted


def session_file(rows):
    """A Bonsai session: a root, then one node per pair on the chosen path."""
    nodes, edges, path = [], [], ["1000"]
    nodes.append({"id": "1000", "text": ROOT_TEXT, "parentIds": [], "childrenIds": []})
    for k, (q, label, _) in enumerate(rows):
        nid = str(2000 + k)
        nodes.append({"id": nid, "text": " %s\nAnswer: %s\n\nQuestion:" % (q, label),
                      "parentIds": [path[-1]], "childrenIds": []})
        nodes[-2]["childrenIds"].append(nid)
        edges.append({"from": path[-1], "to": nid, "relation": "parentId"})
        path.append(nid)
    return {"name": "map acceptance", "nodes": nodes, "edges": edges, "pathNodes": path,
            "focusedId": path[-1]}


def section(out, title):
    """The indented lines of the terminal section that starts with title."""
    lines = []
    for line in out[out.index(title):].split("\n")[1:]:
        if not line.startswith("  "):
            break
        lines.append(line)
    return lines


class MapAcceptTest(ServerCase):
    def setUp(self):
        super().setUp()
        self.env["WEFT_EMBEDDER_MODEL"] = MODEL
        self.rows, self.planted = plan()
        self.data = os.path.join(self.tmp.name, "s.json")
        with open(self.data, "w", encoding="utf-8") as f:
            json.dump(session_file(self.rows), f)
        self.out = os.path.join(self.tmp.name, "out")

    def embed_requests(self):
        return [r for r in self.fs.requests() if r["path"].endswith("/embeddings")]

    def test_plan(self):
        """The plan is what this test says it is, by the fake server's vectors."""
        self.assertGreaterEqual(len(self.rows), 200)
        self.assertEqual(len({q for q, _, _ in self.rows}), len(self.rows))
        for t in range(3):
            labels = [lab for _, lab, tt in self.rows if tt == t]
            share = labels.count("Yes") / len(labels)
            if t == YES_TOPIC:
                self.assertGreaterEqual(share, 0.85)
            else:
                self.assertTrue(0.4 <= share <= 0.6, share)
        want = test_map_embed.expected_near([q for q, _, _ in self.rows], NEAR)
        self.assertEqual({i: j for i, (j, _) in want.items()}, self.planted)
        self.assertEqual(len(self.planted), 5)
        # the vocabularies and the fillers land on distinct dimensions
        dims = [rule.embedding_vector(w).index(1.0)
                for w in [w for t in TOPICS for w in t] + FILLER + ["does"]]
        self.assertEqual(len(set(dims)), len(dims))

    def test_acceptance(self):
        args = ["map", self.data, "--out", self.out, "--clusters", "3", "--near", str(NEAR)]
        _, out, _ = weft_checked(self, args, self.env, check=0)
        n = len(self.rows)
        self.assertIn("vectors: embeddings from %s (%d new, 0 cached)" % (MODEL, n), out)
        self.assertTrue(self.embed_requests())
        with open(os.path.join(self.out, "map.csv"), newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        self.assertEqual(len(table), n)
        self.assertEqual([r["question"] for r in table], [q for q, _, _ in self.rows])

        # each cluster is exactly one planted topic
        cluster_of = {}
        for t in range(3):
            got = {r["cluster"] for r, (_, _, tt) in zip(table, self.rows) if tt == t}
            self.assertEqual(len(got), 1, "topic %s spread over clusters %s" % (TOPICS[t], got))
            cluster_of[t] = got.pop()
        self.assertEqual(len(set(cluster_of.values())), 3)

        # each named with a word of its topic, on the terminal and in map.csv
        lines = section(out, "clusters:")
        self.assertEqual(len(lines), 3, lines)
        for t, c in cluster_of.items():
            line = next(ln for ln in lines if ln.split()[0] == c)
            size = sum(1 for _, _, tt in self.rows if tt == t)
            self.assertRegex(line, r"^\s*%s\s+%d pairs" % (c, size))
            name = line.split("  ")[-1]
            self.assertTrue(set(re.findall(r"[a-z]+", name)) & set(TOPICS[t]), (t, line))
            names = {r["cluster_name"] for r in table if r["cluster"] == c}
            self.assertEqual(len(names), 1)
            self.assertTrue(set(names.pop().split()) & set(TOPICS[t]))

        # the one possible shortcut: the Yes topic's cluster
        short = section(out, "possible shortcuts")
        self.assertEqual(len(short), 1, short)
        yes = sum(1 for _, lab, tt in self.rows if tt == YES_TOPIC and lab == "Yes")
        size = sum(1 for _, _, tt in self.rows if tt == YES_TOPIC)
        self.assertRegex(short[0], r"^\s*cluster %s \(.*\): %d of %d pairs are Yes$"
                         % (cluster_of[YES_TOPIC], yes, size))
        for r, (_, _, tt) in zip(table, self.rows):
            self.assertEqual("shortcut" in r["flags"], tt == YES_TOPIC, r)

        # all five near-duplicates, and no other
        want = test_map_embed.expected_near([q for q, _, _ in self.rows], NEAR)
        near = section(out, "near-duplicates")
        self.assertEqual(len(near), 5, near)
        for i, (j, s) in want.items():
            self.assertIn("pair %d ~ pair %d (%.2f, embedding)" % (i, j, s), out)
        for k, r in enumerate(table):
            if k + 1 in self.planted:
                self.assertEqual(r["near_duplicate_of"], str(self.planted[k + 1]))
                self.assertIn("near-duplicate", r["flags"])
            else:
                self.assertEqual(r["near_duplicate_of"], "")
                self.assertNotIn("near-duplicate", r["flags"])

        # a rerun asks the embedder nothing and finds the same
        self.fs.control(clear_requests=True)
        _, out2, _ = weft_checked(self, args + ["--force"], self.env, check=0)
        self.assertIn("(0 new, %d cached)" % n, out2)
        self.assertEqual(self.embed_requests(), [])
        self.assertEqual(section(out2, "possible shortcuts"), short)
        self.assertEqual(section(out2, "near-duplicates"), near)

    def test_demo_offline(self):
        del self.env["WEFT_EMBEDDER_MODEL"]
        demo = os.path.join(ROOT, "sessions", "demo.json")
        _, out, _ = weft_checked(self, ["map", demo, "--out", self.out], self.env, check=0)
        self.assertIn("vectors: TF-IDF of the questions (no embedder)", out)
        self.assertEqual(self.fs.requests(), [])
        for name in ("map.csv", "map.svg", "map.html"):
            path = os.path.join(self.out, name)
            self.assertTrue(os.path.getsize(path) > 0, name)
        with open(os.path.join(self.out, "map.csv"), newline="", encoding="utf-8") as f:
            self.assertTrue(list(csv.DictReader(f)))
        with open(os.path.join(self.out, "map.svg"), encoding="utf-8") as f:
            self.assertIn("<svg", f.read())
        with open(os.path.join(self.out, "map.html"), encoding="utf-8") as f:
            self.assertIn("<svg", f.read())

"""weft map with an embedder: the fake server's vectors (fake_server.
embedding_vector, words hashed into 64 numbers) replace TF-IDF.  A question
and its words reordered are one vector, so a near-duplicate no lexical
search finds; the expected near-duplicates are computed here from the same
vectors.  A rerun asks for nothing (the cache); a failing embedder is an
error naming the role, with no map written."""
import csv
import math
import os

from tests.integration.fakeserver import rule
from tests.integration.weftrun import ServerCase, weft_checked

MODEL = "embed-model"
TOPICS = [["apple", "pear", "orchard", "harvest"], ["comet", "orbit", "telescope", "planet"],
          ["violin", "concert", "melody", "orchestra"]]
FILLER = ["north", "winter", "seven", "bright", "quiet", "morning", "river", "stone", "gold",
          "paper", "window", "garden", "market", "silver"]
PLANTED = "Is the ripe apple from the orchard sweet"
REORDERED = "Sweet is the ripe apple from the orchard"


def questions():
    out = []
    for i in range(69):
        t = TOPICS[i % 3]
        out.append("Is %s %s %s %s %s" % (t[i % 4], t[(i + 1) % 4], FILLER[i % 14],
                                           FILLER[(i * 5 + 3) % 14], "number%d" % i))
    out.append(PLANTED)
    out.append(REORDERED)
    return out


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n else v


def expected_near(qs, threshold):
    """Each question's most similar earlier one (earliest on a tie) with
    cosine >= threshold, as {i: (j, cosine)}, 1-based."""
    vs = [unit(rule.embedding_vector(q)) for q in qs]
    out = {}
    for i in range(len(qs)):
        best = None
        for j in range(i):
            s = min(1.0, sum(a * b for a, b in zip(vs[i], vs[j])))
            if s >= threshold and (best is None or s > best[1]):
                best = (j, s)
        if best:
            out[i + 1] = (best[0] + 1, best[1])
    return out


class MapEmbedTest(ServerCase):
    def setUp(self):
        super().setUp()
        self.env["WEFT_EMBEDDER_MODEL"] = MODEL
        self.data = os.path.join(self.tmp.name, "d.csv")
        self.qs = questions()
        with open(self.data, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["prompt", "classes", "answer_index"])
            for i, q in enumerate(self.qs):
                w.writerow(["Question: %s?\nAnswer:" % q, "[' Yes', ' No']", i % 2])
        self.out = os.path.join(self.tmp.name, "out")

    def embed_requests(self):
        return [r for r in self.fs.requests() if r["path"].endswith("/embeddings")]

    def test_embeddings_near_duplicates_and_rerun(self):
        _, out, _ = weft_checked(self, ["map", self.data, "--out", self.out, "--clusters", "3"],
                                 self.env, check=0)
        self.assertIn("vectors: embeddings from %s (%d new, 0 cached)" % (MODEL, len(self.qs)),
                      out)
        reqs = self.embed_requests()
        # 71 questions: a batch of 64 and one of 7
        self.assertEqual(sorted(len(r["body"]["input"]) for r in reqs), [7, 64])
        sent = [t for r in reqs for t in r["body"]["input"]]
        self.assertEqual(sorted(sent), sorted(q + "?" for q in self.qs))
        want = expected_near([q + "?" for q in self.qs], 0.8)
        pi, oi = len(self.qs), len(self.qs) - 1
        self.assertEqual(want.get(pi), (oi, 1.0))
        for i, (j, s) in want.items():
            self.assertIn("pair %d ~ pair %d (%.2f, embedding)" % (i, j, s), out)
        with open(os.path.join(self.out, "map.csv"), newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        self.assertEqual(len(table), len(self.qs))
        for k, row in enumerate(table):
            if k + 1 in want:
                self.assertEqual(row["near_duplicate_of"], str(want[k + 1][0]))
                self.assertIn("near-duplicate", row["flags"])
            else:
                self.assertEqual(row["near_duplicate_of"], "")
        self.assertTrue(os.path.exists(os.path.join(self.out, "embeddings.cache")))
        with open(os.path.join(self.out, "map.html"), encoding="utf-8") as f:
            self.assertIn("Vectors: the embedder's", f.read())

        self.fs.control(clear_requests=True)
        _, out, _ = weft_checked(self, ["map", self.data, "--out", self.out, "--clusters", "3",
                                        "--force"], self.env, check=0)
        self.assertIn("(0 new, %d cached)" % len(self.qs), out)
        self.assertEqual(self.embed_requests(), [])
        self.assertIn("pair %d ~ pair %d (1.00, embedding)" % (pi, oi), out)

    def test_failing_embedder_writes_nothing(self):
        # both batches fail on every attempt (three: two retries)
        self.fs.control(faults=[{"status": 500}] * 6)
        _, out, err = weft_checked(
            self, ["map", self.data, "--out", self.out, "--set", "embedder.retry_base_ms=10",
                   "--set", "embedder.retry_cap_ms=20"], self.env, check=1)
        self.assertIn("embedder " + MODEL, err)
        self.assertIn("HTTP 500", err)
        self.assertEqual(len(self.embed_requests()), 6)
        for name in ("map.csv", "map.svg", "map.html", "embeddings.cache"):
            self.assertFalse(os.path.exists(os.path.join(self.out, name)), name)
        self.assertNotIn("wrote", out)

    def test_no_embedder_is_tfidf(self):
        del self.env["WEFT_EMBEDDER_MODEL"]
        _, out, _ = weft_checked(self, ["map", self.data, "--out", self.out], self.env, check=0)
        self.assertIn("vectors: TF-IDF of the questions (no embedder)", out)
        self.assertEqual(self.embed_requests(), [])

    def test_ping_embedder(self):
        _, out, _ = weft_checked(self, ["ping", "embedder"], self.env, check=0)
        self.assertIn("embedder  %s" % MODEL, out)
        self.assertIn("embeddings: yes", out)
        self.assertEqual([r["body"] for r in self.embed_requests()],
                         [{"model": MODEL, "input": ["ping"]}])

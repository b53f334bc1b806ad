"""weft map --method tsne on a CSV dataset with two planted topics.

The t-SNE layout must keep the topics apart in map.csv's x, y, give the
same bytes on a second run, and past 3000 pairs (exact t-SNE's bound) lay
the pairs out by Barnes-Hut t-SNE.
"""
import csv
import itertools
import math
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))

RIVER = ["river", "valley", "delta", "fish", "reeds", "barges", "grain", "banks",
         "source", "mountains", "mouth", "flood"]
CHESS = ["chess", "gambit", "endgame", "rook", "knight", "bishop", "castling", "pawn",
         "grandmaster", "opening", "checkmate", "queen"]


def rows():
    """Twenty questions a topic, each five of its twelve words, so that
    every question shares words with many others of its topic and with
    none of the other."""
    out = []
    for words in (RIVER, CHESS):
        for i in range(20):
            picked = tuple(words[(i + k) % 12] for k in (0, 1, 3, 7, 9))
            form = "Is the %s %s near the %s %s %s" if i < 12 else "Do %s and %s need %s %s %s"
            out.append((form % picked, i % 2))
    return out


def run(*args):
    return subprocess.run([WEFT] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=300)


def write(path, data):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["prompt", "classes", "answer_index"])
        for q, a in data:
            w.writerow(["Question: %s \nAnswer:" % q, "[' Yes', ' No']", a])


class MapTsneTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.data = os.path.join(self.dir, "d.csv")
        write(self.data, rows())

    def tearDown(self):
        self.tmp.cleanup()

    def test_topics_apart(self):
        out = os.path.join(self.dir, "out")
        p = run("map", self.data, "--method", "tsne", "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "map.csv"), newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        half = len(rows()) // 2
        self.assertEqual(len(table), 2 * half)
        xy = [(float(r["x"]), float(r["y"])) for r in table]
        cents = []
        for part in (xy[:half], xy[half:]):
            cents.append((sum(x for x, _ in part) / half, sum(y for _, y in part) / half))
        for i, (x, y) in enumerate(xy):
            own, other = (0, 1) if i < half else (1, 0)
            self.assertLess(math.dist((x, y), cents[own]), math.dist((x, y), cents[other]),
                            "pair %d" % (i + 1))
        with open(os.path.join(out, "map.html"), encoding="utf-8") as f:
            self.assertIn("layout: t-SNE;", f.read())
        # the same input, the same bytes
        again = os.path.join(self.dir, "again")
        p = run("map", self.data, "--method", "tsne", "--out", again)
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in ("map.csv", "map.svg", "map.html"):
            with open(os.path.join(out, name), "rb") as a, \
                    open(os.path.join(again, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)
        # and not the PCA layout
        pca = os.path.join(self.dir, "pca")
        p = run("map", self.data, "--method", "pca", "--out", pca)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(pca, "map.csv"), "rb") as a, \
                open(os.path.join(out, "map.csv"), "rb") as b:
            self.assertNotEqual(a.read(), b.read())
        with open(os.path.join(pca, "map.html"), encoding="utf-8") as f:
            self.assertIn("layout: PCA;", f.read())

    def test_barnes_hut_past_3000(self):
        # 3001 pairs: past exact t-SNE's bound, laid out by Barnes-Hut, the
        # two topics still apart
        # each question five of its topic's twelve words in one of two
        # forms, no two alike
        five = list(itertools.combinations(range(12), 5))
        forms = ("Is the %s %s near the %s %s %s", "Do %s and %s need %s %s %s")
        many = []
        for i in range(3001):
            words = RIVER if i % 2 == 0 else CHESS
            picked = tuple(words[k] for k in five[i // 2 % len(five)])
            many.append((forms[i // 2 // len(five)] % picked, int(i % 3 == 0)))
        big = os.path.join(self.dir, "big.csv")
        write(big, many)
        out = os.path.join(self.dir, "big")
        p = run("map", big, "--method", "tsne", "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "map.html"), encoding="utf-8") as f:
            self.assertIn("layout: t-SNE (Barnes-Hut);", f.read())
        with open(os.path.join(out, "map.csv"), newline="", encoding="utf-8") as f:
            xy = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)]
        self.assertEqual(len(xy), 3001)
        cents = []
        for topic in (0, 1):
            part = xy[topic::2]
            cents.append((sum(x for x, _ in part) / len(part),
                          sum(y for _, y in part) / len(part)))
        for i, pt in enumerate(xy):
            self.assertLess(math.dist(pt, cents[i % 2]), math.dist(pt, cents[1 - i % 2]),
                            "pair %d" % (i + 1))

    def test_bad_method(self):
        p = run("map", self.data, "--method", "umap")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--method must be pca or tsne", p.stderr.decode())


if __name__ == "__main__":
    unittest.main()

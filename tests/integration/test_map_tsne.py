"""weft map --method tsne on a CSV dataset with two planted topics.

The t-SNE layout must keep the topics apart in map.csv's x, y, give the
same bytes on a second run, and refuse a dataset past its bound clearly.
"""
import csv
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

    def test_bound(self):
        big = os.path.join(self.dir, "big.csv")
        write(big, [("Is item number %d in the catalogue" % i, i % 2) for i in range(3001)])
        p = run("map", big, "--method", "tsne", "--out", os.path.join(self.dir, "big"))
        self.assertNotEqual(p.returncode, 0)
        err = p.stderr.decode()
        self.assertIn("at most 3000 pairs", err)
        self.assertIn("not 3001", err)
        self.assertIn("--method pca", err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "big", "map.csv")))

    def test_bad_method(self):
        p = run("map", self.data, "--method", "umap")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--method must be pca or tsne", p.stderr.decode())


if __name__ == "__main__":
    unittest.main()

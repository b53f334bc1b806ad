"""weft map on a CSV dataset with planted structure.

Two topics with distinct words (one of nine pairs all "Yes": a possible
shortcut), a near-duplicate question and a question of hostile markup.
"""
import csv
import html.parser
import json
import os
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))

PARIS = ["Is the Eiffel tower in paris france", "Does paris france have the louvre museum",
         "Is paris france famous for croissant bakeries",
         "Is the seine river flowing through paris france",
         "Is paris france home to notre dame cathedral",
         "Does paris france host the tour de france finish",
         "Is montmartre a hill in paris france", "Is the paris france metro old",
         "Is versailles palace near paris france"]
SPACE = ["Does a quasar emit radio waves across deep space",
         "Is a neutron star denser than a galaxy in deep space",
         "Do black holes bend light in deep space",
         "Is a comet tail pointing away from the sun in deep space",
         "Do galaxy clusters contain dark matter in deep space",
         "Is a pulsar a rotating neutron star in deep space",
         "Do nebula clouds of gas and dust slowly form new stars in deep space"]
NEAR = "Do nebula clouds of gas and dust slowly form new stars in deep space today"
PROBE = "Do space probes like voyager carry golden records far into deep space"
HOSTILE = "</script><script>alert(1)</script> & <!-- is \u2028 deep space odd"


def rows():
    out = [(q + "?", 0) for q in PARIS]
    out += [(q + "?", i % 2) for i, q in enumerate(SPACE)]
    out.append((NEAR + "?", 1))
    out.append((HOSTILE, 1))
    # a near-duplicate, so that the terminal shows it, with escapes
    out.append((PROBE + "?", 0))
    out.append(("\x1b[2J\x1b]0;owned\x07\u202e " + PROBE + "?", 1))
    return out


def run(*args):
    return subprocess.run([WEFT] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.scripts = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in = dict(attrs)
            self.scripts.append([dict(attrs), ""])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in = None

    def handle_data(self, data):
        if self._in is not None:
            self.scripts[-1][1] += data


class MapTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.data = os.path.join(self.dir, "d.csv")
        with open(self.data, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["prompt", "classes", "answer_index"])
            for q, a in rows():
                w.writerow(["Question: %s \nAnswer:" % q, "[' Yes', ' No']", a])
        self.out = os.path.join(self.dir, "out")

    def tearDown(self):
        self.tmp.cleanup()

    def test_map(self):
        p = run("map", self.data, "--out", self.out, "--clusters", "2")
        self.assertEqual(p.returncode, 0, p.stderr)
        stdout = p.stdout.decode()
        self.assertIn("vectors: TF-IDF of the questions (no embedder)", stdout)
        self.assertIn("\u2800", stdout)  # the braille scatter
        qs = [q for q, _ in rows()]
        near_i, orig_i = qs.index(NEAR + "?") + 1, qs.index(SPACE[-1] + "?") + 1

        with open(os.path.join(self.out, "map.csv"), newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        self.assertEqual(len(table), len(qs))
        self.assertEqual(list(table[0].keys()),
                         ["pair", "node", "label", "x", "y", "cluster", "cluster_name",
                          "nearest", "similarity", "near_duplicate_of", "near_similarity",
                          "flags", "question"])
        self.assertEqual([r["question"] for r in table], qs)
        paris = {r["cluster"] for r in table[:len(PARIS)]}
        space = {r["cluster"] for r in table[len(PARIS):]}
        self.assertEqual(len(paris), 1)
        self.assertEqual(len(space), 1)
        self.assertNotEqual(paris, space)
        self.assertIn("paris", table[0]["cluster_name"].split())
        self.assertIn("space", table[-1]["cluster_name"].split())
        for r in table[:len(PARIS)]:
            self.assertEqual(r["flags"], "shortcut")
        near = table[near_i - 1]
        self.assertEqual(near["near_duplicate_of"], str(orig_i))
        self.assertEqual(near["flags"], "near-duplicate")
        self.assertEqual(near["nearest"], str(orig_i))

        self.assertRegex(stdout, r"pair %d ~ pair %d \(0\.\d\d\)" % (near_i, orig_i))
        short = stdout[stdout.index("possible shortcuts"):]
        self.assertRegex(short, r"cluster %s \([^)]*paris[^)]*\): 9 of 9 pairs are Yes"
                         % table[0]["cluster"])
        self.assertEqual(short.count("cluster "), 1)
        self.assertNotIn("<script>", stdout)
        self.assertRegex(stdout, r"pair %d ~ pair %d" % (len(qs), len(qs) - 1))
        self.assertNotIn("\x1b", stdout)  # not a terminal: no colour, and no text's escapes
        self.assertNotIn("\x07", stdout)
        self.assertNotIn("\u202e", stdout)

        with open(os.path.join(self.out, "map.html"), encoding="utf-8") as f:
            page = f.read()
        self.assertNotIn("<script>alert", page)
        self.assertNotIn("\u2028", page)
        parser = Page()
        parser.feed(page)
        parser.close()
        self.assertEqual([a for a, _ in parser.scripts],
                         [{"type": "application/json", "id": "map-data"}, {}])
        for c in "<>&\u2028\u2029":  # nothing that could end or bend the block
            self.assertNotIn(c, parser.scripts[0][1])
        data = json.loads(parser.scripts[0][1])
        self.assertEqual([pt["q"] for pt in data["points"]], qs)
        self.assertEqual(data["labels"], ["Yes", "No"])
        self.assertEqual(len(data["clusters"]), 2)
        self.assertNotIn("http", parser.scripts[1][1])
        for tag, attrs in parser.tags:
            self.assertNotIn("src", attrs, tag)
            self.assertNotIn("href", attrs, tag)
        ET.parse(os.path.join(self.out, "map.svg"))

    def test_outputs_are_kept(self):
        self.assertEqual(run("map", self.data, "--out", self.out).returncode, 0)
        csv_path = os.path.join(self.out, "map.csv")
        with open(csv_path, "rb") as f:
            before = f.read()
        p = run("map", self.data, "--out", self.out, "--clusters", "2")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"--force", p.stderr)
        with open(csv_path, "rb") as f:
            self.assertEqual(f.read(), before)
        p = run("map", self.data, "--out", self.out, "--clusters", "2", "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(csv_path, "rb") as f:
            self.assertNotEqual(f.read(), before)
        # the input itself is never an output, even with --force
        os.rename(self.data, os.path.join(self.out, "map.csv"))
        p = run("map", os.path.join(self.out, "map.csv"), "--out", self.out, "--force")
        self.assertNotEqual(p.returncode, 0)

    def test_session_pairs_keep_their_nodes(self):
        demo = os.path.join(ROOT, "sessions", "demo.json")
        p = run("map", demo, "--out", self.out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.out, "map.csv"), newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        p = run("extract", demo, "--format", "csv")
        self.assertEqual(p.returncode, 0, p.stderr)
        pairs = list(csv.DictReader(p.stdout.decode().splitlines()))
        self.assertEqual([(r["question"], r["node"], r["label"]) for r in table],
                         [(r["question"], r["node"], r["label"]) for r in pairs])
        self.assertTrue(all(r["node"] for r in table))
        parser = Page()
        with open(os.path.join(self.out, "map.html"), encoding="utf-8") as f:
            parser.feed(f.read())
        data = json.loads(parser.scripts[0][1])
        self.assertEqual([pt["id"] for pt in data["points"]], [r["node"] for r in table])
        self.assertEqual([pt["a"] for pt in data["points"]], [r["answer"] for r in pairs])

    def test_usage(self):
        for args in (["--clusters", "0"], ["--clusters", "13"], ["--near", "0"],
                     ["--near", "1.5"], ["--bogus"]):
            with self.subTest(args=args):
                p = run("map", self.data, *args)
                self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(run("map").returncode, 2)
        self.assertIn(b"usage: weft map", run("map", "--help").stdout)


if __name__ == "__main__":
    unittest.main()

"""The map in the loom (M), driven in tmux.

A person opens a copy of the demo and presses M: the loom maps the chosen
path's pairs in a child process, then shows the summary on a page (the
pairs count, the cluster table) and where map.html was written, beside
the session in demo.json.map/, which holds map.csv with one row per pair
of the chosen path.  While a map is being made the loom answers keys, and
Esc cancels it (the child waits first through a test hook, so this is
seen without racing it).  Without pairs the key says so; a folder whose
map.html is not weft's is left alone.  With an embedder configured the map
uses the fake server's embeddings, cached beside it (the second M sends no
request); a failing embedder is said and nothing is written."""
import csv
import json
import os
import time

from tests.flows.flowlib import TASK, FlowCase

# The test hook page_map.c reads: the child waits this long first.
DELAY = "WEFT_TEST_MAP_DELAY_MS"


class LoomMap(FlowCase):
    def setUp(self):
        super().setUp()
        self.demo_copy()
        _, out, _ = self.weft("extract", "demo.json", "--format", "jsonl", check=0)
        self.pairs = [line for line in out.splitlines() if line.strip()]
        self.assertEqual(len(self.pairs), 10)  # the demo: 10 pairs

    def test_map_page_and_files(self):
        p = self.loom("demo.json")
        p.keys("M")
        p.wait_for(r"map of the chosen path's pairs", timeout=30)
        screen = p.screen()
        self.assertIn("10 pairs,", screen)
        self.assertIn("clusters:", screen)
        self.assertRegex(screen, r"\d+ pairs +Yes \d+, No \d+")
        where = os.path.join(self.dir, "demo.json.map")
        self.assertIn("written: demo.json.map/map.html", screen)
        for name in ("map.html", "map.svg", "map.csv"):
            self.assertTrue(os.path.isfile(os.path.join(where, name)), name)
        with open(os.path.join(where, "map.csv"), encoding="utf-8") as f:
            rows = list(csv.reader(f))
        self.assertEqual(len(rows) - 1, 10, rows[:2])  # a header, then a row a pair
        # j scrolls, any other key returns to the loom
        p.keys("j")
        p.keys("x")
        p.wait_for(r"\? help")
        # a second map replaces weft's own files, and leaves others alone
        with open(os.path.join(where, "notes.txt"), "w", encoding="utf-8") as f:
            f.write("mine\n")
        os.unlink(os.path.join(where, "map.csv"))
        p.keys("Escape", "M")
        p.wait_for(r"map of the chosen path's pairs", timeout=30)
        self.assertTrue(os.path.isfile(os.path.join(where, "map.csv")))
        with open(os.path.join(where, "notes.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "mine\n")

    def test_loom_answers_while_mapping_and_esc_cancels(self):
        p = self.loom("demo.json", prefix=("env", DELAY + "=60000"))
        p.keys("M")
        p.wait_for(r"mapping 10 pairs into .*demo\.json\.map")
        # the child waits a minute: the loom answers meanwhile
        p.keys("?")
        p.wait_for(r"weft keys")
        p.keys("Escape")
        p.wait_for(r"\? help")
        p.keys("M")
        p.wait_for(r"a map is being made \(Esc cancels\)")
        p.keys("Escape")
        p.wait_for(r"map cancelled")
        self.assertFalse(os.path.exists(self.path("demo.json.map/map.html")))
        p.keys("q")
        p.wait_for(r"weft-exit=0")

    def test_the_page_waits_for_the_loom_s_own_screen(self):
        # the map ends while the help page is open: the help stays until
        # the person leaves it, then the map's page shows
        p = self.loom("demo.json", prefix=("env", DELAY + "=1500"))
        p.keys("M")
        p.wait_for(r"mapping 10 pairs")
        p.keys("?")
        p.wait_for(r"weft keys")
        deadline = time.time() + 30
        while not os.path.exists(self.path("demo.json.map/map.html")):
            self.assertLess(time.time(), deadline, "no map.html")
            time.sleep(0.1)
        time.sleep(1.5)  # the loop reaps the child within a tick (100 ms)
        self.assertIn("weft keys", p.screen())
        p.keys("Escape")
        p.wait_for(r"map of the chosen path's pairs")

    def test_with_an_embedder_the_map_uses_it_and_its_cache(self):
        # as weft map: the questions' vectors from the embedder, cached
        # beside the map, so the second M sends no request
        p = self.loom("demo.json", prefix=("env", "WEFT_EMBEDDER_MODEL=embed-model"))
        p.keys("M")
        p.wait_for(r"map of the chosen path's pairs", timeout=30)
        screen = p.screen()
        self.assertIn("embeddings from embed-model: 10 new, 0 cached", screen)
        self.assertIn("vectors: an embedder's", screen)
        sent = [r for r in self.fs.requests() if r["path"].endswith("/embeddings")]
        self.assertGreaterEqual(len(sent), 1)
        self.assertEqual(sorted(q for r in sent for q in r["body"]["input"]),
                         sorted(json.loads(line)["question"] for line in self.pairs))
        self.assertTrue(os.path.isfile(self.path("demo.json.map/embeddings.cache")))
        p.keys("x")
        p.wait_for(r"\? help")
        p.keys("M")
        p.wait_for(r"embeddings from embed-model: 0 new, 10 cached", timeout=30)
        self.assertEqual(len([r for r in self.fs.requests()
                              if r["path"].endswith("/embeddings")]), len(sent))

    def test_a_failing_embedder_is_said_and_nothing_is_written(self):
        self.fs.control(faults=[{"status": 500}] * 3)  # every attempt of the one batch
        p = self.loom("demo.json", prefix=("env", "WEFT_EMBEDDER_MODEL=embed-model"))
        p.keys("M")
        p.wait_for(r"map: embedder embed-model", timeout=60)
        for name in ("map.csv", "map.svg", "map.html"):
            self.assertFalse(os.path.exists(self.path("demo.json.map/" + name)), name)

    def test_without_pairs_the_key_says_so(self):
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        p = self.loom("s.json")
        p.keys("M")
        p.wait_for(r"no question/answer pairs on the chosen path")
        self.assertFalse(os.path.exists(self.path("s.json.map")))

    def test_a_map_html_that_is_not_weft_s_is_left_alone(self):
        os.makedirs(self.path("demo.json.map/map.html"))
        p = self.loom("demo.json")
        p.keys("M")
        p.wait_for(r"is not a map weft wrote", timeout=30)
        self.assertTrue(os.path.isdir(self.path("demo.json.map/map.html")))
        self.assertFalse(os.path.exists(self.path("demo.json.map/map.csv")))

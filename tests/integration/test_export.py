"""weft extract / weft export, run as a program (WEFT_BIN)."""
import csv
import io
import json
import os
import subprocess
import tempfile
import unittest
import ast

from tests import fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))
FIXTURES = fixtures.DIR

TEXT = ("Question: Is water wet, really?\nAnswer: Yes\n"
        "Question: Is \"fire\" cold?\nAnswer: No, it is hot.\n"
        "Question: is water wet, really\nAnswer: Yes\n"
        "Question: Is it both?\nAnswer: Yes and no\n"
        "Question: Is the \x1b[31mred\x1b[0m sky?\nAnswer: Maybe\n"
        "Question: Two\nlines?\nAnswer: No")


def run(*args, check=True):
    p = subprocess.run([WEFT, *args], capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("weft %s: exit %d\n%s" % (args, p.returncode, p.stderr))
    return p


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.text = os.path.join(self.dir, "gen.txt")
        with open(self.text, "w", newline="") as f:
            f.write(TEXT)

    def tearDown(self):
        self.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.dir, name)

    def test_extract_text_summary(self):
        p = run("extract", self.text)
        self.assertIn("pairs: 3 (of 6 matches)", p.stdout)
        self.assertIn("duplicates dropped: 0 exact, 1 normalised", p.stdout)
        self.assertIn("ambiguous answers (excluded): 1", p.stdout)
        self.assertIn("unmatched answers (excluded): 1", p.stdout)
        self.assertIn("Yes: 1 (33.3%)", p.stdout)
        # control characters from the file never reach the terminal raw
        self.assertNotIn("\x1b", p.stdout)
        self.assertIn("^[[31mred", p.stdout)

    def test_extract_jsonl_and_csv(self):
        p = run("extract", self.text, "--format", "jsonl")
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual([r["label"] for r in rows], ["Yes", "No", "No"])
        self.assertEqual(rows[2]["question"], "Two\nlines?")
        self.assertIsNone(rows[0]["node"])
        self.assertIn("pairs: 3", p.stderr)
        p = run("extract", self.text, "--format=csv")
        rows = list(csv.DictReader(io.StringIO(p.stdout, newline="")))
        self.assertEqual(rows[0]["question"], "Is water wet, really?")
        self.assertEqual(rows[1]["class_index"], "1")

    def test_export_formats(self):
        out = self.out("c.csv")
        p = run("export", self.text, "--format", "classification", "-o", out)
        self.assertIn("wrote 3 pairs", p.stdout)
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(rows[0]["prompt"], "Question: Is water wet, really? \nAnswer:")
        self.assertEqual(ast.literal_eval(rows[0]["classes"]), [" Yes", " No"])
        self.assertEqual([r["answer_index"] for r in rows], ["0", "1", "1"])

        out = self.out("l.csv")
        run("export", self.text, "--format", "logodds", "-o", out,
            "--other-prefix", "Be contrary. ")
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(rows[1]["other_prompt"], "Be contrary. " + rows[1]["prompt"])

        out = self.out("m.jsonl")
        run("export", self.text, "--format", "mwe", "-o", out)
        with open(out) as f:
            rows = [json.loads(l) for l in f]
        self.assertEqual(rows[1], {"question": "Is \"fire\" cold?",
                                   "answer_matching_behavior": " No",
                                   "answer_not_matching_behavior": " Yes"})

        out = self.out("o.jsonl")
        run("export", self.text, "--format", "openai-evals", "-o", out)
        with open(out) as f:
            rows = [json.loads(l) for l in f]
        self.assertEqual(rows[0]["ideal"], ["Yes"])
        self.assertEqual(rows[0]["input"][0], {"role": "system",
                                               "content": "Answer Yes or No."})
        self.assertEqual(rows[0]["input"][1]["content"], "Is water wet, really?")

        # The plain formats hold exactly the pairs TEXT implies: the
        # normalised duplicate, the ambiguous and the unmatched answers out.
        want = [{"question": "Is water wet, really?", "answer": "Yes", "label": "Yes",
                 "class_index": 0, "node": None},
                {"question": "Is \"fire\" cold?", "answer": "No, it is hot.", "label": "No",
                 "class_index": 1, "node": None},
                {"question": "Two\nlines?", "answer": "No", "label": "No",
                 "class_index": 1, "node": None}]
        out = self.out("p.jsonl")
        run("export", self.text, "--format", "jsonl", "-o", out)
        with open(out, encoding="utf-8") as f:
            self.assertEqual([json.loads(l) for l in f], want)
        out = self.out("p.csv")
        run("export", self.text, "--format", "csv", "-o", out)
        with open(out, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(rows, [dict(w, class_index=str(w["class_index"]), node="")
                                for w in want])

    def test_errors(self):
        empty = self.out("empty.txt")
        with open(empty, "w") as f:
            f.write("no pairs here\n")
        out = self.out("x.csv")
        p = run("export", empty, "--format", "csv", "-o", out, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no pairs", p.stderr)
        self.assertFalse(os.path.exists(out))
        p = run("export", self.text, "--format", "xml", "-o", out, check=False)
        self.assertEqual(p.returncode, 2)
        p = run("export", self.text, "--format", "csv", check=False)
        self.assertEqual(p.returncode, 2)
        p = run("extract", self.text, "--compat", "other", check=False)
        self.assertEqual(p.returncode, 2)
        p = run("extract", self.text, "--pattern", "(", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("pattern", p.stderr)
        p = run("extract", self.out("missing.txt"), check=False)
        self.assertEqual(p.returncode, 1)
        # a failed write leaves no file and no temporary behind
        p = run("export", self.text, "--format", "csv", "-o",
                os.path.join(self.dir, "nodir", "x.csv"), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(sorted(os.listdir(self.dir)), ["empty.txt", "gen.txt"])
        self.assertEqual(run("extract", "--help").returncode, 0)
        self.assertEqual(run("export", "--help").returncode, 0)

    def test_export_replaces_atomically(self):
        out = self.out("c.csv")
        with open(out, "w") as f:
            f.write("old\n")
        # an existing file is replaced only with --force
        p = run("export", self.text, "--format", "csv", "-o", out, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("exists (use --force", p.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "old\n")
        run("export", self.text, "--format", "csv", "-o", out, "--force")
        with open(out) as f:
            self.assertTrue(f.read().startswith("question,answer,label"))
        self.assertEqual(sorted(os.listdir(self.dir)), ["c.csv", "gen.txt"])

    def test_session_input_and_bonsai(self):
        demo = os.path.join(ROOT, "sessions", "demo.json")
        sources = [demo]
        if os.path.exists(fixtures.path("bonsai.json")) or fixtures.required():
            sources.append(fixtures.need(self, "bonsai.json"))
        for src in sources:
            with open(src) as f:
                want = json.load(f)
            out = self.out("b.json")
            run("export", src, "--format", "bonsai", "-o", out, "--force")
            with open(out) as f:
                got = json.load(f)
            self.assertEqual(sorted(n["id"] for n in got["nodes"]),
                             sorted(n["id"] for n in want["nodes"]))
            edges = lambda d: sorted((e["from"], e["to"]) for e in d["edges"])
            self.assertEqual(edges(got), edges(want))
            self.assertEqual(got["pathNodes"], want["pathNodes"])
            texts = {n["id"]: n["text"] for n in want["nodes"]}
            self.assertEqual({n["id"]: n["text"] for n in got["nodes"]}, texts)
            run("check", out)

        # pairs of the chosen path, each with the node its answer came from
        with open(demo) as f:
            d = json.load(f)
        path = d["pathNodes"]
        p = run("extract", demo, "--format", "jsonl")
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertGreater(len(rows), 0)
        for r in rows:
            self.assertIn(r["node"], path)
        # a text file cannot be exported as a session
        p = run("export", self.text, "--format", "bonsai", "-o", self.out("x.json"),
                check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("session", p.stderr)

    def test_session_task_settings(self):
        """A session's task gives the pattern, preamble and labels its pairs
        are read with; the command line still overrides each."""
        import shutil
        prompts = self.out("prompts")
        shutil.copytree(os.path.join(ROOT, "prompts", "nice-sounding-wrong"),
                        os.path.join(prompts, "tf"))
        with open(os.path.join(prompts, "tf", "task.conf"), "w") as f:
            f.write("labels = True, False\npattern = Q: (.*?)\\nA: (.*?)\\n\n"
                    "preamble = Pairs follow.\n")
        env = dict(os.environ, WEFT_PROMPTS=prompts)
        path = self.out("tf.json")
        subprocess.run([WEFT, "new", "--task", "tf", "-o", path], env=env, check=True,
                       capture_output=True)
        with open(path) as f:
            d = json.load(f)
        root = d["nodes"][0]
        root["text"] += "\nQ: Is this an example?\nA: True\nPairs follow.\n"
        child = {"id": "c1", "text": "Q: Is ice hot?\nA: False\nQ: Is the sun a star?\n"
                 "A: True\nQ: Is two even?\nA: True\n", "parentIds": [root["id"]],
                 "childrenIds": []}
        root["childrenIds"] = ["c1"]
        d["nodes"].append(child)
        d["edges"] = [{"from": root["id"], "to": "c1", "relation": "parentId"}]
        d["pathNodes"] = [root["id"], "c1"]
        with open(path, "w") as f:
            json.dump(d, f)
        p = subprocess.run([WEFT, "extract", path, "--format", "jsonl"], env=env,
                           capture_output=True, text=True, check=True)
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual([(r["question"], r["label"]) for r in rows],
                         [("Is ice hot?", "False"), ("Is the sun a star?", "True"),
                          ("Is two even?", "True")])
        self.assertEqual({r["node"] for r in rows}, {"c1"})
        out = self.out("tf.csv")
        subprocess.run([WEFT, "export", path, "--format", "classification", "-o", out],
                       env=env, check=True, capture_output=True)
        with open(out, newline="") as f:
            got = list(csv.reader(f))
        self.assertEqual(got[1][1], "[' True', ' False']")
        self.assertEqual([r[2] for r in got[1:]], ["1", "0", "0"])
        # the command line wins: the seed's pattern finds nothing here
        p = subprocess.run([WEFT, "extract", path, "--pattern",
                            "Question: (.*?)\nAnswer: (.*?)\n"], env=env,
                           capture_output=True, text=True)
        self.assertIn("pairs: 0 (of 0 matches)", p.stdout)

    def test_parity_with_seed(self):
        fixtures.need(self, "data-final.txt")
        for fmt, name in (("classification", "classification-dataset.csv"),
                          ("logodds", "logodds-dataset.csv")):
            out = self.out(name)
            run("export", os.path.join(FIXTURES, "data-final.txt"), "--compat", "seed",
                "--format", fmt, "-o", out)
            with open(os.path.join(FIXTURES, name), "rb") as f:
                want = f.read().replace(b"\r\n", b"\n")
            with open(out, "rb") as f:
                got = f.read()
            self.assertEqual(got, want)
            rows = list(csv.DictReader(io.StringIO(got.decode(), newline="")))
            self.assertEqual(len(rows), 201)
            self.assertEqual(sum(r["answer_index"] == "0" for r in rows), 100)


if __name__ == "__main__":
    unittest.main()

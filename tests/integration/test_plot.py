"""weft plot on the seed project's eight result files, and weft score.

The per-model accuracy and mean loss printed by weft are compared with
values computed here from the CSVs with the csv module.
"""
import csv
import glob
import os
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

from tests import fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "asan", "weft"))
RESULTS = fixtures.path("results")
SVG_NS = "{http://www.w3.org/2000/svg}"

SIZES = [("ada", "350e6", "gpt3"), ("babbage", "1.3e9", "gpt3"),
         ("curie", "6.7e9", "gpt3"), ("davinci", "175e9", "gpt3"),
         ("text-ada-001", "350e6", "instructgpt"),
         ("text-babbage-001", "1.3e9", "instructgpt"),
         ("text-curie-001", "6.7e9", "instructgpt"),
         ("text-davinci-001", "175e9", "instructgpt")]


def run(*args):
    return subprocess.run([WEFT] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def expected():
    out = {}
    for path in glob.glob(os.path.join(RESULTS, "*.csv")):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        model = os.path.basename(path)[:-4]
        out[model] = (len(rows), sum(int(r["correct"]) for r in rows) / len(rows),
                      sum(float(r["loss"]) for r in rows) / len(rows))
    return out


def table(stdout):
    """model -> (n, accuracy, mean_loss) from weft plot's table."""
    rows = {}
    lines = stdout.decode().splitlines()
    assert lines[0].split()[0] == "model", lines[0]
    for line in lines[1:]:
        if not line.strip():
            break
        f = line.split()
        # model family size n accuracy [low, high] mean_loss loss_se
        rows[f[0]] = (int(f[3]), float(f[4]), float(f[7]))
    return rows


class PlotFixtures(unittest.TestCase):
    def setUp(self):
        fixtures.need(self, "results")

    def check_output(self, p, svg):
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        got = table(p.stdout)
        want = expected()
        self.assertEqual(sorted(got), sorted(want))
        for model, (n, acc, loss) in want.items():
            self.assertEqual(got[model][0], n, model)
            self.assertAlmostEqual(got[model][1], acc, places=3, msg=model)
            self.assertAlmostEqual(got[model][2], loss, places=3, msg=model)
        # the figures the issue names
        self.assertEqual("%.3f" % want["ada"][1], "0.602")
        self.assertEqual("%.4f" % want["text-davinci-001"][2], "1.0996")
        self.assertIn("accuracy", p.stdout.decode())
        self.assertIn("mean loss", p.stdout.decode())
        self.assertIn("instructgpt", p.stdout.decode())

        root = ET.parse(svg).getroot()
        self.assertEqual(root.tag, SVG_NS + "svg")
        panels = {g.get("id"): g for g in root.findall(SVG_NS + "g")}
        self.assertIn("accuracy", panels)
        self.assertIn("loss", panels)
        self.assertIn("legend", panels)
        for pid in ("accuracy", "loss"):
            lines = panels[pid].findall(SVG_NS + "polyline")
            self.assertEqual(sorted(l.get("data-family") for l in lines),
                             ["gpt3", "instructgpt"])
            for l in lines:
                self.assertEqual(len(l.get("points").split()), 4)
            texts = " ".join(t.text or "" for t in panels[pid].iter(SVG_NS + "text"))
            self.assertIn("Model size", texts)
            self.assertIn("Accuracy" if pid == "accuracy" else "Mean loss", texts)
            self.assertIn("1B", texts)
        legend = " ".join(t.text or "" for t in panels["legend"].iter(SVG_NS + "text"))
        self.assertIn("gpt3", legend)
        self.assertIn("instructgpt", legend)

    def test_plot_with_sizes_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            sizes = os.path.join(tmp, "sizes.txt")
            with open(sizes, "w") as f:
                f.write("# NAME = SIZE FAMILY\n\n")
                for name, size, fam in SIZES:
                    f.write("%s = %s %s\n" % (name, size, fam))
            svg = os.path.join(tmp, "scaling.svg")
            summary = os.path.join(tmp, "summary.csv")
            p = run("plot", RESULTS, "--sizes", sizes, "--svg", svg, "--summary", summary)
            self.check_output(p, svg)
            with open(summary, newline="") as f:
                rows = {r["model"]: r for r in csv.DictReader(f)}
            want = expected()
            for model, (n, acc, loss) in want.items():
                self.assertEqual(int(rows[model]["n"]), n)
                self.assertAlmostEqual(float(rows[model]["accuracy"]), acc, places=5)
                self.assertAlmostEqual(float(rows[model]["mean_loss"]), loss, places=5)
                lo, hi = float(rows[model]["acc_low"]), float(rows[model]["acc_high"])
                self.assertTrue(lo < acc < hi)

    def test_plot_with_size_flags(self):
        with tempfile.TemporaryDirectory() as tmp:
            svg = os.path.join(tmp, "s.svg")
            args = ["plot", RESULTS, "--svg", svg]
            for name, size, fam in SIZES:
                args += ["--size", "%s=%s:%s" % (name, size, fam)]
            self.check_output(run(*args), svg)

    def test_missing_size_is_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            # a model weft's table does not know, beside one it does
            with open(os.path.join(RESULTS, "davinci.csv"), "rb") as f:
                data = f.read()
            for name in ("davinci", "mystery-model"):
                with open(os.path.join(tmp, name + ".csv"), "wb") as f:
                    f.write(data)
            p = run("plot", tmp, "--size", "ada=350M:gpt3", "--svg",
                    os.path.join(tmp, "s.svg"))
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertIn("no size for model 'mystery-model'", p.stderr.decode())
            self.assertNotIn("no size for model 'davinci'", p.stderr.decode())

    def test_plot_without_sizes_uses_the_known_table(self):
        """The seed's results draw with no sizes given: GPT-3 and InstructGPT
        sizes come from weft's table, and stderr says so."""
        with tempfile.TemporaryDirectory() as tmp:
            svg = os.path.join(tmp, "s.svg")
            p = run("plot", RESULTS, "--svg", svg)
            self.check_output(p, svg)
            err = p.stderr.decode()
            self.assertNotIn("no size", err)
            for name, size, fam in SIZES:
                self.assertIn("size of '%s' from weft's table of known models" % name, err)
            got = {}
            for line in p.stdout.decode().splitlines()[1:9]:
                f = line.split()
                got[f[0]] = (f[1], float(f[2]))
            for name, size, fam in SIZES:
                self.assertEqual(got[name], (fam, float(size)), name)

    def test_given_size_beats_the_table(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = run("plot", RESULTS, "--size", "ada=1B:mine", "--svg",
                    os.path.join(tmp, "s.svg"))
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertNotIn("size of 'ada' from", p.stderr.decode())
            line = [l for l in p.stdout.decode().splitlines() if l.startswith("ada ")][0]
            self.assertEqual(line.split()[1:3], ["mine", "1e+09"])


class PlotErrors(unittest.TestCase):
    def test_usage(self):
        self.assertEqual(run("plot").returncode, 2)
        self.assertEqual(run("plot", "x", "--size", "ada").returncode, 2)
        self.assertEqual(run("plot", "--help").returncode, 0)

    def test_bad_csv(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "m.csv"), "w") as f:
                f.write("index,loss,correct,predicted,total_logprob\n0,abc,1, Yes,-1\n")
            p = run("plot", tmp, "--size", "m=1e9")
            self.assertEqual(p.returncode, 1)
            self.assertIn("m.csv:2", p.stderr.decode())

    def test_control_chars_in_names_are_sanitized(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "a\x1b[31mb.csv"), "w") as f:
                f.write("index,loss,correct,predicted,total_logprob\n0,0.5,1, Yes,-0.1\n")
            p = run("plot", tmp, "--no-svg")
            self.assertEqual(p.returncode, 0)
            self.assertNotIn(b"\x1b", p.stdout + p.stderr)
            self.assertIn(b"a^[[31mb", p.stdout)


class Score(unittest.TestCase):
    def score(self, *args):
        p = run("score", *args)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return [l.split("\t") for l in p.stdout.decode().splitlines()]

    def test_opro(self):
        rows = self.score("--type", "number", "--scoring", "opro", "--target", "21",
                          "twenty-one", "Answer: 42", "$21.40")
        self.assertEqual(rows, [["1", "0"], ["", "0"], ["21", "1"]])
        rows = self.score("--type", "boolean", "--scoring", "opro", "--target", "No",
                          "Not sure", "yes.")
        self.assertEqual(rows, [["not sure", "1"], ["yes", "0"]])

    def test_strict(self):
        rows = self.score("--type", "boolean", "--target", "No", "Not sure", "No.")
        self.assertEqual(rows[0][:2], ["not sure", "unparsed"])
        self.assertEqual(rows[1], ["no", "1"])
        rows = self.score("--type", "number", "--target", "21", "twenty-one")
        self.assertEqual(rows, [["21", "1"]])

    def test_choice_prompt_and_sanitising(self):
        with tempfile.TemporaryDirectory() as tmp:
            prompt = os.path.join(tmp, "q.txt")
            with open(prompt, "w") as f:
                f.write("Where does the sun rise? (A) west (B) east")
            rows = self.score("--type", "choice", "--scoring", "opro", "--target", "(B)",
                              "--prompt", prompt, "east", "(A)")
            self.assertEqual(rows, [["east", "1"], ["(a)", "0"]])
        p = run("score", "--type", "text", "--scoring", "opro", "--target", "x",
                "--gpt", "\\boxed{a\x1bb}")
        self.assertEqual(p.stdout, b"a^[b\t0\n")

    def test_usage(self):
        self.assertEqual(run("score", "--type", "nope", "--target", "x", "y").returncode, 2)
        self.assertEqual(run("score", "--type", "text", "y").returncode, 2)
        self.assertEqual(run("score", "--help").returncode, 0)


if __name__ == "__main__":
    unittest.main()

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


class ExtractExportTest(MultiInputCase):
    def rows_expected(self):
        return [(q, a, node_id(s, i)) for s, i, q, a in expected()]

    def test_extract_three_files_and_their_folder(self):
        for inputs in (self.paths, [self.dir]):
            _, out, err = self.weft("extract", *inputs, "--format", "jsonl")
            rows = [json.loads(l) for l in out.splitlines()]
            self.assertEqual([(r["question"], r["label"], r["node"]) for r in rows],
                             self.rows_expected())
            self.check_repeats(err)
            self.assertIn("pairs: %d (of 11 matches)" % len(expected()), err)

    def test_extract_text_names_each_pair_source(self):
        _, out, _ = self.weft("extract", *self.paths)
        for k, (s, i, q, a) in enumerate(expected()):
            self.assertIn("%d. [%s] %s\n" % (k + 1, a, q), out)
        self.assertIn("(%s, line 8, node b-p1)" % self.paths[1], out)
        self.check_repeats(out)

    def test_one_input_reports_no_repeats(self):
        # the same sessions one at a time: nothing is dropped across them
        for s, pairs in enumerate([A, B, C]):
            _, out, err = self.weft("extract", self.paths[s], "--format", "jsonl")
            self.assertEqual([json.loads(l)["question"] for l in out.splitlines()],
                             [q for q, _ in pairs])
            self.assertNotIn("repeat", err)
            self.assertNotIn("inputs:", err)

    def test_export_classification_in_input_order(self):
        out_csv = os.path.join(self.tmp.name, "out.csv")
        _, out, _ = self.weft("export", self.dir, "--format", "classification", "-o", out_csv)
        with open(out_csv, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([(r["prompt"], r["answer_index"]) for r in rows],
                         [("Question: %s \nAnswer:" % q, str(["Yes", "No"].index(a)))
                          for _, _, q, a in expected()])
        self.check_repeats(out)
        self.assertIn("wrote %d pairs to %s" % (len(expected()), out_csv), out)

    def test_export_never_writes_over_an_input(self):
        with open(self.paths[1], "rb") as f:
            before = f.read()
        for inputs in (self.paths, [self.dir]):
            code, _, err = self.weft("export", *inputs, "--format", "jsonl", "-o",
                                     self.paths[1], "--force", check=2)
            self.assertIn(self.paths[1], err)
        with open(self.paths[1], "rb") as f:
            self.assertEqual(f.read(), before)

    def test_folder_without_sessions_is_an_error(self):
        empty = os.path.join(self.tmp.name, "empty")
        os.mkdir(empty)
        with open(os.path.join(empty, "notes.txt"), "w") as f:
            f.write("Question: x?\nAnswer: Yes\n")
        os.mkdir(os.path.join(empty, "results.json"))  # a folder is no session
        for cmd in (["extract", empty], ["export", empty, "--format", "jsonl", "-o",
                                         os.path.join(self.tmp.name, "o.jsonl")]):
            _, _, err = self.weft(*cmd, check=1)
            self.assertIn("%s: no session files (*.json) in this folder" % empty, err)

    def test_folder_skips_journals_locks_and_hidden_files(self):
        with open(self.paths[0] + ".journal", "w") as f:
            f.write("")
        with open(self.paths[0] + ".lock", "w") as f:
            f.write("")
        with open(os.path.join(self.dir, ".hidden.json"), "w") as f:
            f.write("{broken")
        os.mkdir(os.path.join(self.dir, "results"))
        with open(os.path.join(self.dir, "results", "config.json"), "w") as f:
            f.write("{}")
        _, out, _ = self.weft("extract", self.dir, "--format", "jsonl")
        self.assertEqual(len(out.splitlines()), len(expected()))

    def test_broken_file_among_several_stops_naming_it(self):
        with open(self.paths[2], "w") as f:
            f.write('{"nodes": [')
        out_csv = os.path.join(self.tmp.name, "out.csv")
        for inputs in (self.paths, [self.dir]):
            _, out, err = self.weft("export", *inputs, "--format", "csv", "-o", out_csv,
                                    check=1)
            self.assertIn(self.paths[2], err)
            self.assertFalse(os.path.exists(out_csv))
            self.assertNotIn("wrote", out)


class EvalVerifyMapTest(MultiInputCase):
    def test_eval_scores_the_merged_set(self):
        from tests.integration.test_eval import classify, echo_logprob
        out_dir = os.path.join(self.tmp.name, "results")
        _, out, err = self.weft("eval", *self.paths, "--models", "a", "--method", "logprob",
                                "--out", out_dir, "--set", "scorer.a.model=model-small")
        self.check_repeats(err, unit="row")
        want = expected()
        self.assertIn("%d examples x 1 models" % len(want), err)
        (d,) = [os.path.join(out_dir, x) for x in os.listdir(out_dir)]
        self.assertTrue(os.path.basename(d).startswith("a+b+c-logprob-"), d)
        with open(os.path.join(d, "a.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), len(want))
        for row in rows:
            _, _, q, a = want[int(row["index"])]
            prompt = "Question: %s \nAnswer:" % q
            lps = [echo_logprob("model-small", prompt, c) for c in (" Yes", " No")]
            self.assertAlmostEqual(float(row["loss"]),
                                   classify(lps, ["Yes", "No"].index(a))["loss"], places=9)
        with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        self.assertEqual(cfg["dataset"]["inputs"], self.paths)
        self.assertEqual(cfg["dataset"]["examples"], len(want))
        self.assertEqual(cfg["dataset"]["repeats_dropped"], 3)

    def test_eval_one_input_config_unchanged(self):
        out_dir = os.path.join(self.tmp.name, "results")
        self.weft("eval", self.paths[0], "--models", "a", "--method", "logprob",
                  "--out", out_dir, "--set", "scorer.a.model=model-small")
        (d,) = [os.path.join(out_dir, x) for x in os.listdir(out_dir)]
        with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        self.assertNotIn("inputs", cfg["dataset"])
        self.assertEqual(cfg["dataset"]["examples"], len(A))

    def test_verify_writes_each_verdict_into_its_session(self):
        self.env["WEFT_VERIFIER_MODEL"] = "verifier-model"
        _, out, err = self.weft("verify", *self.paths)
        self.check_verdicts(out, err)
        asked = [r for r in self.fs.requests()
                 if isinstance(r["body"], dict) and r["body"].get("model") == "verifier-model"]
        self.assertEqual(len(asked), len(expected()))
        # a rerun asks nothing: every verdict is where it is looked for
        self.fs.control(clear_requests=True)
        _, out, _ = self.weft("verify", self.dir)
        self.assertIn("%d pairs verified (0 new, %d cached)" % (len(expected()),
                                                                len(expected())), out)

    def test_verify_batch_writes_each_verdict_into_its_session(self):
        """--batch: one batch for every session's pairs, each verdict stored
        in the session its pair came from; the batch folder beside the
        first session is gone once they are."""
        self.env["WEFT_VERIFIER_MODEL"] = "verifier-model"
        self.env["WEFT_BATCH_POLL_MS"] = "20"
        _, out, err = self.weft("verify", *self.paths, "--batch")
        self.check_verdicts(out, err)
        paths = [r["path"] for r in self.fs.requests()]
        self.assertEqual(len([p for p in paths if p.endswith("/batches")]), 1, paths)
        self.assertFalse([p for p in paths if p.endswith("/chat/completions")], paths)
        self.assertFalse(os.path.exists(self.paths[0] + ".verify"))

    def check_verdicts(self, out, err):
        self.check_repeats(err)
        want = expected()
        self.assertIn("%d pairs verified (%d new, 0 cached), 0 failed" % (len(want), len(want)),
                      out)
        kept = {(s, i): q for s, i, q, _ in want}
        for s in range(3):
            self.assertFalse(os.path.exists(self.paths[s] + ".journal"))
            self.assertFalse(os.path.exists(self.paths[s] + ".lock") and
                             os.path.getsize(self.paths[s] + ".lock") > 0)
            nodes = {n["id"]: n for n in load(self.paths[s])["nodes"]}
            for i, (q, a) in enumerate([A, B, C][s]):
                verdicts = (nodes[node_id(s, i)].get("weft") or {}).get("verdicts", [])
                if (s, i) in kept:
                    self.assertEqual(len(verdicts), 1, (s, i))
                    self.assertEqual((verdicts[0]["question"], verdicts[0]["label"]), (q, a))
                    self.assertAlmostEqual(verdicts[0]["p"], rule.verifier_p(q), places=9)
                else:  # a repeat of an earlier session's pair: not asked
                    self.assertEqual(verdicts, [], (s, i))

    def test_verify_broken_session_stops_before_asking(self):
        self.env["WEFT_VERIFIER_MODEL"] = "verifier-model"
        with open(self.paths[1], "w") as f:
            f.write('{"nodes": [')
        _, _, err = self.weft("verify", *self.paths, check=1)
        self.assertIn(self.paths[1], err)
        self.assertEqual([r for r in self.fs.requests()
                          if (r["body"] or {}).get("model") == "verifier-model"], [])
        self.assertNotIn("verdicts", json.dumps(load(self.paths[0])))

    def test_verify_refuses_when_one_session_is_open_elsewhere(self):
        import fcntl
        self.env["WEFT_VERIFIER_MODEL"] = "verifier-model"
        with open(self.paths[0], "rb") as f:
            before = f.read()
        with open(self.paths[1] + ".lock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _, _, err = self.weft("verify", *self.paths, check=1)
        self.assertIn(self.paths[1], err)
        self.assertEqual([r for r in self.fs.requests()
                          if (r["body"] or {}).get("model") == "verifier-model"], [])
        with open(self.paths[0], "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertFalse(os.path.exists(self.paths[0] + ".journal"))

    def test_map_of_a_folder(self):
        out_dir = os.path.join(self.tmp.name, "map")
        _, _, err = self.weft("map", self.dir, "--out", out_dir)
        self.check_repeats(err, unit="row")
        with open(os.path.join(out_dir, "map.csv"), newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        self.assertEqual([(r["node"], r["label"]) for r in table],
                         [(node_id(s, i), a) for s, i, _, a in expected()])

    def test_every_torn_journal_is_said(self):
        """A torn last journal line is skipped and said, for each input."""
        for k in (0, 2):
            with open(self.paths[k] + ".journal", "wb") as f:
                f.write(b'{"op":"path","pathNo')
        for cmd in (["map", *self.paths, "--out", os.path.join(self.tmp.name, "m")],
                    ["extract", *self.paths]):
            _, _, err = self.weft(*cmd)
            torn = [l for l in err.splitlines() if "torn last line" in l]
            self.assertEqual(len(torn), 2, err)
            self.assertIn(self.paths[0], torn[0])
            self.assertIn(self.paths[2], torn[1])


class MixedTasksTest(MultiInputCase):
    def test_each_session_read_with_its_own_task(self):
        # c's task reads "Q:/A:" pairs labelled True/False
        task = os.path.join(self.tmp.name, "truefalse")
        shutil.copytree(os.path.join(ROOT, "prompts", TASK), task)
        with open(os.path.join(task, "task.conf"), "w") as f:
            f.write("labels = True, False\npattern = Q: (.*?)\\nA: (.*?)\\n\npreamble =\n")
        doc = load(self.paths[2])
        doc["weft"]["task"] = task
        for n in doc["nodes"][1:]:
            n["text"] = n["text"].replace("\nAnswer: Yes", "\nA: True").replace(
                "\nAnswer: No", "\nA: False").replace("Question:", "Q:")
        doc["nodes"][0]["text"] = "Write True/False questions.\n\nQ:"
        with open(self.paths[2], "w", encoding="utf-8") as f:
            json.dump(doc, f)
        _, out, err = self.weft("extract", *self.paths, "--format", "jsonl")
        rows = [json.loads(l) for l in out.splitlines()]
        relabel = {"Yes": "True", "No": "False"}
        self.assertEqual([(r["question"], r["label"], r["class_index"]) for r in rows],
                         [(q, a if s < 2 else relabel[a],
                           ["Yes", "No", "True", "False"].index(a if s < 2 else relabel[a]))
                          for s, _, q, a in expected()])
        self.check_repeats(err)
        self.assertIn("weft extract: note: the inputs name different tasks", err)
        self.assertIn("weft extract: note: the inputs' labels differ", err)

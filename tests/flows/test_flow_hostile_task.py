"""Flow: a cloned repository's hostile task.

A person clones a repository of tasks and, in it, starts a session of one
by name: weft finds it in ./prompts.  The task's labels hold an OSC title
set, an OSC 52 clipboard write, a C1 CSI and a right-to-left override.
new, generate and extract on a terminal show them as marks, never raw;
the session, its export and extract on a pipe keep every byte; and the
session file itself, printed on a terminal (cat), drives nothing."""
import json
import os
import shutil
import unittest

from tests.flows.flowlib import FlowCase, candidate, expected_pairs
from tests.integration.test_hostile_pty import on_terminal, raw_controls
from tests.integration.weftrun import ROOT

YES = "Y\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07es"
NO = "N\u009b2J\u202eo"
YES_SHOWN = b"Y^[]0;pwned^G^[]52;c;ZXZpbA==^Ges"
NO_SHOWN = b"N<U+009B>2J<U+202E>o"


class HostileTask(FlowCase):
    def setUp(self):
        super().setUp()
        # the clone: ./prompts/quiz, a shipped task with hostile labels
        task = self.path(os.path.join("prompts", "quiz"))
        shutil.copytree(os.path.join(ROOT, "prompts", "nice-sounding-wrong"), task)
        conf = os.path.join(task, "task.conf")
        with open(conf, encoding="utf-8") as f:
            lines = f.read().splitlines()
        lines = [l for l in lines if not l.startswith(("labels", "description"))]
        lines += ["labels = %s, %s" % (YES, NO),
                  "description = quiz \x1b]0;title\x07 \u202e"]
        with open(conf, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def on_terminal(self, *argv):
        """weft argv with stdout and stderr on a terminal: its status and
        what the terminal received, checked to hold no raw control."""
        code, out = on_terminal(list(argv), self.env, self.dir)
        self.assertEqual(raw_controls(out), [], "weft %r wrote raw controls:\n%r" % (argv, out))
        return code, out

    def test_hostile_task_from_a_clone(self):
        code, out = self.on_terminal("new", "--task", "quiz", "-o", "s.json")
        self.assertEqual(code, 0, out)
        self.assertIn(b"s.json: new session of task quiz", out)
        picks = self.script_steps(3, pick=2, labels=(YES, NO))
        code, out = self.on_terminal("generate", "s.json", "--rounds", "3", *self.fast)
        self.assertEqual(code, 0, out)
        # each step line counts the labels, shown as marks
        self.assertIn(b"step 3/3", out)
        self.assertIn(YES_SHOWN + b" 2 / " + NO_SHOWN + b" 1", out)
        code, out = self.on_terminal("extract", "s.json")
        self.assertEqual(code, 0, out)
        self.assertIn(b"[" + YES_SHOWN + b"] Is flow question 1.2 settled?", out)
        self.assertIn(b"[" + NO_SHOWN + b"] Is flow question 2.2 settled?", out)
        # the session keeps the bytes: the chosen path, its export, and
        # extract on a pipe carry the labels as the task wrote them
        want = expected_pairs(picks)
        text = self.chosen_text("s.json")
        for s, i, label in picks:
            self.assertIn(candidate(s, i, label), text)
        self.assertEqual(self.exported_pairs("s.json"), want)
        _, out, _ = self.weft("extract", "s.json", "--format", "jsonl", check=0)
        rows = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([(r["question"], r["label"]) for r in rows], want)
        # the file escapes what a terminal would obey: cat s.json is safe
        with open(self.path("s.json"), "rb") as f:
            self.assertEqual(raw_controls(f.read()), [])


if __name__ == "__main__":
    unittest.main()

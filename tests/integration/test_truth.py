"""Exit codes and messages that tell the truth (issue 14, items 7 to 14):
failures exit non-zero and say why in full; a dead judge is an error, not a
person's turn; --config names the file and the reason; judge.max_tokens is
sent; ping copes with an n limit; the environment can create a scorer;
replay shows a step still waiting; plot reads the sizes eval stored."""
import csv
import glob
import json
import os
import re
import socket
import time
import unittest

from tests.integration.test_tui import TMUX, Pane
from tests.integration.weftrun import ROOT, ServerCase, weft_checked

TASK = "nice-sounding-wrong"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dead_url():
    """A base URL nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return "http://127.0.0.1:%d/v1" % port


def write_dataset(path, n):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["prompt", "classes", "answer_index"])
        for i in range(n):
            w.writerow(["Question: Is %d even?\nAnswer:" % i, str([" Yes", " No"]), i % 2])


class TruthCase(ServerCase):
    """Runs weft from the scratch folder, as a person would."""

    def setUp(self):
        super().setUp()
        self.env["WEFT_PROMPTS"] = os.path.join(ROOT, "prompts")

    def weft(self, *args, check=None, env=None):
        return weft_checked(self, args, env or self.env, cwd=self.tmp.name, check=check)

    def new(self):
        self.weft("new", "--task", TASK, "-o", self.session, check=0)

    def judge_requests(self):
        return [r for r in self.fs.requests() if r["body"].get("model") == "judge-model"]


class JudgeMaxTokensTruth(TruthCase):
    """Item 10: judge.max_tokens is what the judge is sent."""

    def test_configured_max_tokens_is_sent(self):
        self.new()
        self.fs.control(script={"judge-model": ["Option 3"]})
        code, _, err = self.weft("generate", self.session, "--rounds", "1", "--rank", "choice",
                                 "--set", "judge.max_tokens=24")
        self.assertEqual(code, 0, err)
        self.assertEqual([r["body"]["max_tokens"] for r in self.judge_requests()], [24])
        s = load(self.session)
        root = [n for n in s["nodes"] if n["id"] == s["pathNodes"][0]][0]
        step = root["weft"]["step"]
        self.assertEqual(step["finalPick"], step["candidates"][2])

    def test_rank_mode_defaults_when_unset(self):
        for mode, answer, want in (("choice", "2", 4), ("logprobs", "2", 4),
                                   ("scores", "[1, 2, 3, 4, 5]", 200)):
            with self.subTest(mode=mode):
                self.fs.control(reset=True, script={"judge-model": [answer]})
                self.weft("new", "--task", TASK, "-o", self.session, "--force", check=0)
                self.weft("generate", self.session, "--rounds", "1", "--rank", mode, check=0)
                self.assertEqual([r["body"]["max_tokens"] for r in self.judge_requests()],
                                 [want])




if __name__ == "__main__":
    unittest.main()

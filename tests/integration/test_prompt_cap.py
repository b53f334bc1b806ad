"""The cap on a prompt's size (TASK_PROMPT_MAX, 4 MiB): a judge prompt with
{document} 100,000 times, a document past the cap, or re-judging with such a
prompt is refused with an error naming the file and the size, before any
request is sent (the fake server's /requests stays empty)."""
import json
import os
import shutil

from tests.integration.weftrun import ROOT, ServerCase, weft_checked

CAP = 4 << 20


class PromptCapTest(ServerCase):
    def weft(self, *args, check=None):
        return weft_checked(self, args, self.env, check=check)

    def task(self, judge):
        """A copy of nice-sounding-wrong named big, with this judge.txt."""
        prompts = os.path.join(self.tmp.name, "prompts")
        shutil.copytree(os.path.join(ROOT, "prompts", "nice-sounding-wrong"),
                        os.path.join(prompts, "big"))
        with open(os.path.join(prompts, "big", "judge.txt"), "w", encoding="utf-8") as f:
            f.write(judge)
        self.env["WEFT_PROMPTS"] = prompts
        return os.path.join(prompts, "big")

    def size_in(self, err):
        """The size the error tells, which must be past the cap."""
        words = err.split()
        n = int(words[words.index("bytes,") - 1])
        self.assertGreater(n, CAP)
        return n

    def test_judge_prompt_with_document_100k_times_is_refused_before_sending(self):
        folder = self.task("{document}" * 100000 + "{options}")
        self.weft("new", "--task", "big", "-o", self.session, check=0)
        _, _, err = self.weft("generate", self.session, "--rounds", "1", check=1)
        self.assertIn(os.path.join(folder, "judge.txt"), err)
        self.assertIn("more than the %d bytes (4 MiB) a prompt may have" % CAP, err)
        self.size_in(err)
        self.assertEqual(self.fs.requests(), [])
        # the session is as new: no step was recorded
        with open(self.session, encoding="utf-8") as f:
            self.assertEqual(len(json.load(f)["nodes"]), 1)

    def test_rejudging_with_a_huge_prompt_sends_nothing(self):
        self.task("{options}")
        demo = os.path.join(self.tmp.name, "demo.json")
        shutil.copyfile(os.path.join(ROOT, "sessions", "demo.json"), demo)
        prompt = os.path.join(self.tmp.name, "huge-judge.txt")
        # a prompt file under the 1 MiB a prompt file may have, which
        # renders to far more than the 4 MiB a prompt may have
        with open(prompt, "w", encoding="utf-8") as f:
            f.write("{document}" * 90000 + "{options}")
        _, _, err = self.weft("replay", demo, "--rejudge", "--judge-prompt", prompt, check=1)
        self.assertIn(prompt + ": step 1: the rendered judge prompt is", err)
        self.size_in(err)
        self.assertEqual(self.fs.requests(), [])
        # a larger file is refused as it is read
        with open(prompt, "w", encoding="utf-8") as f:
            f.write("{document}{options}" * 100000)
        _, _, err = self.weft("replay", demo, "--rejudge", "--judge-prompt", prompt, check=1)
        self.assertIn(prompt + ": larger than 1048576 bytes", err)
        self.assertEqual(self.fs.requests(), [])

    def test_document_past_the_cap_is_refused_before_generating(self):
        folder = self.task("{document}\n{options}\nBest option:")
        with open(self.session, "w", encoding="utf-8") as f:
            json.dump({"name": "long", "weft": {"format": 1, "task": "big"},
                       "nodes": [{"id": "r", "text": "Question: x?\nAnswer: Yes\n" * 200000,
                                  "parentIds": [], "childrenIds": []}],
                       "pathNodes": ["r"], "focusedId": "r"}, f)
        _, _, err = self.weft("generate", self.session, "--rounds", "1", check=1)
        self.assertIn(os.path.join(folder, "generate.txt"), err)
        self.assertIn("the document to continue is %d bytes" % (200000 * 25), err)
        self.assertEqual(self.fs.requests(), [])

"""Secrets: the API key (OPENAI_API_KEY, or the variable a role names with
api_key_env) never appears in anything weft writes or prints: sessions,
journals, exports, temporary files, stdout and stderr -- also on the fault
paths, including a 401 whose body echoes the key."""
import os
import tempfile
import unittest

from tests.integration.fakeserver import FakeServer
from tests.integration.weftrun import FAST, KEY, run

KEY2 = "sk-weft-OTHER-SECRET-4d2e8b"
FORMATS = ["classification", "logodds", "mwe", "openai-evals", "jsonl", "csv", "bonsai"]


class SecretsTest(unittest.TestCase):
    def setUp(self):
        self.fs = FakeServer().start()
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.session = os.path.join(self.dir, "s.json")
        self.env = dict(os.environ)
        self.env.update({
            "WEFT_BASE_URL": self.fs.base_url,
            "WEFT_GENERATOR_MODEL": "gen-model",
            "WEFT_JUDGE_MODEL": "judge-model",
            "OPENAI_API_KEY": KEY,
            "MY_JUDGE_KEY": KEY2,
            "XDG_CONFIG_HOME": self.dir,
            "TMPDIR": os.path.join(self.dir, "tmp"),
        })
        os.makedirs(os.path.join(self.dir, "weft"))
        with open(os.path.join(self.dir, "weft", "config"), "w") as f:
            f.write("[judge]\napi_key_env = MY_JUDGE_KEY\n")
        self.printed = []

    def tearDown(self):
        self.fs.stop()
        self.tmp.cleanup()

    def weft(self, *args):
        code, out, err = run(list(args), self.env)
        self.printed.append((args, out + err))
        return code, out.decode("utf-8", "replace") + err.decode("utf-8", "replace")

    def test_the_key_is_never_written_or_printed(self):
        texts = ["\nQuestion: Is water wet number %d?\nAnswer: %s\n" % (i, "Yes" if i % 2 else "No")
                 for i in range(200)]
        self.fs.control(script={"judge-model": ["1"] * 500, "gen-model": texts})
        code, out = self.weft("new", "--task", "nice-sounding-wrong", "-o", self.session)
        self.assertEqual(code, 0, out)
        code, out = self.weft("generate", self.session, "--rounds", "3", *FAST)
        self.assertEqual(code, 0, out)
        # the fault paths: an echoed key on 401 (generator and judge), 403,
        # quota, retries exhausted, a dropped connection
        # (the judge's last: its step then waits for a person, and a rerun
        # would ask the judge again before the generator)
        for faults, role in (([{}, {}, {"status": 401}], "gen"),
                             ([{"status": 403}], "gen"),
                             ([{"insufficient_quota": True}], "gen"),
                             ([{"status": 500}] * 3, "gen"),
                             ([{"drop": True}] * 3, "gen"),
                             ([{}, {"status": 401}], "judge")):
            self.fs.control(faults=faults)
            code, out = self.weft("generate", self.session, "--rounds", "6", *FAST)
            self.assertNotEqual(code, 0, "%s: %s" % (faults, out))
        self.fs.control(faults=[{"status": 401}])
        self.weft("ping", "generator")
        self.weft("ping")
        self.weft("ping", "--set", "generator.api_key_env=" + KEY)  # a key where a name goes
        self.weft("generate", self.session, "--set", "judge.api_key_env=" + KEY2)
        self.weft("check", self.session)
        for fmt in ("text", "csv", "jsonl"):
            self.weft("extract", self.session, "--format", fmt)
        for fmt in FORMATS:
            out_path = os.path.join(self.dir, "out." + fmt)
            code, out = self.weft("export", self.session, "--format", fmt, "-o", out_path)
            self.assertEqual(code, 0, out)
        # the 401 really echoed the key to weft (the test can fail)
        echoed = [r for r in self.fs.requests()
                  if KEY2 in r["headers"].get("Authorization", "")]
        self.assertTrue(echoed, "the judge's key variable was not used")
        for r in self.fs.requests():
            self.assertNotIn(KEY, str(r["body"]))
            self.assertNotIn(KEY2, str(r["body"]))
        written = []
        for top, _, files in os.walk(self.dir):
            for name in files:
                written.append(os.path.join(top, name))
        self.assertIn(os.path.join(self.dir, "out.bonsai"), written)
        for path in written:
            with open(path, "rb") as f:
                data = f.read()
            for k in (KEY, KEY2):
                self.assertNotIn(k.encode(), data, path)
                self.assertNotIn(k[3:15].encode(), data, path)  # nor a piece of it
        for args, text in self.printed:
            for k in (KEY, KEY2):
                self.assertNotIn(k.encode(), text, args)
                self.assertNotIn(k[3:15].encode(), text, args)
        self.assertTrue(any(b"HTTP 401" in text for _, text in self.printed))


if __name__ == "__main__":
    unittest.main()

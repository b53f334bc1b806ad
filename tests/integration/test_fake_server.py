"""The fake model server itself: the documented rule, faults, --script."""
import json
import os
import tempfile
import unittest
import urllib.error
import urllib.request

from tests.integration.fakeserver import FakeServer, rule

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(fs, path, obj):
    req = urllib.request.Request(fs.base_url + path, data=json.dumps(obj).encode(),
                                 headers={"Content-Type": "application/json"})
    with OPENER.open(req, timeout=10) as r:
        return r.status, dict(r.headers), json.loads(r.read())


class FakeServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.script = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"script": {"judge": ["2"]}}, cls.script)
        cls.script.close()
        cls.fs = FakeServer(script=cls.script.name).start()

    @classmethod
    def tearDownClass(cls):
        cls.fs.stop()
        os.unlink(cls.script.name)

    def test_rule_and_script(self):
        # the script file's answer comes first, then the rule
        _, _, j = post(self.fs, "/chat/completions",
                       {"model": "judge", "messages": [{"role": "user", "content": "q"}], "n": 2})
        self.assertEqual(j["choices"][0]["message"]["content"], "2")
        self.assertEqual(j["choices"][1]["message"]["content"],
                         rule.completion_text("judge", "user: q", 1))
        _, _, j = post(self.fs, "/completions", {"model": "b", "prompt": "Hi there", "n": 3,
                                                 "max_tokens": 3, "logprobs": 2})
        self.assertEqual([c["text"] for c in j["choices"]],
                         [rule.completion_text("b", "Hi there", i, 3) for i in range(3)])
        lp = j["choices"][2]["logprobs"]
        self.assertEqual(lp["token_logprobs"][1], rule.token_logprob("b", "Hi there", 2, 1))
        self.assertEqual(len(lp["top_logprobs"][0]), 2)
        self.assertEqual(j["choices"][0]["finish_reason"], "length")

    def test_verifier_rule(self):
        # a verifier model answers Yes/No by the question's hash, its two
        # alternatives carrying p and 1 - p
        import math
        q = "Do we only use ten percent of our brains?"
        msg = "Check this.\nQuestion: %s\nGiven answer: Yes\nLabel: Yes\n" % q
        _, _, j = post(self.fs, "/chat/completions",
                       {"model": "verifier-x", "messages": [{"role": "user", "content": msg}],
                        "logprobs": True, "top_logprobs": 10})
        p = rule.verifier_p(q)
        self.assertIn(p, [(2 * i + 1) / 20 for i in range(10)])
        c = j["choices"][0]
        self.assertEqual(c["message"]["content"], "Yes" if p > 0.5 else "No")
        tops = {t["token"]: t["logprob"] for t in c["logprobs"]["content"][0]["top_logprobs"]}
        self.assertEqual(tops, {"Yes": math.log(p), "No": math.log(1 - p)})
        _, _, j = post(self.fs, "/chat/completions",
                       {"model": "verifier-x", "messages": [
                           {"role": "user", "content": "Question: am I UNSURE?\n"}]})
        self.assertEqual(j["choices"][0]["message"]["content"], "Perhaps")
        # no_logprobs: the text alone, whatever was asked
        self.fs.control(no_logprobs=True)
        try:
            _, _, j = post(self.fs, "/chat/completions",
                           {"model": "verifier-x", "messages": [
                               {"role": "user", "content": msg}],
                            "logprobs": True, "top_logprobs": 10})
        finally:
            self.fs.control(no_logprobs=False)
        self.assertIsNone(j["choices"][0]["logprobs"])
        self.assertEqual(j["choices"][0]["message"]["content"], "Yes" if p > 0.5 else "No")

    def test_faults_in_order(self):
        self.fs.control(clear_requests=True, faults=[
            {"status": 429, "retry_after_ms": "15"},
            {"insufficient_quota": True},
            {"fewer": 1}])
        body = {"model": "m", "prompt": "x", "n": 2}
        with self.assertRaises(urllib.error.HTTPError) as cm:
            post(self.fs, "/completions", body)
        self.assertEqual(cm.exception.code, 429)
        self.assertEqual(cm.exception.headers["retry-after-ms"], "15")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            post(self.fs, "/completions", body)
        self.assertEqual(json.loads(cm.exception.read())["error"]["code"], "insufficient_quota")
        _, _, j = post(self.fs, "/completions", body)
        self.assertEqual(len(j["choices"]), 1)
        _, _, j = post(self.fs, "/completions", body)
        self.assertEqual(len(j["choices"]), 2)
        reqs = self.fs.requests()
        self.assertEqual(len(reqs), 4)
        self.assertEqual(reqs[0]["body"]["n"], 2)


if __name__ == "__main__":
    unittest.main()

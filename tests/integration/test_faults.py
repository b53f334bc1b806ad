"""The fault matrix: weft generate against the fake server misbehaving, one
kind of fault at a time, then mixed at random with a fixed seed.

For each fault: the run ends with a valid session (weft check replays the
journal), no step is recorded twice or half, the number of requests the
server saw is what the retry rules allow, and the user sees a clear message
(exit status; stderr names the endpoint and the status; never the key).
Backoff and timeouts are set small with --set (retry_base_ms, retry_cap_ms,
retry_after_cap_ms, timeout) so the whole matrix takes seconds.
WEFT_LONG=1 runs more seeds and more steps.
"""
import email.utils
import os
import random
import time
import unittest

from tests.integration.weftrun import FAST, KEY, LONG, ServerCase, integrity, run

ROUNDS = 3
# The generator's request of step 2 (steps send generator then judge).
AT_STEP2 = [{}, {}]

# kind -> (faults queued before it, fault, extra requests on success or None
#          when the run fails, words stderr must contain on failure)
RETRIED = {
    "429": {"status": 429},
    "429-retry-after": {"status": 429, "retry_after": "1"},
    "429-retry-after-ms": {"status": 429, "retry_after_ms": "30"},
    "429-retry-after-date": "date",
    "429-retry-after-above-cap": {"status": 429, "retry_after": "3600"},
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "408": {"status": 408},
    "hang": {"hang": 4},
    "drop": {"drop": True},
}


class FaultTest(ServerCase):
    def setUp(self):
        super().setUp()
        self.fs.control(script={"judge-model": ["1"] * 2000})
        code, out, err = run(["new", "--task", "nice-sounding-wrong", "-o", self.session],
                             self.env)
        self.assertEqual(code, 0, err)

    def generate(self, rounds=ROUNDS, *extra):
        code, out, err = run(["generate", self.session, "--rounds", str(rounds), "-q"]
                             + FAST + list(extra), self.env)
        out = out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
        self.assertNotIn(KEY, out + err)
        self.assertNotIn("\x1b", out + err)
        return code, out, err

    def nreq(self):
        return len(self.fs.requests())

    def baseline(self):
        """Requests a clean run of ROUNDS steps makes (2 per step)."""
        return 2 * ROUNDS

    def expect_retried_once(self, fault):
        self.fs.control(faults=AT_STEP2 + [fault])
        code, out, err = self.generate()
        self.assertEqual(code, 0, err)
        self.assertEqual(integrity(self, self.session), ROUNDS)
        # exactly one retry: the faulty attempt and the one that worked
        self.assertEqual(self.nreq(), self.baseline() + 1)

    def test_retried_faults_cost_one_more_request(self):
        for kind, fault in RETRIED.items():
            with self.subTest(kind=kind):
                self.fs.control(reset=True, script={"judge-model": ["1"] * 200})
                code, _, err = run(["new", "--task", "nice-sounding-wrong", "-o",
                                    self.session, "--force"], self.env)
                self.assertEqual(code, 0, err)
                if fault == "date":
                    fault = {"status": 429, "retry_after":
                             email.utils.formatdate(time.time() + 2, usegmt=True)}
                self.expect_retried_once(fault)

    def expect_failure(self, faults, words, attempts, status=1):
        """The fault stops the run at step 2: step 1 is kept whole, step 2
        is not there at all; a rerun without faults completes."""
        self.fs.control(faults=AT_STEP2 + faults)
        code, out, err = self.generate()
        self.assertEqual(code, status, err)
        url = self.fs.base_url + "/chat/completions"
        self.assertIn(url, err)
        self.assertIn("model gen-model", err)
        for w in words:
            self.assertIn(w, err)
        self.assertIn("after %d attempt" % attempts, err)
        self.assertEqual(integrity(self, self.session), 1)
        self.assertEqual(self.nreq(), 2 + attempts)
        code, _, err = self.generate()
        self.assertEqual(code, 0, err)
        self.assertEqual(integrity(self, self.session), ROUNDS)
        return err

    def test_persistent_503_gives_up_after_the_retries(self):
        self.expect_failure([{"status": 503}] * 3, ["HTTP 503", "fake error 503"], 3)

    def test_persistent_429_with_retry_after_gives_up(self):
        self.expect_failure([{"status": 429, "retry_after": "7200"}] * 3, ["HTTP 429"], 3)

    def test_retries_setting_bounds_the_attempts(self):
        self.fs.control(faults=AT_STEP2 + [{"status": 500}] * 10)
        code, _, err = self.generate(ROUNDS, "--set", "generator.retries=4")
        self.assertEqual(code, 1)
        self.assertIn("after 5 attempts", err)
        self.assertEqual(self.nreq(), 2 + 5)
        self.assertEqual(integrity(self, self.session), 1)

    def test_hang_every_attempt_is_a_timeout(self):
        self.expect_failure([{"hang": 4}] * 3, ["imeout"], 3)

    def test_insufficient_quota_is_not_retried(self):
        self.expect_failure([{"insufficient_quota": True}], ["HTTP 429", "quota"], 1)

    def test_401_is_not_retried_and_hides_the_echoed_key(self):
        err = self.expect_failure([{"status": 401}], ["HTTP 401", "Incorrect API key"], 1)
        self.assertNotIn(KEY, err)

    def test_400_and_404_are_not_retried(self):
        self.expect_failure([{"status": 404}], ["HTTP 404"], 1)

    def judge_fails(self, faults, judge_requests):
        """A judge whose requests keep failing: an error (exit 1), not a
        person's turn; the step's candidates are recorded without
        needsHuman, the judge was asked judge_requests times."""
        self.fs.control(faults=[{}] * 3 + faults)
        code, _, err = self.generate()
        self.assertEqual(code, 1, err)
        self.assertNotIn("needs a person", err)
        self.assertIn("the judge's request failed", err)
        self.assertIn(self.fs.base_url + "/chat/completions", err)
        self.assertEqual(integrity(self, self.session), 1)
        judge = [r for r in self.fs.requests() if r["body"]["model"] == "judge-model"]
        self.assertEqual(len(judge), 1 + judge_requests)
        return err

    def test_judge_401_is_not_asked_again(self):
        self.judge_fails([{"status": 401}], 1)

    def test_judge_503_is_asked_three_times_with_retries_each(self):
        # 3 asks x (1 + 2 retries)
        self.judge_fails([{"status": 503}] * 9, 9)

    def test_malformed_json_is_an_error_not_a_step(self):
        self.expect_failure([{"malformed": True}], ["HTTP 200"], 1)

    def test_truncated_json_is_an_error_not_a_step(self):
        self.expect_failure([{"truncated": True}], ["HTTP 200"], 1)

    def test_empty_choices_are_topped_up(self):
        self.fs.control(faults=AT_STEP2 + [{"empty_choices": True}])
        code, _, err = self.generate()
        self.assertEqual(code, 0, err)
        self.assertEqual(integrity(self, self.session), ROUNDS)
        gen = [r for r in self.fs.requests() if r["body"]["model"] == "gen-model"]
        # step 2: the empty reply, then five single requests; then the
        # server is known to ignore n and step 3 is fanned out from the start
        self.assertEqual([r["body"].get("n", 1) for r in gen], [5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])

    def test_fewer_choices_are_topped_up(self):
        self.fs.control(faults=AT_STEP2 + [{"fewer": 2}])
        code, _, err = self.generate()
        self.assertEqual(code, 0, err)
        self.assertEqual(integrity(self, self.session), ROUNDS)
        gen = [r for r in self.fs.requests() if r["body"]["model"] == "gen-model"]
        self.assertEqual([r["body"].get("n", 1) for r in gen][:5], [5, 5, 1, 1, 1])

    def test_non_utf8_bytes(self):
        self.fs.control(faults=AT_STEP2 + [{"non_utf8": True}])
        code, _, err = self.generate()
        # either stored (bytes kept, file still valid JSON) or refused
        # clearly; never a broken session
        if code == 0:
            self.assertEqual(integrity(self, self.session), ROUNDS)
            self.assertEqual(self.nreq(), self.baseline())
        else:
            self.assertEqual(code, 1)
            self.assertIn(self.fs.base_url, err)
            self.assertEqual(integrity(self, self.session), 1)

    def mixed(self, seed, rounds, nfaults):
        """Faults drawn at random (fixed seed) for the first nfaults
        requests; reruns until the path has `rounds` steps.  After every
        run: valid, whole steps, and the run's requests within the bound
        (per step: 3 attempts of the generator's request and of each of its
        5 top-ups, 3 of the judge's)."""
        rng = random.Random(seed)
        kinds = [{}, {}, {}, {"status": 429}, {"status": 429, "retry_after": "1"},
                 {"status": 500}, {"status": 502}, {"status": 503}, {"drop": True},
                 {"hang": 3}, {"malformed": True}, {"truncated": True},
                 {"empty_choices": True}, {"fewer": 3}, {"insufficient_quota": True},
                 {"non_utf8": True}]
        self.fs.control(reset=True, script={"judge-model": ["1"] * 5000},
                        faults=[rng.choice(kinds) for _ in range(nfaults)])
        runs = 0
        steps = 0
        while steps < rounds:
            runs += 1
            self.assertLess(runs, 4 * nfaults + 10, "no progress")
            before = self.nreq()
            code, _, err = self.generate(rounds)
            # 1: a request failed, the judge's too (quota, or retries used
            # up on every ask): an error, never "needs a person"; a rerun
            # asks again.  The judge always answers "1": no exit 3.
            self.assertIn(code, (0, 1), err)
            if code == 1:
                self.assertRegex(err, r"POST http://127\.0\.0\.1:\d+/v1/chat/completions "
                                      r"\(model (gen|judge)-model\): ")
                self.assertNotIn("needs a person", err)
            now = integrity(self, self.session)
            self.assertGreaterEqual(now, steps)
            self.assertLessEqual(self.nreq() - before, (now - steps + 1) * (3 * 6 + 3))
            steps = now
        self.assertEqual(steps, rounds)

    def test_mixed_faults_fixed_seed(self):
        seeds = range(1, 9) if LONG else [7]
        for seed in seeds:
            with self.subTest(seed=seed):
                code, _, err = run(["new", "--task", "nice-sounding-wrong", "-o",
                                    self.session, "--force"], self.env)
                self.assertEqual(code, 0, err)
                if LONG:
                    self.mixed(seed, 12, 60)
                else:
                    self.mixed(seed, 5, 20)


if __name__ == "__main__":
    unittest.main()

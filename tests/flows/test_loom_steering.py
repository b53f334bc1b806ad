"""Steering in the loom, as a person does it: g runs a step, G asks the
generator for more candidates of the same step, a runs autopilot.  The
expectation comes from what the fake server was scripted to say."""
import unittest

from tests.flows.flowlib import LONG, TASK, FlowCase, candidate


def generator_requests(fs):
    return [r for r in fs.requests() if r["body"].get("model") == "gen-model"]


def root_step(flow, name):
    s = flow.session(name)
    nodes = {x["id"]: x for x in s["nodes"]}
    root = [x for x in s["nodes"] if not x["parentIds"]][0]
    return nodes, root["weft"]["step"]


class LoomSteering(FlowCase):
    def test_G_adds_candidates(self):
        """g, then G at the same step: the generator is asked again and the
        step holds both batches (a step waiting for a pick is not merely
        re-judged)."""
        self.script_steps(2)  # step 1's five texts, then five more
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        p = self.loom("s.json")
        p.keys("g")
        p.wait_for(r"5 candidates; the judge picked one", timeout=30)
        asked = len(generator_requests(self.fs))
        self.assertGreater(asked, 0)
        p.keys("G")
        p.wait_for(r"10 candidates; the judge picked one", timeout=30)
        self.assertGreater(len(generator_requests(self.fs)), asked,
                           "G sent no request to the generator")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")
        nodes, step = root_step(self, "s.json")
        texts = sorted(nodes[c]["text"] for c in step["candidates"])
        want = sorted([candidate(1, i, "Yes") for i in range(1, 6)] +
                      [candidate(2, i, "No") for i in range(1, 6)])
        self.assertEqual(texts, want)


@unittest.skipUnless(LONG, "valgrind over the loom runs only under WEFT_LONG=1 (make test-long)")
class LoomSteeringValgrind(FlowCase):
    def test_g_G_a_have_no_valgrind_findings(self):
        """g, G, Enter, a (autopilot to the task's rounds) and q, in the
        release build under valgrind --track-origins=yes: no finding, no
        uninitialised read."""
        # plenty: under valgrind on a busy machine a slow reply may be
        # asked again, and each ask takes the script's next answer
        self.script_steps(40)
        self.weft("new", "--task", TASK, "-o", "s.json", check=0)
        p = self.loom("s.json", valgrind=True)
        p.keys("g")
        p.wait_for(r"5 candidates; the judge picked one", timeout=120)
        asked = len(generator_requests(self.fs))
        p.keys("G")
        p.wait_for(r"10 candidates; the judge picked one", timeout=120)
        self.assertGreater(len(generator_requests(self.fs)), asked)
        p.keys("Enter")
        p.wait_for(r"accepted", timeout=60)
        p.keys("a")
        # any step from the third on: a busy machine may not show each one
        p.wait_for(r"autopilot: step ([3-9]|\d\d)", timeout=180)
        p.keys("a")
        # a step that ended just before the key is still recorded and says so
        p.wait_for(r"autopilot off|the judge picked one", timeout=60)
        p.keys("q")
        p.wait_for(r"weft-exit=(\d+)", timeout=120)
        screen = p.screen()
        findings = p.valgrind_findings()
        self.assertEqual(findings, "", "valgrind found errors:\n" + findings)
        self.assertIn("weft-exit=0", screen)

    def test_replay_json_has_no_valgrind_findings(self):
        """weft replay --json (no re-judging) on the demo names a rank mode
        it never set before: no uninitialised read now."""
        self.demo_copy()
        code, out, err = self.weft_valgrind("replay", "--json", "demo.json")
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "", "valgrind found errors:\n" + err)
        self.assertIn("steps", out)


if __name__ == "__main__":
    unittest.main()

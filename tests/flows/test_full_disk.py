"""Flow: the journal cannot take a change (a full disk, here a file-size
limit on the loom).  The change is said on screen to be not journalled,
nothing more is changed on top of it (a later change journalled after a
missed one would name a node the journal never had, and the session would
no longer open), and after quitting without saving the session and its
journal still open as they were."""
import json

from tests.flows.flowlib import FlowCase

# writes past 2 KiB fail with EFBIG instead of killing weft (SIGXFSZ ignored)
LIMITED = ["sh", "-c", 'trap "" XFSZ; ulimit -f 4; exec "$0" "$@"']


class FullDisk(FlowCase):
    def test_a_change_the_journal_missed_stops_further_changes(self):
        self.demo_copy("s.json")
        with open(self.path("s.json"), "rb") as f:
            before = f.read()
        # a step whose candidates are far larger than what is left
        big = [" Is %d %s?\nAnswer: Yes\n\nQuestion:" % (i, "x" * 900) for i in range(5)]
        self.fs.control(script={"gen-model": big, "judge-model": ["1"]})
        p = self.loom("s.json", prefix=LIMITED, width=240)
        p.keys("b")  # a small change: journalled
        p.wait_for(r"bookmark")
        p.keys("g")  # a large one: the journal cannot take it
        p.wait_for(r"NOT JOURNALLED", timeout=30)
        p.keys("b")  # a small change would fit, but must not build on it
        s = p.wait_for(r"nothing was changed")
        self.assertIn("not in the journal", s)
        p.keys("q")  # saving a 20 KiB file fails under the limit too
        p.wait_for(r"QUIT WITHOUT SAVING")
        p.keys("Y")
        p.wait_for(r"weft-exit=1")
        # the file is as it was, and with its journal it still opens
        with open(self.path("s.json"), "rb") as f:
            self.assertEqual(f.read(), before)
        self.weft("check", "s.json", check=0)
        with open(self.path("s.json.journal"), "rb") as f:
            lines = [l for l in f.read().split(b"\n") if l]
        ops = [json.loads(l) for l in lines]
        self.assertTrue(all(o["op"] in ("node", "path", "prune", "unprune", "batch")
                            for o in ops))
        self.assertNotIn(b"xxxxxxxxxx", b"\n".join(lines))  # the step never got in
        # the first bookmark (and the path it left), nothing after the miss
        known = {n["id"] for n in json.loads(before)["nodes"]}
        for o in ops:
            ids = [o["node"]["id"]] if o["op"] == "node" else o.get("pathNodes", [])
            self.assertTrue(set(ids) <= known, o)

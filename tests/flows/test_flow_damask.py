"""Flow: a Bonsai file another loom wrote, through every command that reads one.

tel-0s/damask writes "lastVisited" as an integer of milliseconds, and some
nodes carry null or none at all.  check, extract, export (pairs and bonsai)
and replay all read it; the pairs are those of its chosen path; export
--format bonsai writes each lastVisited back exactly as it was loaded."""
import json
import os
import unittest

from tests.flows.flowlib import TMUX, FlowCase, candidate, expected_pairs
from tests.integration.test_tui import Pane
from tests.integration.weftrun import ROOT

ROOT_TEXT = "Write yes/no questions whose comforting answer is wrong.\n\nQuestion:"


def damask_file(picks, others=1):
    """A session as damask writes it: a root, then per step the picked node
    (on the path) and `others` siblings off it; lastVisited an integer of
    milliseconds, null on every third node, absent on every fifth.
    Returns (file object, {id: lastVisited as loaded or the string 'absent'})."""
    nodes, edges, path, visited = [], [], ["-4611686018427387904"], {}

    def add(nid, text, parent):
        node = {"id": nid, "text": text, "parentIds": [parent] if parent else [],
                "childrenIds": []}
        k = len(nodes)
        if k % 5 == 4:
            visited[nid] = "absent"
        else:
            node["lastVisited"] = None if k % 3 == 2 else 1700000000000 + 1234 * k
            visited[nid] = node["lastVisited"]
        node["color"] = "#%06x" % (k * 4099 % 0xffffff)  # a key weft does not know
        nodes.append(node)
        if parent:
            next(n for n in nodes if n["id"] == parent)["childrenIds"].append(nid)
            edges.append({"from": parent, "to": nid, "relation": "parentId"})

    add(path[0], ROOT_TEXT, None)
    for s, i, label in picks:
        parent = path[-1]
        pid = str(7000000000000000000 + s)
        add(pid, candidate(s, i, label), parent)
        for o in range(others):
            add("-%d" % (8000000000000000000 + 10 * s + o),
                candidate(s, i % 5 + 1 + o, "No" if label == "Yes" else "Yes"), parent)
        path.append(pid)
    return ({"nodes": nodes, "edges": edges, "pathNodes": path, "focusedId": path[-1],
             "name": "from damask"}, visited)


class DamaskFile(FlowCase):
    def setUp(self):
        super().setUp()
        self.picks = [(s, 1 + (s * 3) % 5, "Yes" if s % 2 else "No") for s in range(1, 13)]
        obj, self.visited = damask_file(self.picks)
        self.assertIn(None, self.visited.values())
        self.assertIn("absent", self.visited.values())
        with open(self.path("d.json"), "w", encoding="utf-8") as f:
            json.dump(obj, f)

    def test_check(self):
        _, out, _ = self.weft("check", "d.json", check=0)
        self.assertIn("nodes:       %d" % len(self.visited), out)
        self.assertIn("chosen path: %d nodes" % (len(self.picks) + 1), out)

    def test_extract_and_export_pairs(self):
        self.assertEqual(self.exported_pairs("d.json"), expected_pairs(self.picks))
        _, out, _ = self.weft("extract", "d.json", check=0)
        self.assertIn("pairs: %d (of %d matches)" % (len(self.picks), len(self.picks)), out)

    def test_export_bonsai_keeps_last_visited(self):
        self.weft("export", "d.json", "--format", "bonsai", "-o", "out.json", check=0)
        with open(self.path("out.json"), encoding="utf-8") as f:
            out = json.load(f)
        self.assertEqual(len(out["nodes"]), len(self.visited))
        for node in out["nodes"]:
            want = self.visited[node["id"]]
            if want == "absent":
                self.assertNotIn("lastVisited", node)
            else:
                self.assertIn("lastVisited", node)
                self.assertEqual(node["lastVisited"], want, node["id"])
                self.assertIs(type(node["lastVisited"]), type(want))
            self.assertIn("color", node)
        # and weft reads what it wrote to the same pairs
        self.assertEqual(self.exported_pairs("out.json"), expected_pairs(self.picks))

    @unittest.skipUnless(TMUX, "tmux missing")
    def test_loom(self):
        p = Pane(self, ["d.json"], cwd=self.dir,
                 env={"WEFT_PROMPTS": os.path.join(ROOT, "prompts"),
                      "WEFT_THEMES": os.path.join(ROOT, "themes")})
        yes = sum(1 for _, _, label in self.picks if label == "Yes")
        p.wait_for(r"Yes %d No %d" % (yes, len(self.picks) - yes))
        p.keys("q")
        p.wait_for(r"weft-exit=0")

    def test_replay(self):
        _, out, err = self.weft("replay", "d.json", check=0)
        self.assertNotIn("lastVisited", err)
        yes = sum(1 for _, _, label in self.picks if label == "Yes")
        self.assertRegex(out, r"steps +%d\n" % len(self.picks))
        self.assertIn("Yes %d / No %d (%d pairs)" % (yes, len(self.picks) - yes, len(self.picks)),
                      out)


if __name__ == "__main__":
    unittest.main()

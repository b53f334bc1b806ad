"""weft generate with several sessions at once, against the fake server.

Sessions are told apart by a tag line put in front of their root text
("Session a."), which every prompt of theirs holds: the fake server's keyed
rules (tests/fake_server.py, "keyed") give each its own judge answer or
fault.  What each session should hold is what the single-session path
makes of an identical copy, with the same rules."""
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

from tests.integration.weftrun import (FAST, ROOT, WEFT, ServerCase, integrity, load,
                                       replay, weft_checked)

TASK = "nice-sounding-wrong"


def path_texts(session):
    """The texts along the chosen path and, for each step on it, the
    candidates' texts and scores and which one was picked: what a session
    grew, without its (random) node ids; scores to 9 places (a step
    replayed from the journal reads them back from shorter text)."""
    nodes = {n["id"]: n for n in session["nodes"]}
    out = []
    for pid in session["pathNodes"]:
        step = (nodes[pid].get("weft") or {}).get("step")
        if step:
            pick = step.get("finalPick")
            out.append((nodes[pid]["text"], [nodes[c]["text"] for c in step["candidates"]],
                        [round(x, 9) for x in step.get("scores") or []],
                        step["candidates"].index(pick) if pick else None))
        else:
            out.append((nodes[pid]["text"], None, None, None))
    return out


class GenerateManyTest(ServerCase):
    def weft(self, *args, check=None):
        return weft_checked(self, args, self.env, check=check)

    def make(self, folder, tag):
        """A new session in folder whose root starts with "Session TAG."."""
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "%s.json" % tag)
        self.weft("new", "--task", TASK, "-o", path, check=0)
        s = load(path)
        root = s["pathNodes"][0]
        for n in s["nodes"]:
            if n["id"] == root:
                n["text"] = "Session %s.\n%s" % (tag, n["text"])
        with open(path, "w", encoding="utf-8") as f:
            json.dump(s, f)
        return path

    def judge_answers(self, answers):
        """Each tag's judge answers answers[tag] to every question (tag None:
        every session's)."""
        self.fs.control(keyed=[{"contains": "Session %s." % tag if tag else "",
                                "model": "judge-model", "answer": a}
                               for tag, a in answers.items()])

    def solo(self, path, rounds, *flags):
        """The expectation: an identical copy grown alone, by the
        single-session path."""
        copy = os.path.join(self.tmp.name, "solo", os.path.basename(path))
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        shutil.copy(path, copy)
        self.weft("generate", copy, "--rounds", str(rounds), *flags, check=0)
        return path_texts(load(copy))

    def test_several_files_grow_at_once_as_each_would_alone(self):
        tags = {"a": "1", "b": "3", "c": "5", "d": "2"}
        self.judge_answers(tags)
        many = os.path.join(self.tmp.name, "many")
        paths = [self.make(many, t) for t in tags]
        expect = {}
        for p in paths:  # made before the run: each from its untouched file
            shutil.copy(p, p + ".orig")
        self.fs.control(latency_ms=150)
        code, out, err = self.weft("generate", *paths, "--rounds", "4")
        self.assertEqual(code, 0, err)
        self.assertIn("4 sessions: 4 done, 0 waiting for a person, 0 failed; 16 steps", out)
        for p in paths:
            self.assertIn("%s: 4 steps" % p, out)
            self.assertIn("%s: step 4/4" % p, out)
        # off a terminal, the progress display is plain lines on stderr
        self.assertIn("weft generate: sessions 4/4 done  steps 16/16  0 in flight", err)
        # all four began before any step ended: their first requests are the
        # four generations, one per session, ahead of any judge request
        first = self.fs.requests()[:4]
        self.assertEqual([r["body"]["model"] for r in first], ["gen-model"] * 4)
        self.assertEqual(sorted(re.search(r"Session (\w)\.", json.dumps(r["body"])).group(1)
                                for r in first), sorted(tags))
        self.fs.control(latency_ms=0)
        for p in paths:
            self.assertFalse(os.path.exists(p + ".journal"))
            self.assertEqual(integrity(self, p), 4)
            got = path_texts(load(p))
            os.replace(p + ".orig", p + ".solo")
            want = self.solo(p + ".solo", 4)
            self.assertEqual(got, want, p)
            picks = [x[3] for x in got if x[1] is not None]
            self.assertEqual(picks, [int(tags[os.path.basename(p)[0]]) - 1] * 4)

    def test_sessions_folder_is_made_then_resumed(self):
        self.judge_answers({None: "2"})  # every session alike: the judge says 2
        out_dir = os.path.join(self.tmp.name, "runs")
        cmd = ["generate", "--sessions", "3", "--task", TASK, "-o", out_dir]
        _, out, _ = self.weft(*cmd, "--rounds", "3", check=0)
        self.assertIn("3 sessions (3 new): 3 done", out)
        names = ["%s-%03d.json" % (TASK, k) for k in (1, 2, 3)]
        self.assertEqual(sorted(os.listdir(out_dir)), names)
        fresh = os.path.join(self.tmp.name, "fresh.json")
        self.weft("new", "--task", TASK, "-o", fresh, check=0)
        want3 = self.solo(fresh, 3)
        first = {}
        for n in names:
            p = os.path.join(out_dir, n)
            self.assertEqual(integrity(self, p), 3)
            first[n] = load(p)["pathNodes"]
            self.assertEqual(path_texts(load(p)), want3)
        # the same command continues those sessions: none made, none redone
        _, out, _ = self.weft(*cmd, "--rounds", "5", check=0)
        self.assertRegex(out, r"(?m)^3 sessions: 3 done")
        want5 = self.solo(fresh, 5)
        for n in names:
            s = load(os.path.join(out_dir, n))
            self.assertEqual(s["pathNodes"][:4], first[n])
            self.assertEqual(path_texts(s), want5)
        # a larger K adds sessions beside them
        cmd[2] = "4"
        _, out, _ = self.weft(*cmd, "--rounds", "5", check=0)
        self.assertIn("4 sessions (1 new): 4 done", out)
        self.assertEqual(path_texts(load(os.path.join(out_dir, "%s-004.json" % TASK))), want5)

    def test_failing_and_slow_sessions_hold_up_none_of_the_others(self):
        tags = ["a", "b", "c", "d", "e", "f"]
        folder = os.path.join(self.tmp.name, "many")
        paths = [self.make(folder, t) for t in tags]
        self.fs.control(keyed=[
            # b's generator answers 500 every time: it fails after its retries
            {"contains": "Session b.", "model": "gen-model", "status": 500},
            # c's judge refuses the key: its candidates are kept, it fails
            {"contains": "Session c.", "model": "judge-model", "status": 401},
            # d's generator never answers in time
            {"contains": "Session d.", "model": "gen-model", "hang": 10},
            # f's judge answers, unusably: f waits for a person
            {"contains": "Session f.", "model": "judge-model", "answer": "9"},
            {"contains": "", "model": "judge-model", "answer": "4"},
        ])
        # e is open for writing in another weft
        held = open(paths[4] + ".lock", "w")
        self.addCleanup(held.close)
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        before = {p: load(p) for p in paths}
        code, out, err = self.weft("generate", *paths, "--rounds", "3", "--rank", "choice",
                                   *FAST)
        self.assertEqual(code, 1, err)  # errors win over a person's turn
        self.assertIn("6 sessions: 1 done, 1 waiting for a person, 4 failed", out)
        listed = err[err.index("4 sessions failed"):]
        self.assertRegex(listed, r"\n  %s: step 1: .*HTTP 500" % re.escape(paths[1]))
        self.assertRegex(listed, r"\n  %s: step 1: the judge failed \(its 5 candidates are "
                         r"kept\): .*HTTP 401" % re.escape(paths[2]))
        self.assertRegex(listed, r"\n  %s: step 1: .*" % re.escape(paths[3]))
        self.assertRegex(listed, r"\n  %s: .*open for writing in another weft" %
                         re.escape(paths[4]))
        waiting = err[err.index("1 session waits for a person"):err.index("4 sessions failed")]
        self.assertRegex(waiting, r"\n  %s: step 1 needs a person: .*outside 1\.\.5" %
                         re.escape(paths[5]))
        self.assertNotIn(paths[0] + ":", listed + waiting)
        self.assertEqual(integrity(self, paths[0]), 3)
        # every other session had asked all it would (a its three steps)
        # before d's third attempt was even sent: none waited on d
        reqs = self.fs.requests()
        tag_of = [re.search(r"Session (\w)\.", json.dumps(r["body"])).group(1) for r in reqs]
        d_attempts = [k for k, t in enumerate(tag_of) if t == "d"]
        self.assertEqual(len(d_attempts), 3)
        for t in "abcf":
            self.assertLess(max(k for k, x in enumerate(tag_of) if x == t), d_attempts[2], t)
        # what failed kept what it had: b and d nothing, c and f their candidates
        for p in (paths[1], paths[3]):
            self.assertEqual(load(p)["pathNodes"], before[p]["pathNodes"])
            self.assertEqual(len(load(p)["nodes"]), 1)
        for p in (paths[2], paths[5]):
            s = load(p)
            self.assertEqual(len(s["pathNodes"]), 1)
            self.assertEqual(len(s["nodes"]), 6)
            self.assertFalse(os.path.exists(p + ".journal"))
        self.assertEqual(load(paths[4]), before[paths[4]])  # not touched
        # with the server mended and the lock gone, the same command finishes
        # them all; c and f are judged on the candidates they kept
        held.close()
        kept = {p: path_texts(load(p))[0][1] for p in (paths[2], paths[5])}
        self.fs.control(reset=True)
        self.fs.control(keyed=[{"contains": "", "model": "judge-model", "answer": "4"}])
        _, out, err = self.weft("generate", *paths, "--rounds", "3", "--rank", "choice",
                                *FAST, check=0)
        self.assertIn("6 sessions: 6 done", out)
        for p in paths:
            self.assertEqual(integrity(self, p), 3)
        for p, cands in kept.items():
            self.assertEqual(path_texts(load(p))[0][1], cands)

    def test_a_session_waiting_for_a_person_exits_3(self):
        folder = os.path.join(self.tmp.name, "many")
        paths = [self.make(folder, t) for t in ("a", "b", "c")]
        self.judge_answers({"a": "2", "b": "no idea", "c": "3"})
        code, out, err = self.weft("generate", *paths, "--rounds", "2", "--rank", "choice")
        self.assertEqual(code, 3, err)
        self.assertIn("3 sessions: 2 done, 1 waiting for a person, 0 failed", out)
        self.assertRegex(err, r"1 session waits for a person.*\n  %s: step 1 needs a person: "
                         r".*no option number" % re.escape(paths[1]))
        self.assertNotIn("failed:", err)
        step = next(n for n in load(paths[1])["nodes"]
                    if n["id"] == load(paths[1])["pathNodes"][0])["weft"]["step"]
        self.assertIn("needsHuman", step)
        for p in (paths[0], paths[2]):
            self.assertEqual(integrity(self, p), 2)

    def test_sigkill_mid_run_then_the_same_command_resumes_every_session(self):
        self.fs.control(latency_ms=60)
        self.judge_answers({None: "1"})
        out_dir = os.path.join(self.tmp.name, "runs")
        target, k = 6, 4
        cmd = [WEFT, "generate", "--sessions", str(k), "--task", TASK, "-o", out_dir,
               "--rounds", str(target), "-q"]
        names = [os.path.join(out_dir, "%s-%03d.json" % (TASK, j)) for j in range(1, k + 1)]
        seen = {n: 0 for n in names}
        between = journals = False

        def journal_sizes():
            return [os.path.getsize(n + ".journal") if os.path.exists(n + ".journal") else -1
                    for n in names]

        # the first kill comes early (making the files, first requests);
        # the others a moment after the run journalled a step
        for wait, d in ((False, 0.1), (True, 0.0), (True, 0.15), (True, 0.05)):
            before = journal_sizes()
            p = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while wait and journal_sizes() == before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(d)
            p.send_signal(signal.SIGKILL)
            p.wait()
            for n in names:
                if not os.path.exists(n):
                    continue
                steps = integrity(self, n)  # whole steps only, each once
                self.assertGreaterEqual(steps, seen[n])
                seen[n] = steps
                between = between or 0 < steps < target
                journals = journals or os.path.exists(n + ".journal")
        self.assertTrue(between, "no kill came between steps")
        self.assertTrue(journals, "no kill left a journal to resume from")
        code, out, err = weft_checked(self, cmd[1:], self.env)
        self.assertEqual(code, 0, err)
        self.assertNotIn("sessions", err)  # --quiet: no progress display
        self.assertEqual(sorted(os.listdir(out_dir)), [os.path.basename(n) for n in names])
        self.fs.control(latency_ms=0)
        fresh = os.path.join(self.tmp.name, "fresh.json")
        self.weft("new", "--task", TASK, "-o", fresh, check=0)
        want = self.solo(fresh, target)
        for n in names:
            self.assertFalse(os.path.exists(n + ".journal"))
            self.assertEqual(integrity(self, n), target)
            self.assertEqual(path_texts(replay(n)), want)

    def test_interrupt_saves_every_session(self):
        self.fs.control(latency_ms=150)
        self.judge_answers({None: "1"})
        folder = os.path.join(self.tmp.name, "many")
        paths = [self.make(folder, t) for t in ("a", "b", "c")]
        p = subprocess.Popen([WEFT, "generate"] + paths + ["--rounds", "50"], env=self.env,
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until each session took a step
            if all(os.path.exists(x + ".journal") for x in paths):
                break
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn(b"interrupted; every step taken is saved", err)
        for x in paths:
            self.assertFalse(os.path.exists(x + ".journal"))  # folded into the file
            self.assertFalse(os.path.exists(x + ".lock"))
            self.assertGreater(integrity(self, x), 0)

    def test_bad_usage(self):
        d = os.path.join(self.tmp.name, "d")
        for argv, why in (
                (["--sessions", "2", "--task", TASK], "needs --task NAME and -o DIR"),
                (["--sessions", "2", "-o", d], "needs --task NAME and -o DIR"),
                (["--sessions", "2", "--task", TASK, "-o", d, "x.json"], "give no FILE"),
                (["--sessions", "0", "--task", TASK, "-o", d], "from 1 to 10000"),
                (["x.json", "-o", d], "-o DIR goes with --sessions K")):
            code, _, err = self.weft("generate", *argv)
            self.assertEqual(code, 2, argv)
            self.assertIn(why, err)
        self.assertFalse(os.path.exists(d))
        code, _, err = self.weft("generate", "--sessions", "2", "--task", "no-such-task",
                                 "-o", d)
        self.assertEqual(code, 1)
        self.assertFalse(os.path.exists(d))  # nothing made for a task that does not load
        code, _, err = self.weft("generate", "a.json", "b.json", "--rank", "loud")
        self.assertEqual(code, 2)
        self.assertIn("--rank takes", err)


if __name__ == "__main__":
    unittest.main()

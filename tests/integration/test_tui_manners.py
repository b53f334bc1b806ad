"""The manners users of htop, tig or lazygit expect of the loom: a status
line whose facts a message never covers and a page of the recent messages
(m), smartcase search that counts its matches (/ n N), the next bookmark
('), paging through the outline (PgUp PgDn Home End), a prune prompt that
counts, and the text pane wrapped at word boundaries.

Run: python3 -m unittest tests.integration.test_tui_manners (WEFT_BIN picks
the binary; default build/asan/weft)."""

import json
import os
import re
import shutil
import tempfile
import unicodedata
import unittest

from tests.integration.test_tui import ROOT, TMUX, WEFT, Pane, width

# The long error of an export to a folder that is not there.
NOWHERE = "/nonexistent-weft-folder/with/a/rather/long/name/that/goes/on/out.csv"


def unwrap(page, start):
    """The kind and the text of the message on the messages page that begins
    with start, its wrapped lines joined again by one space."""
    rows = page.split("\n")
    for i, row in enumerate(rows):
        m = re.match(r"\s*\d\d:\d\d:\d\d (error|info)\s+", row)
        if m and row[m.end():].startswith(start):
            parts = [row[m.end():].rstrip()]
            for cont in rows[i + 1:]:
                if not cont.startswith(" " * m.end()) or not cont.strip():
                    break
                parts.append(cont.strip())
            return m.group(1), " ".join(parts)
    raise AssertionError("no message starting %r on the page:\n%s" % (start, page))


def write_session(path, children, texts, path_ids, focus):
    """A Bonsai-shaped session: children maps an id to its children's ids
    (the first id is the root), texts an id to its text."""
    ids = list(children)
    for kids in children.values():
        ids += [k for k in kids if k not in ids]
    parent = {k: p for p, kids in children.items() for k in kids}
    nodes = [{"id": i, "text": texts.get(i, "node %s\n" % i),
              "parentIds": [parent[i]] if i in parent else [],
              "childrenIds": children.get(i, []), "lastVisited": "1700000000",
              "group": "path" if i in path_ids else ""} for i in ids]
    doc = {"name": "manners", "nodes": nodes,
           "edges": [{"from": p, "to": c, "relation": "parentId"}
                     for p, kids in children.items() for c in kids],
           "pathNodes": path_ids, "focusedId": focus}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)


def cols(text):
    """Terminal columns: wide and fullwidth 2, combining marks 0."""
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_words(text, pane_w):
    """One paragraph wrapped as a reader expects: a word goes to the next
    row when it does not fit but would fit on a row of its own; a longer
    word fills the row and goes on below; a space that does not fit ends
    the row.  Rows as captured (trailing spaces stripped)."""
    rows, cur = [], ""
    words = text.split(" ")
    for n, word in enumerate(words):
        if cols(cur) + cols(word) > pane_w and cols(word) <= pane_w:
            rows.append(cur)
            cur = ""
        for ch in word:
            if cols(cur) + cols(ch) > pane_w:
                rows.append(cur)
                cur = ""
            cur += ch
        if n + 1 < len(words):
            if cols(cur) + 1 > pane_w:
                rows.append(cur)
                cur = ""
            else:
                cur += " "
    rows.append(cur)
    return [r.rstrip() for r in rows]


def subtree_size(children, top):
    return 1 + sum(subtree_size(children, c) for c in children.get(top, []))


class LoomCase(unittest.TestCase):
    """The loom on a generated tree (no session file needed)."""

    def open(self, *extra, **kw):
        p = Pane(self, ["tui", "--synthetic", "300"] + list(extra), **kw)
        p.wait_for(r"\? help")
        return p

    def quit(self, p):
        p.keys("q")
        p.wait_for(r"weft-exit=0|q again quits without saving")
        if "q again" in p.screen():
            p.keys("q")
            p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
class TestLoomStatus(LoomCase):
    def test_long_error_keeps_the_fields_and_is_read_whole(self):
        p = self.open(width=80, height=24)
        p.keys("x", "C-u")
        for _ in range(4):  # clear the default file name
            p.keys(*["BSpace"] * 40)
        p.type(NOWHERE)
        p.keys("Enter")
        p.wait_for(r"…")
        status = p.status()
        # the facts that stay whole, before the message (the others make
        # way whole); the message cut with an ellipsis
        self.assertRegex(status, r"^ step 0/60 \| /nonexistent-weft-folder/\S*…$")
        self.assertLessEqual(width(status), 80)
        p.keys("m")
        page = p.wait_for(r"weft messages, newest first")
        kind, text = unwrap(page, "/nonexistent-weft-folder")
        self.assertEqual(kind, "error")
        self.assertIn(NOWHERE, text.replace(" ", ""))
        self.assertIn("No such file or directory", re.sub(r"\s+", " ", page))
        for row in page.split("\n"):
            self.assertLessEqual(width(row), 80)
        p.keys("Escape")
        p.wait_for(r"\? help")
        p.keys("C-l")  # a key clears the message: the facts come back whole
        p.wait_for(r"autopilot off \| step 0/60 \| Yes 30 No 30 \|")
        self.quit(p)

    def test_messages_page_newest_first(self):
        p = self.open()
        p.keys("Left")
        p.wait_for(r"at the root")
        p.keys("C-c")
        p.wait_for(r"q quits \(saving\)")
        p.keys("m")
        page = p.wait_for(r"weft messages")
        self.assertLess(page.index("q quits (saving)"), page.index("at the root"))
        p.keys("q")  # any key returns, q too: it does not quit from the page
        p.wait_for(r"\? help")
        self.quit(p)


DEMO = os.path.join(ROOT, "sessions", "demo.json")
ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def demo_copy(testcase):
    tmp = tempfile.mkdtemp(prefix="weft-manners-")
    testcase.addCleanup(shutil.rmtree, tmp, True)
    path = os.path.join(tmp, "demo.json")
    shutil.copy(DEMO, path)
    with open(path, encoding="utf-8") as f:
        return path, json.load(f)


def matches(doc, pattern):
    """The indexes (file order, which is the loom's creation order) of the
    nodes whose text holds pattern: ASCII case folded unless pattern has a
    capital."""
    fold = pattern == pattern.translate(ASCII_FOLD)
    out = []
    for i, node in enumerate(doc["nodes"]):
        text = node["text"].translate(ASCII_FOLD) if fold else node["text"]
        if pattern in text:
            out.append(i)
    return out


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
@unittest.skipUnless(os.path.exists(DEMO), "sessions/demo.json is not there")
class TestLoomMannersDemo(unittest.TestCase):
    def test_smartcase_search_counts_and_wraps(self):
        path, doc = demo_copy(self)
        focus = [n["id"] for n in doc["nodes"]].index(doc["focusedId"])
        lower, upper = matches(doc, "are"), matches(doc, "Are")
        self.assertGreater(len(lower), len(upper))  # the demo tells them apart
        p = Pane(self, [path])
        p.wait_for(r"\? help")
        p.keys("/")
        p.type("are")
        p.keys("Enter")
        after = [i for i in lower if i > focus]
        k = lower.index(after[0]) + 1 if after else 1
        p.wait_for(r'found "are": match %d of %d%s' % (
            k, len(lower), "" if after else r" \(search wrapped to the top\)"))
        # n walks on to the last match, then wraps to the first and says so
        for j in range(k + 1, len(lower) + 1):
            p.keys("n")
            p.wait_for(r"match %d of %d\s*$" % (j, len(lower)))
        p.keys("n")
        p.wait_for(r"match 1 of %d \(search wrapped to the top\)" % len(lower))
        p.keys("N")  # back past the first: wraps to the last
        p.wait_for(r"match %d of %d \(search wrapped to the bottom\)" % (len(lower), len(lower)))
        p.keys("N")
        p.wait_for(r"match %d of %d\s*$" % (len(lower) - 1, len(lower)))
        p.keys("/")
        p.type("Are")  # a capital: case counts
        p.keys("Enter")
        p.wait_for(r'found "Are": match \d+ of %d' % len(upper))
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
class TestLoomMoving(LoomCase):
    """' and the paging keys on the generated tree (60 steps, five
    candidates each: each step's node shows five outline lines, itself and
    its four alternatives; the tip one)."""

    def step(self, p):
        m = re.search(r"step (\d+)/60", p.status())
        return int(m.group(1)) if m else None

    def test_next_bookmark_wraps_and_says_when_none(self):
        p = self.open()
        p.keys("'")
        p.wait_for(r"no bookmarks \(b sets one\)")
        p.keys("l", "l", "b")  # bookmarks at steps 2 and 4
        p.wait_for(r"bookmarked")
        p.keys("l", "l", "b")
        p.wait_for(r"bookmarked")
        p.keys("Home")
        p.wait_for(r"step 0/60 \|")
        p.keys("'")
        p.wait_for(r"bookmark 1 of 2")
        self.assertEqual(self.step(p), 2)
        p.keys("'")
        p.wait_for(r"bookmark 2 of 2\s*$")
        self.assertEqual(self.step(p), 4)
        p.keys("'")
        p.wait_for(r"bookmark 1 of 2 \(wrapped to the first\)")
        self.assertEqual(self.step(p), 2)
        self.quit(p)

    def test_page_keys_move_a_page_of_outline(self):
        height = 30
        p = self.open(height=height)
        # the outline has the rows between the header and the status line:
        # a page is the nodes whose five lines fit there
        page = (height - 2) // 5
        p.keys("PPage")
        p.wait_for(r"at the root")
        p.keys("NPage")
        p.wait_for(r"step %d/60 \|" % page)
        p.keys("NPage")
        p.wait_for(r"step %d/60 \|" % (2 * page))
        p.keys("PPage")
        p.wait_for(r"step %d/60 \|" % page)
        p.keys("End")
        p.wait_for(r"step 60/60 \|")
        p.keys("NPage")
        p.wait_for(r"at the end of the line")
        p.keys("Home")
        p.wait_for(r"step 0/60 \|")
        self.quit(p)


@unittest.skipUnless(TMUX, "tmux is not installed: the TUI tests need it")
@unittest.skipUnless(os.path.exists(WEFT), "weft binary missing: " + WEFT)
class TestLoomSessionFile(LoomCase):
    def session(self, children, texts, path_ids, focus):
        tmp = tempfile.mkdtemp(prefix="weft-manners-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "s.json")
        write_session(path, children, texts, path_ids, focus)
        return path

    def test_prune_prompt_counts_the_nodes(self):
        children = {"r": ["a", "b"], "a": ["a1", "a2", "a3"], "a1": ["a11", "a12"],
                    "a11": ["a111"], "a3": ["a31"]}
        path = self.session(children, {}, ["r", "a", "a1", "a11", "a111"], "a")
        p = Pane(self, [path])
        p.wait_for(r"\? help")
        p.keys("d")
        p.wait_for(r"prune this subtree\? \(y/n\) %d nodes go\b" % subtree_size(children, "a"))
        p.keys("n")
        p.wait_for(r"not pruned")
        p.keys("j", "d")  # b, a leaf
        p.wait_for(r"prune this subtree\? \(y/n\) 1 node goes\b")
        p.keys("y")
        p.wait_for(r"pruned \(u undoes\)")
        p.wait_for(r"step 0/4 \|")  # the cursor went up to the root
        p.keys("l", "l", "d")  # a1, on the chosen path
        p.wait_for(r"prune this subtree\? \(y/n\) %d nodes go\b" % subtree_size(children, "a1"))
        p.keys("n")
        p.keys("q")
        p.wait_for(r"weft-exit=0")
        self.assertEqual(p.stderr(), "")

    def test_text_pane_wraps_at_words(self):
        text = ("Task: the quick brown fox jumps over the lazy dog while 中文字符 wide "
                "words and cafe\u0301 with a combining mark keep their columns; "
                "Supercalifragilisticexpialidociousandthensomemoretomakeitlongerthanthepane "
                "ends the long word, then short words follow again.")
        path = self.session({"r": ["a"]}, {"r": text, "a": "\nQuestion: x\n"}, ["r", "a"], "r")
        p = Pane(self, [path], width=100)
        p.wait_for(r"\? help")
        pane_w = 100 - (100 * 2 // 5 + 1)  # the outline takes two fifths, then the divider
        expected = wrap_words(text, pane_w)
        rows = [l.split("│", 1)[1].rstrip() for l in p.lines()[1:1 + len(expected)]]
        self.assertEqual(rows, expected)
        # a wide word goes whole to the next row; the longer word fills one
        self.assertTrue(rows[1].startswith("中文字符 "), rows)
        self.assertTrue(any("Supercali" in r and cols(r) == pane_w for r in rows), rows)
        p.keys("q")
        p.wait_for(r"weft-exit=0")

#!/usr/bin/env python3
"""Python baseline for session load/save (what the Python looms do).

    py_loom.py [--gc-off] load FILE      json.load, build Node objects with
                                         parent links and a children list:
                                         seconds (wall and CPU), peak RSS
    py_loom.py [--gc-off] save FILE OUT  the same load (not timed), then
                                         json.dump of the nodes back to OUT:
                                         seconds

--gc-off runs gc.disable() first: the cyclic garbage collector otherwise
walks the growing heap again and again while a million node objects are
made, so a Python loom that turns it off around its load (as careful ones
do) is the stronger baseline.  Without the flag the collector stays on, as
in most looms.

Prints one line of JSON (like weft_bench) so run.py can compare.
"""
import gc
import json
import resource
import sys
import time


class Node:
    """One node as a Python loom keeps it (Bonsai, loom-style)."""

    def __init__(self, d):
        self.id = d["id"]
        self.text = d.get("text", "")
        self.parent = None
        self.children = []
        self.meta = {k: v for k, v in d.items()
                     if k not in ("id", "text", "parentIds", "childrenIds")}
        self.parent_id = (d.get("parentIds") or [None])[0]

    def to_json(self):
        d = {"id": self.id, "text": self.text,
             "parentIds": [self.parent.id] if self.parent else [],
             "childrenIds": [c.id for c in self.children]}
        d.update(self.meta)
        return d


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    nodes = {}
    for d in doc["nodes"]:
        nodes[d["id"]] = Node(d)
    root = None
    for n in nodes.values():
        if n.parent_id is None:
            root = n
        else:
            p = nodes[n.parent_id]
            n.parent = p
            p.children.append(n)
    rest = {k: v for k, v in doc.items() if k != "nodes"}
    del doc
    return nodes, root, rest


def save(nodes, root, rest, out):
    doc = dict(rest)
    order = []
    stack = [root]
    while stack:  # preorder, as weft writes
        n = stack.pop()
        order.append(n.to_json())
        stack.extend(reversed(n.children))
    doc["nodes"] = order
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)


def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    args = sys.argv[1:]
    gc_off = args[:1] == ["--gc-off"]
    if gc_off:
        args = args[1:]
        gc.disable()
    out = {"gc": not gc_off}
    if len(args) == 2 and args[0] == "load":
        c0 = time.process_time()
        t0 = time.monotonic()
        nodes, _, _ = load(args[1])
        t1 = time.monotonic()
        out.update({"nodes": len(nodes), "seconds": t1 - t0,
                    "cpu_seconds": time.process_time() - c0, "peak_kib": peak_kib()})
        print(json.dumps(out))
        return 0
    if len(args) == 3 and args[0] == "save":
        nodes, root, rest = load(args[1])
        t0 = time.monotonic()
        save(nodes, root, rest, args[2])
        t1 = time.monotonic()
        out.update({"nodes": len(nodes), "seconds": t1 - t0, "peak_kib": peak_kib()})
        print(json.dumps(out))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`make bench`: weft against named baselines, one table (not a test).

Every figure comes from this run on this machine; nothing is hard-coded.
Run from the repository root after `make weft` and the bench programs
(`make bench` builds them).  Environment:

    WEFT_BENCH_SIZES=10000,100000,1000000   session sizes (nodes)
    WEFT_BENCH_TMP=DIR                      where sessions go (default: a
                                            temporary folder, removed)

Sections (see docs/benchmarks.md): session load and save
(weft_bench vs py_loom.py), request fan-out (weft_bench vs py_fanout.py,
both against fast_server.c; tests/fake_server.py measured beside it),
client CPU per request, the screen (tui_bench, when the TUI exists), and
weft map's Barnes-Hut t-SNE.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "build", "release", "bench")
HERE = os.path.join(ROOT, "tests", "bench")
PY = sys.executable

ROWS = []   # (figure, weft, baseline, ratio, target, met)
NOTES = []


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run_json(argv, timeout=600):
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                   p.stderr.strip()[-500:]))
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["_wall"] = time.monotonic() - t0
    return out


def row(figure, weft, baseline, ratio, target="", met=None):
    ROWS.append((figure, weft, baseline, ratio, target,
                 "" if met is None else ("yes" if met else "NO")))


def fmt_s(x):
    if x < 0.01:
        return "%.2f ms" % (x * 1000)
    return "%.2f s" % x if x >= 1 else "%.0f ms" % (x * 1000)


def fmt_mib(kib):
    return "%.0f MiB" % (kib / 1024.0)


class Server:
    """fast_server (tests/bench/fast_server.c) or tests/fake_server.py on a free port."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, stdin=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError("server did not start: %r" % argv)
        self.port = int(line)
        self.url = "http://127.0.0.1:%d/v1" % self.port

    def cpu(self):
        """User+sys CPU seconds of the server process so far (from /proc)."""
        try:
            with open("/proc/%d/stat" % self.p.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return float("nan")

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def sessions(tmp, sizes):
    files = {}
    for n in sizes:
        path = os.path.join(tmp, "s%d.json" % n)
        log("generating %d nodes" % n)
        subprocess.run([os.path.join(BIN, "tree_1m"), "save", path, str(n)], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
        files[n] = path
    return files


def bench_sessions(tmp, files):
    big = max(files)
    for n, path in sorted(files.items()):
        mb = os.path.getsize(path) / 1048576.0
        log("load/save %d nodes (%.0f MiB)" % (n, mb))
        wl = run_json([os.path.join(BIN, "weft_bench"), "load", path])
        ws = run_json([os.path.join(BIN, "weft_bench"), "save", path, path + ".weft.out"])
        pl = run_json([PY, os.path.join(HERE, "py_loom.py"), "load", path])
        # the strong baseline: the same load with Python's cyclic garbage
        # collector off (gc.disable()), as a careful Python loom does
        pn = run_json([PY, os.path.join(HERE, "py_loom.py"), "--gc-off", "load", path])
        ps = run_json([PY, os.path.join(HERE, "py_loom.py"), "save", path, path + ".py.out"])
        for f in (path + ".weft.out", path + ".py.out"):
            os.unlink(f)
        tag = "%s nodes, %.0f MiB" % (human(n), mb)
        key = n == big
        r = wl["seconds"] / pl["seconds"]
        row("load time (%s)" % tag, fmt_s(wl["seconds"]), fmt_s(pl["seconds"]) + " py",
            "%.3f" % r, "<= 0.333" if key else "", r <= 1 / 3 if key else None)
        r = wl["seconds"] / pn["seconds"]
        row("load time vs GC-off Python (%s)" % tag, fmt_s(wl["seconds"]),
            fmt_s(pn["seconds"]) + " py gc off", "%.3f" % r, "<= 0.2" if key else "",
            r <= 0.2 if key else None)
        r = wl["peak_kib"] / pl["peak_kib"]
        row("load peak RSS (%s)" % tag, fmt_mib(wl["peak_kib"]), fmt_mib(pl["peak_kib"]) + " py",
            "%.3f" % r, "<= 0.5" if key else "", r <= 0.5 if key else None)
        r = wl["peak_kib"] / pn["peak_kib"]
        row("peak RSS vs GC-off Python (%s)" % tag, fmt_mib(wl["peak_kib"]),
            fmt_mib(pn["peak_kib"]) + " py gc off", "%.3f" % r, "<= 0.333" if key else "",
            r <= 1 / 3 if key else None)
        if key:
            NOTES.append("session load, %s, CPU (user+sys) beside wall: weft %.2f s of %.2f s, "
                         "Python GC on %.2f s of %.2f s, GC off %.2f s of %.2f s; CPU ratio to "
                         "GC off %.3f (on a shared machine wall is CPU plus waiting for a core)"
                         % (tag, wl["cpu_seconds"], wl["seconds"], pl["cpu_seconds"],
                            pl["seconds"], pn["cpu_seconds"], pn["seconds"],
                            wl["cpu_seconds"] / pn["cpu_seconds"]))
        r = ws["seconds"] / ps["seconds"]
        row("save time (%s)" % tag, fmt_s(ws["seconds"]), fmt_s(ps["seconds"]) + " py",
            "%.3f" % r, "<= 0.333" if key else "", r <= 1 / 3 if key else None)


def bench_replay(tmp):
    """weft replay over a node with many children and no decision records
    (a Bonsai file from elsewhere): linear since the walk reads each
    child once (it was quadratic: 100k children took 21 s).  Beside it,
    Python only loading the same file."""
    n = 200000
    path = os.path.join(tmp, "wide.json")
    nodes = [{"id": "r", "text": "Intro\n", "parentIds": [],
              "childrenIds": ["c%d" % i for i in range(n)]}]
    nodes += [{"id": "c%d" % i, "text": " x%d" % i, "parentIds": ["r"], "childrenIds": []}
              for i in range(n)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"name": "wide", "nodes": nodes, "pathNodes": ["r", "c%d" % (n - 1)],
                   "focusedId": "c%d" % (n - 1)}, f)
    log("replay of a node with %d children" % n)
    t0 = time.monotonic()
    subprocess.run([os.path.join(ROOT, "weft"), "replay", path, "--json"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    dt = time.monotonic() - t0
    pl = run_json([PY, os.path.join(HERE, "py_loom.py"), "load", path])
    row("replay, %s children without records" % human(n), fmt_s(dt),
        fmt_s(pl["seconds"]) + " py load", "%.3f" % (dt / pl["seconds"]))
    os.unlink(path)


def bench_batch(tmp):
    """weft eval --batch against tests/fake_server.py's batch endpoints: a
    2,000-example, 4-model evaluation, live and in batches, in the same run;
    the results files must match byte for byte (no timing is in them)."""
    n, models = 2000, ["m1", "m2", "m3", "m4"]
    work = os.path.join(tmp, "batch-eval")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "data.csv")
    with open(data, "w", encoding="utf-8") as f:
        f.write("prompt,classes,answer_index\n")
        for i in range(n):
            f.write("\"Question: is item %d heavier than item %d? \nAnswer:\","
                    "\"[' Yes', ' No']\",%d\n" % (i, i * 7 % 1000, i % 2))
    srv = Server([PY, os.path.join(ROOT, "tests", "fake_server.py")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    env.update({"WEFT_BASE_URL": srv.url, "OPENAI_API_KEY": "sk-bench-batch-0000",
                "XDG_CONFIG_HOME": work, "WEFT_BATCH_POLL_MS": "100"})
    argv = [os.path.join(ROOT, "weft"), "eval", data, "--models", ",".join(models),
            "--method", "logprob", "--concurrency", "64"]
    for m in models:
        argv += ["--set", "scorer.%s.model=bench-%s" % (m, m)]
    times = {}
    try:
        for mode, extra in (("live", []), ("batch", ["--batch"])):
            log("eval of %d examples x %d models, %s" % (n, len(models), mode))
            t0 = time.monotonic()
            subprocess.run(argv + ["--out", os.path.join(work, mode)] + extra, cwd=work,
                           env=env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=1800)
            times[mode] = time.monotonic() - t0
    finally:
        srv.stop()

    def files(mode):
        d = os.path.join(work, mode)
        d = os.path.join(d, os.listdir(d)[0])
        out = {}
        for name in sorted(os.listdir(d)):
            if name != "batch":
                with open(os.path.join(d, name), "rb") as f:
                    out[name] = f.read()
        return out

    live, batch = files("live"), files("batch")
    same = live == batch and len(live) >= 2 + len(models)
    row("eval 2000 x 4 models (logprob), --batch vs live", fmt_s(times["batch"]),
        fmt_s(times["live"]) + " live", "%.2f" % (times["batch"] / times["live"]),
        "same files", same)
    NOTES.append("eval --batch: %d results files, %s byte for byte to the live run's "
                 "(the batch time includes its polls, every 100 ms at first)"
                 % (len(live), "identical" if same else "NOT identical"))
    shutil.rmtree(work, ignore_errors=True)


def bench_map(tmp, sizes=(5000, 20000)):
    """weft map --method tsne (Barnes-Hut past 3000 pairs) on N generated
    pairs: ten topics of twenty made-up words, five words a question.  CPU
    time of the child (getrusage) beside the wall time; no baseline."""
    for n in sizes:
        data = os.path.join(tmp, "map%d.csv" % n)
        with open(data, "w", encoding="utf-8") as f:
            f.write("prompt,classes,answer_index\n")
            for i in range(n):
                words = ["t%dw%d" % (i % 10, (i * 7 + k * k * 3 + i // 10) % 20)
                         for k in range(5)]
                f.write("\"Question: Is the %s %s near the %s %s %s? \nAnswer:\","
                        "\"[' Yes', ' No']\",%d\n" % (tuple(words) + (i % 2,)))
        log("weft map --method tsne, %d pairs" % n)
        before = os.times()
        t0 = time.monotonic()
        subprocess.run([os.path.join(ROOT, "weft"), "map", data, "--method", "tsne",
                        "--out", os.path.join(tmp, "map%d" % n), "--force"], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL, timeout=1800)
        wall = time.monotonic() - t0
        after = os.times()
        cpu = (after.children_user - before.children_user
               + after.children_system - before.children_system)
        row("weft map --method tsne (%s pairs), CPU" % human(n), fmt_s(cpu),
            "wall " + fmt_s(wall), "", "")


def human(n):
    return "%dM" % (n // 1000000) if n % 1000000 == 0 else "%dk" % (n // 1000)


def bench_fanout():
    n, inflight, latency = 2000, 64, 50
    ideal = math.ceil(n / inflight) * latency / 1000.0
    srv = Server([os.path.join(BIN, "fast_server"), str(latency)])
    try:
        log("fan-out: weft, 64 in flight")
        c0 = srv.cpu()
        w = run_json([os.path.join(BIN, "weft_bench"), "fanout", srv.url, str(n), str(inflight)])
        wsrv = srv.cpu() - c0
        log("fan-out: Python, 64 threads")
        p64 = run_json([PY, os.path.join(HERE, "py_fanout.py"), srv.url, str(n), "64"])
        log("fan-out: Python, 8 threads")
        p8 = run_json([PY, os.path.join(HERE, "py_fanout.py"), srv.url, str(n), "8"])
    finally:
        srv.stop()
    r = w["seconds"] / ideal
    row("fan-out 2000 x 50 ms, weft 64 in flight", fmt_s(w["seconds"]), fmt_s(ideal) + " ideal",
        "%.2f" % r, "<= 1.15", r <= 1.15)
    row("fan-out, Python urllib 64 threads", "", fmt_s(p64["seconds"]),
        "%.2f" % (p64["seconds"] / ideal), "(to ideal)")
    row("fan-out, Python urllib 8 threads", "", fmt_s(p8["seconds"]),
        "%.2f" % (p8["seconds"] / ideal), "(to ideal)")
    row("fan-out, weft vs Python 64 threads", fmt_s(w["seconds"]), fmt_s(p64["seconds"]),
        "%.2f" % (w["seconds"] / p64["seconds"]))
    NOTES.append("fan-out server (fast_server.c, one epoll thread) used %.2f s of CPU "
                 "during weft's %.2f s run (%.0f%% of one core); weft's client used %.2f s."
                 % (wsrv, w["seconds"], 100 * wsrv / w["seconds"], w["cpu_seconds"]))

    # The test fake server (thread per connection, hashing per reply) beside it.
    srv = Server([PY, os.path.join(ROOT, "tests", "fake_server.py"), "--exit-on-eof"])
    try:
        req = urllib.request.Request(srv.url.replace("/v1", "") + "/control",
                                     data=json.dumps({"latency_ms": latency}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
        log("fan-out: weft against tests/fake_server.py")
        c0 = srv.cpu()
        f = run_json([os.path.join(BIN, "weft_bench"), "fanout", srv.url, str(n), str(inflight)])
        fsrv = srv.cpu() - c0
    finally:
        srv.stop()
    row("fan-out, weft vs tests/fake_server.py", fmt_s(f["seconds"]), fmt_s(ideal) + " ideal",
        "%.2f" % (f["seconds"] / ideal), "(server-bound)")
    NOTES.append("tests/fake_server.py used %.2f s of CPU in that %.2f s run (%.0f%% of one "
                 "core): a ThreadingHTTPServer is the limit there, not weft."
                 % (fsrv, f["seconds"], 100 * fsrv / f["seconds"]))


def bench_client_cost():
    n = 10000
    srv = Server([os.path.join(BIN, "fast_server"), "0"])
    try:
        log("client cost: weft, %d requests" % n)
        w = run_json([os.path.join(BIN, "weft_bench"), "fanout", srv.url, str(n), "64"])
        log("client cost: Python, %d requests" % n)
        p = run_json([PY, os.path.join(HERE, "py_fanout.py"), srv.url, str(n), "64"])
    finally:
        srv.stop()
    wu = w["cpu_seconds"] / n * 1e6
    pu = p["cpu_seconds"] / n * 1e6
    row("client CPU per request (10k, no latency)", "%.1f us" % wu, "%.1f us py64" % pu,
        "%.3f" % (wu / pu), "< 50 us", wu < 50)
    NOTES.append("client CPU per request: user %.1f us + system %.1f us (10,000 requests "
                 "in %.2f s, 64 in flight)" % (w["user_seconds"] / n * 1e6,
                                               w["sys_seconds"] / n * 1e6, w["seconds"]))


def first_frame_external(weft, session, tmp, runs=5):
    """Starts `weft SESSION` on a 40 x 120 pseudo-terminal and times from
    just before the spawn to the last byte of the first frame (the output
    then stays quiet for 300 ms).  Median of runs, in ms."""
    import fcntl
    import select
    import signal
    import struct
    import termios

    times = []
    for k in range(runs):
        copy = os.path.join(tmp, "demo%d.json" % k)
        shutil.copy(session, copy)
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = dict(os.environ, TERM="xterm-256color")
        t0 = time.monotonic()
        p = subprocess.Popen([weft, copy], stdin=slave, stdout=slave, stderr=slave, env=env,
                             start_new_session=True, cwd=tmp)
        os.close(slave)
        last = None
        while True:
            r, _, _ = select.select([master], [], [], 0.3 if last else 5)
            if not r:
                break
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            last = time.monotonic()
        p.send_signal(signal.SIGTERM)
        while True:  # keep draining so the exit can be written
            r, _, _ = select.select([master], [], [], 0.2)
            if not r:
                break
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        os.close(master)
        if last:
            times.append((last - t0) * 1000)
    times.sort()
    return times[len(times) // 2] if times else float("nan")


def bench_screen(files, tmp):
    tui = os.path.join(BIN, "tui_bench")
    if not os.path.exists(tui):
        row("key-to-frame p99 (1M nodes)", "not measured (no TUI)", "", "", "< 2 ms")
        row("first frame of sessions/demo.json", "not measured (no TUI)", "", "", "< 50 ms")
        return
    results = {}
    for n, path in sorted(files.items()):
        log("screen: %d nodes, 3000 keys on a 40 x 120 pty" % n)
        results[n] = run_json([tui, "keys", path, "3000", "40", "120"])
    big, small = max(files), min(files)
    for n in sorted(results):
        r = results[n]
        key = n == big
        row("key-to-frame median (%s nodes)" % human(n), "%.3f ms" % r["median_ms"], "", "",
            "", None)
        row("key-to-frame p99, wall (%s nodes)" % human(n), "%.3f ms" % r["p99_ms"], "", "",
            "< 2 ms" if key else "", r["p99_ms"] < 2 if key else None)
        row("key-to-frame p99, CPU (%s nodes)" % human(n), "%.3f ms" % r["cpu_p99_ms"], "", "",
            "< 2 ms" if key else "", r["cpu_p99_ms"] < 2 if key else None)
    if big != small:
        ratio = results[big]["cpu_median_ms"] / results[small]["cpu_median_ms"]
        row("key-to-frame CPU median, %s vs %s nodes" % (human(big), human(small)),
            "%.3f ms" % results[big]["cpu_median_ms"],
            "%.3f ms" % results[small]["cpu_median_ms"], "%.2f" % ratio, "~1 (size-free)",
            ratio < 1.5)
    NOTES.append("key-to-frame: wall time of tui_key (handle the key, draw, write the frame "
                 "to the pty) per key; CPU is the drawing thread's own CPU time for the same "
                 "keys. A wall p99 far above the CPU p99 is time the thread waited for a core.")
    demo = os.path.join(ROOT, "sessions", "demo.json")
    log("screen: first frame of sessions/demo.json")
    ext = first_frame_external(os.path.join(ROOT, "weft"), demo, tmp)
    r = run_json([tui, "first", demo])
    row("weft sessions/demo.json: start to first frame", "%.1f ms" % ext, "", "", "< 50 ms",
        ext < 50)
    NOTES.append("first frame: `weft sessions/demo.json` spawned on a 40 x 120 pty, median of "
                 "5, until the last byte of the first frame; in process (session_load + "
                 "tui_open, from main) it is %.1f ms." % r["first_ms"])


def bench_many_sessions(tmp):
    """16 sessions x 10 rounds, n = 5, grown by one `weft generate --sessions`
    against tests/fake_server.py answering after 200 ms, the generator's and
    the judge's concurrency 64.  The ideal is 10 x (one generation + one
    judge round trip), both measured here on the same server; one session
    alone (10 rounds) and 64 requests at once are measured beside it."""
    from concurrent.futures import ThreadPoolExecutor
    k, rounds, latency = 16, 10, 200
    weft = os.path.join(ROOT, "weft")
    srv = Server([PY, os.path.join(ROOT, "tests", "fake_server.py"), "--exit-on-eof"])
    base = srv.url[:-len("/v1")]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(path, obj):
        req = urllib.request.Request(base + path, data=json.dumps(obj).encode(),
                                     headers={"Content-Type": "application/json"})
        t0 = time.monotonic()
        with opener.open(req, timeout=60) as r:
            r.read()
        return time.monotonic() - t0

    msgs = [{"role": "user", "content": "Question: is the bench fair?\nAnswer:"}]
    gen_body = {"model": "probe-gen", "n": 5, "max_tokens": 60, "temperature": 1.0,
                "messages": msgs}
    judge_body = {"model": "probe-judge", "n": 1, "max_tokens": 1, "temperature": 0,
                  "logprobs": True, "top_logprobs": 10, "messages": msgs}
    env = dict(os.environ, WEFT_BASE_URL=srv.url, WEFT_GENERATOR_MODEL="gen-model",
               WEFT_JUDGE_MODEL="judge-model", OPENAI_API_KEY="sk-bench", XDG_CONFIG_HOME=tmp)
    common = ["--rounds", str(rounds), "--n", "5", "--set", "generator.concurrency=64",
              "--set", "judge.concurrency=64", "-q"]

    def run_weft(argv):
        t0 = time.monotonic()
        p = subprocess.run([weft] + argv, env=env, cwd=tmp, capture_output=True, text=True,
                           timeout=600)
        if p.returncode != 0:
            raise RuntimeError("weft %s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                           p.stderr.strip()[-500:]))
        return time.monotonic() - t0

    try:
        post("/control", {"latency_ms": latency,
                          "script": {"judge-model": ["1"] * (2 * k * rounds)}})
        log("many sessions: round trips and 64 at once on tests/fake_server.py")
        gen = sorted(post("/v1/chat/completions", gen_body) for _ in range(5))[2]
        judge = sorted(post("/v1/chat/completions", judge_body) for _ in range(5))[2]
        t0 = time.monotonic()
        with ThreadPoolExecutor(64) as pool:
            list(pool.map(lambda _: post("/v1/chat/completions", gen_body), range(64)))
        burst = time.monotonic() - t0
        log("many sessions: weft generate, %d sessions x %d rounds" % (k, rounds))
        many = run_weft(["generate", "--sessions", str(k), "--task", "nice-sounding-wrong",
                         "-o", os.path.join(tmp, "many")] + common)
        log("many sessions: one session alone, %d rounds" % rounds)
        one = os.path.join(tmp, "one.json")
        run_weft(["new", "--task", "nice-sounding-wrong", "-o", one])
        single = run_weft(["generate", one] + common)
    finally:
        srv.stop()
    ideal = rounds * (gen + judge)
    r = many / ideal
    row("16 sessions x 10 rounds, n 5, 200 ms, conc. 64", fmt_s(many), fmt_s(ideal) + " ideal",
        "%.2f" % r, "<= 1.2", r <= 1.2)
    row("1 session x 10 rounds, same server", fmt_s(single), fmt_s(ideal) + " ideal",
        "%.2f" % (single / ideal), "(to ideal)")
    row("tests/fake_server.py: 64 requests at once", "", fmt_s(burst),
        "%.2f" % (burst / (latency / 1000.0)), "(to 200 ms)")
    NOTES.append("many sessions: one generation round trip %.0f ms, one judge round trip %.0f "
                 "ms (median of 5, Python urllib, same server); ideal = 10 x their sum; "
                 "the 16 sessions took %.2f x the wall time of one session alone (%.1f x "
                 "its steps per second)." % (gen * 1000, judge * 1000, many / single,
                                             k * single / many))


def table():
    head = ("figure", "weft", "baseline", "ratio", "target", "met?")
    rows = [head] + [tuple(str(c) for c in r) for r in ROWS]
    w = [max(len(r[i]) for r in rows) for i in range(len(head))]
    line = "+".join("-" * (x + 2) for x in w)
    out = []
    for k, r in enumerate(rows):
        out.append("|".join(" %-*s " % (w[i], r[i]) for i in range(len(head))))
        if k == 0:
            out.append(line)
    return "\n".join(out)


def main():
    t0 = time.monotonic()
    sizes = [int(x) for x in os.environ.get("WEFT_BENCH_SIZES",
                                            "10000,100000,1000000").split(",")]
    own = "WEFT_BENCH_TMP" not in os.environ
    tmp = tempfile.mkdtemp(prefix="weft-bench-") if own else os.environ["WEFT_BENCH_TMP"]
    try:
        files = sessions(tmp, sizes)
        bench_sessions(tmp, files)
        bench_replay(tmp)
        bench_fanout()
        bench_client_cost()
        bench_many_sessions(tmp)
        bench_screen(files, tmp)
        bench_batch(tmp)
        bench_map(tmp)
    finally:
        if own:
            shutil.rmtree(tmp, ignore_errors=True)
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print()
    print("weft bench: %d cores (%d usable), load average %s, python %s, %.0f s in all"
          % (os.cpu_count(), affinity, " ".join(load), sys.version.split()[0],
             time.monotonic() - t0))
    print("ratio = weft / baseline (lower is better); fan-out ratios are to the ideal "
          "ceil(2000/64) x 50 ms")
    print()
    print(table())
    if NOTES:
        print()
        for n in NOTES:
            print("note: " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())

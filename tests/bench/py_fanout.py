#!/usr/bin/env python3
"""Python baseline for request fan-out (OPRO-style): a thread pool of urllib
requests.

    py_fanout.py BASE_URL N THREADS

POSTs N chat requests to BASE_URL/chat/completions with THREADS workers and
prints one line of JSON: wall seconds and the process's user+sys CPU.
"""
import json
import resource
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BODY = json.dumps({"model": "bench-model", "max_tokens": 8, "messages": [
    {"role": "user", "content": "Does sugar make children hyperactive?"}]}).encode()


def one(url):
    req = urllib.request.Request(url, data=BODY, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())["choices"][0]["message"]["content"]


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main():
    url = sys.argv[1].rstrip("/") + "/chat/completions"
    n, threads = int(sys.argv[2]), int(sys.argv[3])
    c0, t0 = cpu(), time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        done = sum(1 for _ in pool.map(one, [url] * n))
    t1, c1 = time.monotonic(), cpu()
    print(json.dumps({"requests": n, "ok": done, "seconds": t1 - t0, "cpu_seconds": c1 - c0}))


if __name__ == "__main__":
    main()

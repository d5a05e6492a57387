#!/usr/bin/env python3
"""Keep-alive request loop for the proxy lab test: THREADS client connections,
each sending GETs one after another for SECONDS, optionally killing a process
(by pid, SIGKILL) after KILL_AFTER seconds. Prints one JSON object:

  {"requests": N, "errors": [...], "by_pod_before": {...}, "by_pod_after": {...},
   "in_flight_at_kill": K, "kill_time": T}

errors lists every request that did not end in 200 (status or exception, with
the time relative to the kill). A failed connection is reopened and counted as
an error. Requests that were in flight at the moment of the kill are counted
separately so a test can say exactly which errors the retry rule must cover.

usage: request_loop.py ADDR PORT HOST THREADS SECONDS [KILL_PID KILL_AFTER]
"""
import http.client
import json
import os
import signal
import sys
import threading
import time


def main():
    addr, port, host = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    threads, seconds = int(sys.argv[4]), float(sys.argv[5])
    kill_pid = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    kill_after = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0

    lock = threading.Lock()
    state = {"requests": 0, "errors": [], "before": {}, "after": {}, "in_flight": 0}
    in_flight = [0]
    kill_time = [None]
    start = time.monotonic()
    stop_at = start + seconds

    def worker():
        conn = http.client.HTTPConnection(addr, port, timeout=5)
        while time.monotonic() < stop_at:
            with lock:
                in_flight[0] += 1
            sent = time.monotonic()
            try:
                conn.request("GET", "/loop", headers={"Host": host})
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
                pod = json.loads(body).get("pod", "?") if status == 200 else None
                err = None if status == 200 else f"status {status}"
            except Exception as e:  # noqa: BLE001 - every failure is a client error here
                err, pod = f"{type(e).__name__}: {e}", None
                conn.close()
                conn = http.client.HTTPConnection(addr, port, timeout=5)
            with lock:
                in_flight[0] -= 1
                state["requests"] += 1
                killed = kill_time[0]
                if err:
                    rel = None if killed is None else round(sent - killed, 4)
                    state["errors"].append({"error": err, "sent_rel_kill_s": rel})
                elif pod:
                    after = killed is not None and sent > killed
                    bucket = state["after" if after else "before"]
                    bucket[pod] = bucket.get(pod, 0) + 1
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    if kill_pid:
        time.sleep(max(0.0, start + kill_after - time.monotonic()))
        with lock:
            os.kill(kill_pid, signal.SIGKILL)
            kill_time[0] = time.monotonic()
            state["in_flight"] = in_flight[0]
    for t in pool:
        t.join()
    print(json.dumps({
        "requests": state["requests"],
        "errors": state["errors"],
        "by_pod_before": state["before"],
        "by_pod_after": state["after"],
        "in_flight_at_kill": state["in_flight"],
        "seconds": round(time.monotonic() - start, 3),
    }))


if __name__ == "__main__":
    main()

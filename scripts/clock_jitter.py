#!/usr/bin/env python3
"""How late a thread that sleeps to 20 ms deadlines wakes up on this machine (standard library).

Usage: clock_jitter.py SECONDS

The platform's floor for packet pacing: whatever the engine does, a packet cannot leave before
the thread sending it runs again. Run beside a benchmark, it shows the wake-up lateness the machine
imposes under that load (a virtual machine's vCPU can be descheduled by its host for milliseconds).
Uses SCHED_FIFO like the media workers when permitted. Prints one line: p50, p99, p99.9, max (ms).
"""
import os
import sys
import time


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        policy = "SCHED_FIFO"
    except (PermissionError, AttributeError, OSError):
        policy = "normal priority"
    period = 0.020
    start = time.monotonic()
    late = []
    n = 1
    while n * period < seconds:
        deadline = start + n * period
        wait = deadline - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        late.append(max(0.0, time.monotonic() - deadline) * 1000)
        n += 1
    late.sort()
    pick = lambda q: late[min(len(late) - 1, int(len(late) * q))]
    print(f"a bare 20 ms sleeper ({policy}) woke late by p50 {pick(0.5):.3f} ms, p99 {pick(0.99):.3f} ms, "
          f"p99.9 {pick(0.999):.3f} ms, max {late[-1]:.3f} ms (n={len(late)})")


if __name__ == "__main__":
    main()

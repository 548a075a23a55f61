#!/usr/bin/env python3
"""How fast a call-taker who becomes available is offered the next waiting call (stdlib only).

Usage: acd_latency.py PASOKH.DB [--invites SIPP_LOG...] [--from-ms T] [--to-ms T]
                      [--wrap-up-ms 10000] [--within-ms 5000] [--json]

Reads the engine's queue log (SQLite table queue_log: at in Unix ms, queue, call, agent, kind,
detail) and, optionally, the agents' SIPp log (bench_acd_agent_talk.xml writes one line
"invite SECONDS MICROSECONDS AGENT" per INVITE it reads, -trace_logs). For every `wrap_up_end`
(the agent becomes available) between --from-ms and --to-ms, the agent's next `offer` in the log
and the next INVITE their phone read give:

- available -> offer: the engine's own decision time (queue_log has 1 ms steps, so 0 means
  "within the same millisecond");
- available -> INVITE at the phone: the decision plus sending and delivery, up to SIPp reading it;
- scheduled -> INVITE: from when the wrap-up was due to end (its start + --wrap-up-ms, taken from
  the event's wrap_ms detail), so a late wrap-up timer shows too.

An agent not offered a call within --within-ms (nobody waiting) gives no sample; they are counted.
"""
import argparse
import bisect
import json
import re
import sqlite3
import sys


def pct(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(p * len(values)))]


def summary(values):
    values = sorted(values)
    n = len(values)
    median = float("nan")
    if n:
        median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    return {"n": n, "median": median, "p99": pct(values, 0.99),
            "max": values[-1] if values else float("nan")}


def read_invites(paths):
    """{agent: sorted [unix seconds]} from SIPp log lines "invite SEC USEC AGENT"."""
    found = {}
    line_re = re.compile(r"invite\s+([0-9.]+)\s+([0-9.]+)\s+(\S+)")
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                m = line_re.search(line)
                if m:
                    t = float(m.group(1)) + float(m.group(2)) / 1e6
                    found.setdefault(m.group(3), []).append(t)
    for times in found.values():
        times.sort()
    return found


def analyse(db, invites, from_ms, to_ms, wrap_up_ms, within_ms):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("SELECT at, agent, kind, detail FROM queue_log ORDER BY id").fetchall()
    con.close()
    offers = {}  # agent -> [(at, row index)]
    kinds = {}
    for i, (at, agent, kind, _detail) in enumerate(rows):
        if kind == "offer" and agent:
            offers.setdefault(agent, []).append((at, i))
        if from_ms <= at <= to_ms:
            kinds[kind] = kinds.get(kind, 0) + 1
    to_offer, to_invite, scheduled_to_invite, late_timer = [], [], [], []
    idle, no_invite = 0, 0
    for i, (at, agent, kind, detail) in enumerate(rows):
        if kind != "wrap_up_end" or not agent or not from_ms <= at <= to_ms:
            continue
        # The agent's first offer logged after this event (same millisecond or later).
        later = [o for o in offers.get(agent, []) if o[1] > i]
        if not later or later[0][0] - at > within_ms:
            idle += 1
            continue
        to_offer.append(later[0][0] - at)
        m = re.search(r"wrap_ms=(\d+)", detail or "")
        due = at - int(m.group(1)) + wrap_up_ms if m else at
        late_timer.append(at - due)
        if invites is None:
            continue
        times = invites.get(agent, [])
        # queue_log truncates to the millisecond: the event happened in [at, at + 1) ms.
        k = bisect.bisect_left(times, (at - 1) / 1000.0)
        if k == len(times) or times[k] * 1000.0 - at > within_ms:
            no_invite += 1
            continue
        to_invite.append(times[k] * 1000.0 - at)
        scheduled_to_invite.append(times[k] * 1000.0 - due)
    return {
        "samples": len(to_offer),
        "not_offered_within": idle,
        "no_invite_seen": no_invite,
        "available_to_offer_ms": summary(to_offer),
        "available_to_invite_ms": summary(to_invite) if invites is not None else None,
        "scheduled_to_invite_ms": summary(scheduled_to_invite) if invites is not None else None,
        "wrap_up_timer_late_ms": summary(late_timer),
        "queue_log_kinds": kinds,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db")
    ap.add_argument("--invites", nargs="*", help="the agents' SIPp -trace_logs files")
    ap.add_argument("--from-ms", type=int, default=0)
    ap.add_argument("--to-ms", type=int, default=2**62)
    ap.add_argument("--wrap-up-ms", type=int, default=10000)
    ap.add_argument("--within-ms", type=int, default=5000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    invites = read_invites(args.invites) if args.invites else None
    r = analyse(args.db, invites, args.from_ms, args.to_ms, args.wrap_up_ms, args.within_ms)
    if args.json:
        json.dump(r, sys.stdout, indent=1)
        print()
        return
    def line(name, s, unit_digits):
        return (f"{name}: median {s['median']:.{unit_digits}f} ms, p99 {s['p99']:.{unit_digits}f} ms, "
                f"max {s['max']:.{unit_digits}f} ms (n={s['n']})")
    print(f"agents becoming available (end of wrap-up) with a call waiting: {r['samples']}; "
          f"not offered within {args.within_ms} ms: {r['not_offered_within']}")
    print(line("available -> offer (engine, queue_log in 1 ms steps)", r["available_to_offer_ms"], 0))
    if invites is not None:
        print(line("available -> INVITE read by the agent's phone", r["available_to_invite_ms"], 2))
        print(line("wrap-up due to end -> INVITE read", r["scheduled_to_invite_ms"], 2))
        if r["no_invite_seen"]:
            print(f"offers with no INVITE in the phone's log: {r['no_invite_seen']}")
    print(line("wrap-up timer fired after it was due", r["wrap_up_timer_late_ms"], 0))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(r["queue_log_kinds"].items()))
    print(f"queue log in the window: {kinds or 'nothing'}")


if __name__ == "__main__":
    main()

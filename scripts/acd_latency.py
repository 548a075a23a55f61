#!/usr/bin/env python3
"""How fast a call-taker who becomes available is offered the next waiting call (stdlib only).

Usage: acd_latency.py PASOKH.DB [--capture SIP.pcap --agent-port PORT] [--from-ms T] [--to-ms T]
                      [--wrap-up-ms 10000] [--within-ms 5000] [--json]

Two sources, each giving median, p99 and max:

- The agents' SIP traffic, captured on the loopback (dumpcap -i lo -f "udp port PORT", whole
  packets; PORT is the agents' phone). An agent becomes available --wrap-up-ms after hanging up,
  so for each BYE the agent sends, the next INVITE the engine sends that agent gives
  "available -> INVITE": INVITE time - (BYE time + wrap-up), both read off the same capture
  clock in microseconds. It covers everything on the engine's side: reading the BYE, a late
  wrap-up timer, routing, building and sending the INVITE. The engine's 200 to the BYE comes
  after it started the wrap-up, so "BYE -> 200" bounds how early the count may start.
- The engine's queue log (SQLite table queue_log: at in Unix ms, agent, kind, detail): for every
  `wrap_up_end` between --from-ms and --to-ms, the agent's next `offer` gives the engine's own
  decision time, and the event's wrap_ms detail how late the wrap-up timer fired (1 ms steps).

An agent not offered a call within --within-ms (nobody waiting) gives no sample; they are counted.
"""
import argparse
import bisect
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rtp_spacing import packets, udp  # noqa: E402


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


def header(text, *names):
    """The first value of a SIP header (long or compact name) in a message's head, or ""."""
    for line in text.split("\r\n")[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        if name.strip().lower() in names:
            return value.strip()
    return ""


def sip_messages(path, agent_port):
    """(time, to_agent, first line, Call-ID, To, CSeq) of each SIP message to or from agent_port."""
    for t, ip in packets(path):
        u = udp(ip)
        if u is None:
            continue
        _src, sport, _dst, dport, payload = u
        if agent_port not in (sport, dport) or not payload[:3].isalpha():
            continue
        text = payload.decode("latin-1")
        first = text.split("\r\n", 1)[0]
        yield (t, dport == agent_port, first, header(text, "call-id", "i"), header(text, "to", "t"),
               header(text, "cseq"))


def wire_latency(path, agent_port, wrap_up_s, within_s):
    invite_agent = {}  # Call-ID -> agent (from the engine's INVITE's To)
    invites = {}  # agent -> [time of each new INVITE], in order
    byes, bye_ok = {}, {}  # Call-ID -> time of the agent's first BYE / the engine's first 200 to it
    start = end = None
    for t, to_agent, first, call_id, to, cseq in sip_messages(path, agent_port):
        start = t if start is None else start
        end = t
        if to_agent and first.startswith("INVITE ") and call_id not in invite_agent:
            m = re.search(r"sips?:([^@;>]+)@", to)
            if m:
                invite_agent[call_id] = m.group(1)
                invites.setdefault(m.group(1), []).append(t)
        elif not to_agent and first.startswith("BYE "):
            byes.setdefault(call_id, t)
        elif to_agent and first.startswith("SIP/2.0 200") and cseq.upper().endswith("BYE"):
            bye_ok.setdefault(call_id, t)
    to_invite, bye_to_ok = [], []
    idle = early = 0
    for call_id, bye_t in byes.items():
        agent = invite_agent.get(call_id)
        if agent is None or bye_t + wrap_up_s + within_s > end:
            continue  # the offer was before the capture, or the next one may be after it
        if call_id in bye_ok:
            bye_to_ok.append((bye_ok[call_id] - bye_t) * 1000.0)
        times = invites.get(agent, [])
        k = bisect.bisect_right(times, bye_t)
        if k == len(times) or times[k] - bye_t - wrap_up_s > within_s:
            idle += 1
            continue
        latency = (times[k] - bye_t - wrap_up_s) * 1000.0
        if latency < 0:
            early += 1  # offered during wrap-up: should not happen
        to_invite.append(latency)
    return {
        "capture_s": (end - start) if start is not None else 0.0,
        "samples": len(to_invite),
        "not_offered_within": idle,
        "offered_during_wrap_up": early,
        "available_to_invite_ms": summary(to_invite),
        "bye_to_200_ms": summary(bye_to_ok),
    }


def log_latency(db, from_ms, to_ms, wrap_up_ms, within_ms):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("SELECT at, agent, kind, detail FROM queue_log ORDER BY id").fetchall()
    con.close()
    offers = {}  # agent -> ([row index], [at]) of their offers, in log order
    kinds = {}
    for i, (at, agent, kind, _detail) in enumerate(rows):
        if kind == "offer" and agent:
            index, times = offers.setdefault(agent, ([], []))
            index.append(i)
            times.append(at)
        if from_ms <= at <= to_ms:
            kinds[kind] = kinds.get(kind, 0) + 1
    to_offer, late_timer = [], []
    idle = 0
    for i, (at, agent, kind, detail) in enumerate(rows):
        if kind != "wrap_up_end" or not agent or not from_ms <= at <= to_ms:
            continue
        # The agent's first offer logged after this event (same millisecond or later).
        index, times = offers.get(agent, ([], []))
        k = bisect.bisect_right(index, i)
        if k == len(index) or times[k] - at > within_ms:
            idle += 1
            continue
        to_offer.append(times[k] - at)
        m = re.search(r"wrap_ms=(\d+)", detail or "")
        if m:
            late_timer.append(int(m.group(1)) - wrap_up_ms)
    return {
        "samples": len(to_offer),
        "not_offered_within": idle,
        "available_to_offer_ms": summary(to_offer),
        "wrap_up_timer_late_ms": summary(late_timer),
        "queue_log_kinds": kinds,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db")
    ap.add_argument("--capture", help="the agents' SIP traffic (classic pcap, whole packets)")
    ap.add_argument("--agent-port", type=int, help="the agents' phone's SIP port")
    ap.add_argument("--from-ms", type=int, default=0)
    ap.add_argument("--to-ms", type=int, default=2**62)
    ap.add_argument("--wrap-up-ms", type=int, default=10000)
    ap.add_argument("--within-ms", type=int, default=5000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.capture and not args.agent_port:
        ap.error("--capture needs --agent-port")
    r = {"queue_log": log_latency(args.db, args.from_ms, args.to_ms, args.wrap_up_ms, args.within_ms)}
    if args.capture:
        r["wire"] = wire_latency(args.capture, args.agent_port, args.wrap_up_ms / 1000.0,
                                 args.within_ms / 1000.0)
    if args.json:
        json.dump(r, sys.stdout, indent=1)
        print()
        return

    def line(name, s, digits):
        return (f"{name}: median {s['median']:.{digits}f} ms, p99 {s['p99']:.{digits}f} ms, "
                f"max {s['max']:.{digits}f} ms (n={s['n']})")
    if "wire" in r:
        w = r["wire"]
        print(f"on the wire (SIP capture, {w['capture_s']:.0f} s): {w['samples']} agents available again "
              f"with a call waiting; not offered within {args.within_ms} ms: {w['not_offered_within']}"
              + (f"; offered during wrap-up: {w['offered_during_wrap_up']}" if w["offered_during_wrap_up"] else ""))
        print(line("  available (BYE + wrap-up) -> INVITE to the agent", w["available_to_invite_ms"], 2))
        print(line("  the agent's BYE -> the engine's 200", w["bye_to_200_ms"], 2))
    q = r["queue_log"]
    print(f"in the engine (queue_log, 1 ms steps): {q['samples']} wrap-up ends followed by an offer; "
          f"not offered within {args.within_ms} ms: {q['not_offered_within']}")
    print(line("  wrap-up end -> offer", q["available_to_offer_ms"], 0))
    print(line("  wrap-up timer fired after it was due", q["wrap_up_timer_late_ms"], 0))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(q["queue_log_kinds"].items()))
    print(f"queue log in the window: {kinds or 'nothing'}")


if __name__ == "__main__":
    main()

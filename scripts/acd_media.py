#!/usr/bin/env python3
"""Loss on bridged agent calls, from a capture (Python standard library only).

Usage: acd_media.py CAPTURE.pcap --engine-ports LOW-HIGH --caller-ports PORTS
                    --agent-ports PORTS --caller-audio FILE.ul --agent-audio FILE.ul
                    [--calls N] [--json]

Exit status 1 when a packet is missing or forwarded as silence, a frame is not the peer's audio,
or (with --calls) a direction has fewer streams than calls.

Every bridged call has four RTP streams: citizen -> engine, engine -> agent, agent -> engine,
engine -> citizen. Packets are sorted into these by their ports (the engine's RTP range, and the
ports the citizens' and the agents' SIPp send from, PORT or LOW-HIGH; other traffic is left
out). For every stream (addresses, ports, SSRC):
packets, and sequence gaps (packets missing from the capture).

Sequence numbers cannot show a packet the engine received but failed to forward: its outgoing
streams are paced by its own clock, and a frame it did not get from the peer goes out as silence.
So the citizens and agents send different tones (raw u-law files, looped), and each packet the
engine sends is checked against the other side's audio: the peer's tone (forwarded), silence
(nothing from the peer in time: a loss), or anything else (music, a prompt, the wrong call).
The capture must keep the first payload bytes (dumpcap -s 128 keeps 68 of them).
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rtp_spacing import packets, udp  # noqa: E402

FRAME = 160  # bytes of 20 ms G.711


def port_range(text):
    """PORT or LOW-HIGH, as (low, high)."""
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def norm(payload):
    """u-law with its two zeros (0xFF, 0x7F) made one, so re-encoding cannot tell them apart."""
    return payload.replace(b"\x7f", b"\xff")


def frames_of(path):
    """Every 20 ms frame of a looped raw u-law file, normalised."""
    data = open(path, "rb").read()
    if len(data) < FRAME:
        raise ValueError(f"{path}: shorter than one frame")
    looped = data + data[:FRAME]
    return [norm(looped[i:i + FRAME]) for i in range(0, len(data), FRAME)]


def rtp_payload(rtp):
    if len(rtp) < 12:
        return b""
    cc = rtp[0] & 0x0F
    off = 12 + 4 * cc
    if rtp[0] & 0x10 and len(rtp) >= off + 4:
        off += 4 + 4 * struct.unpack("!H", rtp[off + 2:off + 4])[0]
    return rtp[off:]


def analyse(path, engine, callers, agents, caller_frames, agent_frames):
    inside = lambda port, r: r[0] <= port <= r[1]
    # direction -> {stream key: [count, last ext seq, gaps, reordered]}
    streams = {d: {} for d in ("caller_in", "agent_out", "agent_in", "caller_out")}
    content = {d: {"peer": 0, "silence": 0, "other": 0} for d in ("agent_out", "caller_out")}
    expect = {"agent_out": caller_frames, "caller_out": agent_frames}
    prefix_sets = {}
    first_t = last_t = None
    unknown = 0
    for t, ip in packets(path):
        u = udp(ip)
        if u is None:
            continue
        src, sport, dst, dport, rtp = u
        if len(rtp) < 12 or rtp[0] >> 6 != 2:
            continue
        if inside(sport, engine) and inside(dport, callers):
            direction = "caller_out"
        elif inside(sport, engine) and inside(dport, agents):
            direction = "agent_out"
        elif inside(dport, engine) and inside(sport, callers):
            direction = "caller_in"
        elif inside(dport, engine) and inside(sport, agents):
            direction = "agent_in"
        else:
            unknown += 1
            continue
        first_t = t if first_t is None else first_t
        last_t = t
        seq = struct.unpack("!H", rtp[2:4])[0]
        key = (src, sport, dst, dport, rtp[8:12])
        s = streams[direction].get(key)
        if s is None:
            streams[direction][key] = [1, seq, 0, 0]
        else:
            step = (seq - (s[1] & 0xFFFF)) & 0xFFFF
            if step == 0 or step >= 0x8000:
                s[3] += 1
            else:
                s[0] += 1
                s[1] += step
                s[2] += step - 1
        if direction in content:
            payload = norm(rtp_payload(rtp))
            n = len(payload)
            if n == 0:
                continue
            sets = prefix_sets.setdefault((direction, n), {f[:n] for f in expect[direction]})
            if payload in sets:
                content[direction]["peer"] += 1
            elif payload.count(b"\xff") == n:
                content[direction]["silence"] += 1
            else:
                content[direction]["other"] += 1
    result = {"capture_s": (last_t - first_t) if first_t is not None else 0.0,
              "unclassified_packets": unknown, "streams": {}, "content": content}
    for direction, table in streams.items():
        counts = sorted(s[0] for s in table.values())
        result["streams"][direction] = {
            "streams": len(table),
            "packets": sum(counts),
            "fewest_packets": counts[0] if counts else 0,
            "median_packets": counts[len(counts) // 2] if counts else 0,
            "missing": sum(s[2] for s in table.values()),
            "reordered_or_duplicate": sum(s[3] for s in table.values()),
        }
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pcap")
    ap.add_argument("--engine-ports", required=True)
    ap.add_argument("--caller-ports", required=True, help="port(s) the citizens' SIPp sends RTP from")
    ap.add_argument("--agent-ports", required=True, help="port(s) the agents' SIPp sends RTP from")
    ap.add_argument("--caller-audio", required=True, help="what the citizens send (raw u-law)")
    ap.add_argument("--agent-audio", required=True, help="what the agents send (raw u-law)")
    ap.add_argument("--calls", type=int, default=0, help="bridged calls expected (0: do not check)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = analyse(args.pcap, port_range(args.engine_ports), port_range(args.caller_ports),
                port_range(args.agent_ports), frames_of(args.caller_audio), frames_of(args.agent_audio))
    if args.json:
        json.dump(r, sys.stdout, indent=1)
        print()
        return
    span = r["capture_s"]
    if span <= 0:
        sys.exit("no RTP between the engine and the citizens or agents was captured")
    names = {"caller_in": "citizen -> engine", "agent_out": "engine -> agent",
             "agent_in": "agent -> engine", "caller_out": "engine -> citizen"}
    print(f"capture {span:.1f} s; expected per direction: {args.calls or '?'} streams of "
          f"~{span * 50:.0f} packets")
    lost = 0
    for direction, name in names.items():
        s = r["streams"][direction]
        lost += s["missing"]
        line = (f"  {name}: {s['streams']} streams, {s['packets'] / span:.0f} pkt/s, fewest "
                f"{s['fewest_packets']} / median {s['median_packets']} packets in a stream, "
                f"missing {s['missing']}, reordered or duplicate {s['reordered_or_duplicate']}")
        if direction in r["content"]:
            c = r["content"][direction]
            lost += c["silence"]
            peer = "citizen" if direction == "agent_out" else "agent"
            line += (f"; carrying the {peer}'s audio {c['peer']}, silence {c['silence']}, "
                     f"something else {c['other']}")
        print(line)
    short = [names[d] for d, s in r["streams"].items() if args.calls and s["streams"] < args.calls]
    other = sum(c["other"] for c in r["content"].values())
    verdict = "0 loss" if lost == 0 and not short and other == 0 else "LOSS or a fault"
    print(f"{verdict}: {lost} packets missing or forwarded as silence, {other} frames not the peer's "
          f"audio" + (f", too few streams: {', '.join(short)}" if short else ""))
    if verdict != "0 loss":
        sys.exit(1)


if __name__ == "__main__":
    main()

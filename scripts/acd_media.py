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

Sequence numbers cannot show a frame the engine received but failed to forward: its outgoing
streams are paced by its own clock. So the citizens and agents send different tones (raw u-law
files, looped) whose 20 ms frames all differ (401 Hz and 1003 Hz over one second: every frame
starts at another phase), and each packet the engine sends is identified as frame k of the other
side's loop, silence, or anything else (music, a prompt, the wrong call). Consecutive forwarded
frames must be k, k+1, k+2...: a frame of the peer's audio that never came out is a skip, a LOSS.
A silent packet between two consecutive frames is a late frame the engine waited for (the peer
sent it late; concealed, nothing lost). The streams the SIPps send are checked the same way
(content against sequence numbers), so a generator that skips audio is not blamed on the engine.
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
FRAME_PREFIX = 68  # payload bytes a 128-byte capture keeps


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
    if len(data) < FRAME or len(data) % FRAME:
        raise ValueError(f"{path}: not a whole number of 20 ms frames")
    return [norm(data[i:i + FRAME]) for i in range(0, len(data), FRAME)]


class FrameIndex:
    """Which frame of a loop a (possibly truncated) payload is: its index, or None."""

    def __init__(self, frames):
        self.frames = frames
        self.by_len = {}

    def index(self, payload):
        n = len(payload)
        table = self.by_len.get(n)
        if table is None:
            table = {}
            for i, f in enumerate(self.frames):
                table.setdefault(f[:n], []).append(i)
            self.by_len[n] = table
        found = table.get(payload)
        if found is None:
            return None
        return found[0] if len(found) == 1 else -1  # -1: the peer's audio, frame ambiguous

    def unique(self, n):
        self.index(b"\0" * n)
        return all(len(v) == 1 for v in self.by_len[n].values())


def rtp_payload(rtp):
    if len(rtp) < 12:
        return b""
    cc = rtp[0] & 0x0F
    off = 12 + 4 * cc
    if rtp[0] & 0x10 and len(rtp) >= off + 4:
        off += 4 + 4 * struct.unpack("!H", rtp[off + 2:off + 4])[0]
    return rtp[off:]


class Track:
    """One stream: packets, sequence gaps, and where its audio stands in the loop."""

    def __init__(self, seq):
        self.count, self.ext, self.gaps, self.reordered = 1, seq, 0, 0
        self.last_frame = None  # (ext seq, frame index) of the last identified frame
        self.skipped = self.concealed = self.pending_silence = 0

    def sequence(self, seq):
        """Advances the extended sequence number; False for a reordered or duplicate packet."""
        step = (seq - (self.ext & 0xFFFF)) & 0xFFFF
        if step == 0 or step >= 0x8000:
            self.reordered += 1
            return False
        self.count += 1
        self.ext += step
        self.gaps += step - 1
        return True

    def frame(self, index, loop, by_sequence):
        """An identified frame. by_sequence: the next frame is due one per sequence number (what a
        generator sends); else one per packet carrying audio (what the engine forwards)."""
        if self.last_frame is not None and index >= 0 and self.last_frame[1] >= 0:
            seq_step = self.ext - self.last_frame[0] if by_sequence else 1
            want = (self.last_frame[1] + seq_step) % loop
            self.skipped += (index - want) % loop
            self.concealed += self.pending_silence
        self.pending_silence = 0
        self.last_frame = (self.ext, index)


def analyse(path, engine, callers, agents, caller_frames, agent_frames):
    inside = lambda port, r: r[0] <= port <= r[1]
    streams = {d: {} for d in ("caller_in", "agent_out", "agent_in", "caller_out")}
    content = {d: {"peer": 0, "silence": 0, "other": 0} for d in ("agent_out", "caller_out")}
    loops = {"agent_out": FrameIndex(caller_frames), "caller_out": FrameIndex(agent_frames),
             "caller_in": FrameIndex(caller_frames), "agent_in": FrameIndex(agent_frames)}
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
        track = streams[direction].get(key)
        if track is None:
            track = streams[direction][key] = Track(seq)
        elif not track.sequence(seq):
            continue
        payload = norm(rtp_payload(rtp))
        if not payload:
            continue
        loop = loops[direction]
        index = loop.index(payload)
        generated = direction in ("caller_in", "agent_in")
        if index is not None:
            track.frame(index, len(loop.frames), generated)
            if not generated:
                content[direction]["peer"] += 1
        elif generated:
            track.last_frame = None  # not the tone (the generator's start): re-anchor
        elif payload.count(b"\xff") == len(payload):
            content[direction]["silence"] += 1
            track.pending_silence += 1
        else:
            content[direction]["other"] += 1
    result = {"capture_s": (last_t - first_t) if first_t is not None else 0.0,
              "unclassified_packets": unknown, "streams": {}, "content": content,
              "frames_identifiable": all(l.unique(FRAME_PREFIX) for l in loops.values())}
    for direction, table in streams.items():
        counts = sorted(s.count for s in table.values())
        result["streams"][direction] = {
            "streams": len(table),
            "packets": sum(counts),
            "fewest_packets": counts[0] if counts else 0,
            "median_packets": counts[len(counts) // 2] if counts else 0,
            "missing": sum(s.gaps for s in table.values()),
            "reordered_or_duplicate": sum(s.reordered for s in table.values()),
            "frames_skipped": sum(s.skipped for s in table.values()),
            "late_frames_concealed": sum(s.concealed for s in table.values()),
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
    if not r["frames_identifiable"]:
        sys.exit("the tones' frames are not all different: skipped frames cannot be seen "
                 "(use tones like 401 Hz and 1003 Hz, one second long)")
    lost = generator = 0
    for direction, name in names.items():
        s = r["streams"][direction]
        lost += s["missing"]
        line = (f"  {name}: {s['streams']} streams, {s['packets'] / span:.0f} pkt/s, fewest "
                f"{s['fewest_packets']} / median {s['median_packets']} packets in a stream, "
                f"missing {s['missing']}, reordered or duplicate {s['reordered_or_duplicate']}")
        if direction in r["content"]:
            c = r["content"][direction]
            lost += s["frames_skipped"]
            peer = "citizen" if direction == "agent_out" else "agent"
            line += (f"; carrying the {peer}'s audio {c['peer']}, silence {c['silence']} "
                     f"(late frames waited for {s['late_frames_concealed']}), something else "
                     f"{c['other']}; the {peer}'s frames skipped {s['frames_skipped']}")
        else:
            generator += s["frames_skipped"]
            line += f"; audio frames the generator skipped {s['frames_skipped']}"
        print(line)
    short = [names[d] for d, s in r["streams"].items() if args.calls and s["streams"] < args.calls]
    other = sum(c["other"] for c in r["content"].values())
    verdict = "0 loss" if lost == 0 and not short and other == 0 else "LOSS or a fault"
    print(f"{verdict}: {lost} packets missing or frames of the peer's audio not forwarded, "
          f"{other} frames not the peer's audio"
          + (f", too few streams: {', '.join(short)}" if short else "")
          + (f" (the generators themselves skipped {generator} frames; an engine that forwards "
             f"faithfully shows those as skips too)" if generator else ""))
    if verdict != "0 loss":
        sys.exit(1)


if __name__ == "__main__":
    main()

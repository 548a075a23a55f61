#!/usr/bin/env python3
"""RTP packet spacing from a capture, as a receiver sees it (Python standard library only).

Usage: rtp_spacing.py CAPTURE.pcap --engine-ports LOW-HIGH [--ptime-ms 20] [--json]

Reads a classic pcap (microsecond or nanosecond timestamps; Ethernet, Linux cooked v1/v2 or raw IP
link types; IPv4 and IPv6 over UDP). Packets whose UDP source port is in the engine's RTP range are
the engine's outgoing streams; packets whose destination port is in the range are what the engine
received. Each outgoing stream (addresses, ports and SSRC) is checked packet after packet:

- spacing error: |arrival gap - ptime| between consecutive sequence numbers, in ms (p50/p99/max
  over all gaps of all streams);
- wander: per stream, how far arrivals drift from the ideal schedule first arrival + n x ptime
  (peak to peak, ms), p50/p99/max over streams;
- sequence gaps: packets missing from a stream (on loopback only the capture itself drops).
"""
import argparse
import json
import struct
import sys

LINK_ETHERNET, LINK_RAW, LINK_RAW_ALT, LINK_SLL, LINK_SLL2 = 1, 101, 12, 113, 276


def packets(path):
    """Yields (timestamp_s, ip_payload_bytes) for each captured packet."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            raise ValueError(f"{path}: not a pcap file")
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            raise ValueError(f"{path}: not a classic pcap file (pcapng? capture with dumpcap -P)")
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        link = struct.unpack(endian + "I", head[20:24])[0] & 0x0FFFFFFF
        record = struct.Struct(endian + "IIII")
        scale = 1e-9 if nano else 1e-6
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, incl, _orig = record.unpack(rh)
            data = f.read(incl)
            if len(data) < incl:
                return
            if link == LINK_ETHERNET:
                off, ethertype = 14, data[12:14]
                while ethertype in (b"\x81\x00", b"\x88\xa8") and len(data) >= off + 4:
                    ethertype, off = data[off + 2:off + 4], off + 4
            elif link == LINK_SLL:
                off, ethertype = 16, data[14:16]
            elif link == LINK_SLL2:
                off, ethertype = 20, data[0:2]
            elif link in (LINK_RAW, LINK_RAW_ALT):
                off, ethertype = 0, None
            else:
                raise ValueError(f"{path}: unsupported link type {link}")
            if ethertype not in (None, b"\x08\x00", b"\x86\xdd"):
                continue
            yield sec + frac * scale, data[off:]


def udp(ip):
    """(src, sport, dst, dport, payload) of a UDP datagram in an IPv4/IPv6 packet, or None."""
    if len(ip) < 20:
        return None
    version = ip[0] >> 4
    if version == 4:
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17 or len(ip) < ihl + 8:
            return None
        src, dst, rest = ip[12:16], ip[16:20], ip[ihl:]
    elif version == 6:
        if ip[6] != 17 or len(ip) < 48:
            return None
        src, dst, rest = ip[8:24], ip[24:40], ip[40:]
    else:
        return None
    sport, dport = struct.unpack("!HH", rest[:4])
    return src, sport, dst, dport, rest[8:]


def pct(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(p * len(values)))]


def analyse(path, low, high, ptime_ms=20.0):
    ptime = ptime_ms / 1000.0
    streams = {}  # key -> [first_t, first_seq_ext, last_t, last_seq_ext, count, min_off, max_off]
    errors, gaps, reordered = [], 0, 0
    out_packets = in_packets = 0
    in_streams = set()
    first_t = last_t = None
    for t, ip in packets(path):
        u = udp(ip)
        if u is None:
            continue
        src, sport, dst, dport, payload = u
        outgoing = low <= sport <= high
        incoming = low <= dport <= high
        if not (outgoing or incoming) or len(payload) < 12 or payload[0] >> 6 != 2:
            continue
        first_t = t if first_t is None else first_t
        last_t = t
        if incoming and not outgoing:
            in_packets += 1
            in_streams.add((src, sport, dst, dport))
            continue
        out_packets += 1
        seq = struct.unpack("!H", payload[2:4])[0]
        ssrc = payload[8:12]
        key = (src, sport, dst, dport, ssrc)
        s = streams.get(key)
        if s is None:
            streams[key] = [t, seq, t, seq, 1, 0.0, 0.0]
            continue
        # Extend the 16-bit sequence number past wrap-around, relative to the last one seen.
        step = (seq - (s[3] & 0xFFFF)) & 0xFFFF
        if step == 0 or step >= 0x8000:
            reordered += 1
            continue
        ext = s[3] + step
        if step == 1:
            errors.append(abs(t - s[2] - ptime) * 1000.0)
        else:
            gaps += step - 1
        off = t - s[0] - (ext - s[1]) * ptime
        s[5], s[6] = min(s[5], off), max(s[6], off)
        s[2], s[3], s[4] = t, ext, s[4] + 1
    errors.sort()
    wander = sorted((s[6] - s[5]) * 1000.0 for s in streams.values())
    span = (last_t - first_t) if first_t is not None else 0.0
    counts = sorted(s[4] for s in streams.values())
    return {
        "capture_s": span,
        "packets_out": out_packets,
        "packets_in": in_packets,
        "streams_out": len(streams),
        "streams_in": len(in_streams),
        "stream_packets_min": counts[0] if counts else 0,
        "stream_packets_median": pct(counts, 0.5) if counts else 0,
        "gaps_measured": len(errors),
        "spacing_ms": {"p50": pct(errors, 0.5), "p99": pct(errors, 0.99),
                       "p999": pct(errors, 0.999), "max": errors[-1] if errors else float("nan")},
        "wander_ms": {"p50": pct(wander, 0.5), "p99": pct(wander, 0.99),
                      "max": wander[-1] if wander else float("nan")},
        "missing_packets": gaps,
        "reordered_or_duplicate": reordered,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pcap")
    ap.add_argument("--engine-ports", required=True, help="the engine's RTP port range, LOW-HIGH")
    ap.add_argument("--ptime-ms", type=float, default=20.0)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    low, high = (int(x) for x in args.engine_ports.split("-"))
    r = analyse(args.pcap, low, high, args.ptime_ms)
    if args.json:
        json.dump(r, sys.stdout, indent=1)
        print()
        return
    sp, wa = r["spacing_ms"], r["wander_ms"]
    print(f"capture {r['capture_s']:.1f} s: {r['packets_out']} packets out in {r['streams_out']} streams, "
          f"{r['packets_in']} in from {r['streams_in']} streams")
    print(f"spacing error |gap - {args.ptime_ms:g} ms|: p50 {sp['p50']:.3f} ms, p99 {sp['p99']:.3f} ms, "
          f"p99.9 {sp['p999']:.3f} ms, max {sp['max']:.3f} ms (n={r['gaps_measured']})")
    print(f"schedule wander per stream: p50 {wa['p50']:.3f} ms, p99 {wa['p99']:.3f} ms, max {wa['max']:.3f} ms")
    print(f"missing packets {r['missing_packets']}, reordered/duplicate {r['reordered_or_duplicate']}")


if __name__ == "__main__":
    main()

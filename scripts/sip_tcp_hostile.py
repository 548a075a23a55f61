#!/usr/bin/env python3
"""Hostile SIP-over-TCP clients, for scripts/bench-sip-tcp.sh.

flood HOST PORT SECONDS ENGINE_PID
    Pipelines OPTIONS requests on one connection and never reads the answers, for SECONDS or
    until the engine closes the connection; samples the engine's resident memory meanwhile.
    Prints one JSON line: requests sent, how the connection ended, RSS before, peak and after.
segments HOST PORT COUNT HEADER_BYTES whole|bytes|paced
    Sends COUNT OPTIONS whose header is about HEADER_BYTES long, each in one send, or one byte per
    send (TCP_NODELAY, so one byte per segment; a fast sender's bytes may still reach the engine
    several per read), or one byte per send about every 0.2 ms (so the engine reads them one by
    one), and reads the answers. Prints the answers counted.
"""
import json, socket, sys, threading, time


def request(n, header_bytes=0):
    lines = [
        "OPTIONS sip:137@127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKhostile{n}",
        f"From: <sip:hostile@127.0.0.1>;tag=h{n}",
        "To: <sip:137@127.0.0.1>",
        f"Call-ID: hostile-{n}@127.0.0.1",
        "CSeq: 1 OPTIONS",
        "Max-Forwards: 70",
    ]
    filler = 0
    while sum(len(line) + 2 for line in lines) < header_bytes:
        lines.append(f"X-Filler-{filler}: " + "f" * 48)
        filler += 1
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def flood(host, port, seconds, pid):
    before = rss_kb(pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    sock = socket.create_connection((host, port))
    sock.settimeout(0.5)
    start, sent, ended = time.monotonic(), 0, f"still open after {seconds} s"
    while time.monotonic() - start < seconds:
        batch = b"".join(request(sent + i) for i in range(200))
        try:
            sock.sendall(batch)
            sent += 200
        except socket.timeout:
            continue  # the engine's receive buffer is full; keep trying until the deadline
        except OSError as error:
            ended = f"closed by the engine after {time.monotonic() - start:.2f} s ({error.__class__.__name__})"
            break
    during = peak[0]
    sock.close()
    time.sleep(3)
    done.set()
    sampler.join()
    print(json.dumps({"requests_sent": sent, "connection": ended, "rss_before_kb": before,
                      "rss_peak_kb": during, "rss_after_close_kb": rss_kb(pid)}))


def segments(host, port, count, header_bytes, mode):
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    answers = [0]

    def read():
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            data += chunk
            answers[0] += data.count(b"SIP/2.0 200")
            data = data[data.rfind(b"\r\n") :]

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(count):
        message = request(n, header_bytes)
        if mode == "whole":
            sock.sendall(message)
        else:
            for i in range(len(message)):
                sock.send(message[i : i + 1])
                if mode == "paced":
                    time.sleep(0.0002)
    deadline = time.monotonic() + 10
    while answers[0] < count and time.monotonic() < deadline:
        time.sleep(0.05)
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    reader.join()
    print(json.dumps({"mode": mode, "messages": count, "header_bytes": len(request(0, header_bytes)),
                      "answers": answers[0]}))


if __name__ == "__main__":
    command, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if command == "flood":
        flood(host, port, float(sys.argv[4]), int(sys.argv[5]))
    else:
        segments(host, port, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])

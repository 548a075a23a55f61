//! The binary fuzz seeds (`fuzz/corpus/{rtp,telephone_event,wav,sip_txn,engine}/gen-*`, and the
//! bundled flows copied into `fuzz/corpus/ivr_flow/`) are generated here, from code, rather than
//! committed as hand-made blobs. This test checks the committed files are what the code
//! generates; `PASOKH_WRITE_FUZZ_SEEDS=1 cargo test --test fuzz_seeds` (or
//! `scripts/fuzz-seeds.sh`) writes them again after a change here or in a target's grammar.

use std::path::{Path, PathBuf};

use pasokh::media::dtmf::DtmfSender;
use pasokh::media::wav;
use rtp_rs::{RtpPacketBuilder, Seq};

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    RtpPacketBuilder::new()
        .payload_type(pt)
        .sequence(Seq::from(seq))
        .timestamp(ts)
        .ssrc(ssrc)
        .marked(marker)
        .payload(payload)
        .build()
        .unwrap_or_else(|e| panic!("an RTP seed does not build: {e:?}"))
}

/// One `rtp` target step carrying `packet` from the peer.
fn packet_step(out: &mut Vec<u8>, packet: &[u8]) {
    assert!(packet.len() <= 255);
    out.extend([2, 0x80, packet.len() as u8]);
    out.extend_from_slice(packet);
}

fn rtp_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    // PCMA with telephone-event, a prompt playing: audio packets, one reordered, a digit press.
    let mut s = vec![1, 1, 1];
    for i in 0..6u16 {
        let seq = if i == 3 {
            104
        } else if i == 4 {
            103
        } else {
            100 + i
        };
        packet_step(
            &mut s,
            &rtp(8, seq, u32::from(seq) * 160, 0x1234, i == 0, &[0xD5; 160]),
        );
        s.push(0); // tick
    }
    let mut dtmf = DtmfSender::new('5', 5000, 100, 10).unwrap_or_else(|| unreachable!());
    while let Some(p) = dtmf.next_packet() {
        packet_step(
            &mut s,
            &rtp(101, 200, p.timestamp, 0x1234, p.marker, &p.payload),
        );
        s.extend([0, 1, 3]); // tick, 3 ms late
    }
    seeds.push(("gen-pcma-dtmf".into(), s));
    // PCMU without telephone-event: an SSRC change, padding, an extension, a stranger, junk.
    let mut s = vec![0, 0, 0];
    packet_step(&mut s, &rtp(0, 1, 160, 1, false, &[0xFF; 80]));
    packet_step(&mut s, &rtp(0, 2, 320, 2, false, &[0x7F; 160]));
    let mut padded = rtp(0, 3, 480, 2, false, &[0x00; 20]);
    padded[0] |= 0x20;
    padded.extend([0, 0, 4]);
    packet_step(&mut s, &padded);
    let mut ext = rtp(0, 4, 640, 2, false, &[0x10; 40]);
    ext[0] |= 0x10;
    ext.splice(12..12, [0xBE, 0xDE, 0, 1, 1, 2, 3, 4]);
    packet_step(&mut s, &ext);
    s.extend([2, 0x01, 12]);
    s.extend(rtp(0, 5, 800, 9, false, &[]));
    s.extend([2, 0x80, 3, 0x80, 0, 1]);
    s.extend([0, 0, 0, 0]);
    seeds.push(("gen-pcmu-odd-packets".into(), s));
    seeds
}

fn telephone_event_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for (digit, duration) in [('1', 100u32), ('#', 9000)] {
        // A start timestamp, then (same timestamp, +20 ms, payload) steps of a real press.
        let mut sender =
            DtmfSender::new(digit, 0x1000, duration, 10).unwrap_or_else(|| unreachable!());
        let first = sender.next_packet().unwrap_or_else(|| unreachable!());
        let mut s = first.payload.to_vec();
        for p in std::iter::once(first)
            .chain(std::iter::from_fn(|| sender.next_packet()))
            .take(60)
        {
            s.extend([0, 5, 4]);
            s.extend(p.payload);
        }
        seeds.push((
            format!("gen-press-{}", if digit == '#' { "hash-long" } else { "1" }),
            s,
        ));
    }
    seeds
}

fn wav_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    // Our own recording layout: 100 samples of a ramp.
    let mut ours = wav::header(200).to_vec();
    let samples: Vec<i16> = (0..100).map(|i| i * 300).collect();
    wav::samples_to_bytes(&samples, &mut ours);
    seeds.push(("gen-ours-8k.wav".into(), ours.clone()));
    // A recording torn by a crash: the header's sizes are zero, an odd byte at the end.
    let mut torn = wav::header(0).to_vec();
    torn.extend_from_slice(&ours[44..]);
    torn.push(7);
    seeds.push(("gen-torn.wav".into(), torn));
    // What a supervisor's editor writes: 44.1 kHz stereo 16-bit, 8-bit mono, 32-bit float.
    for (name, rate, channels, bits, float) in [
        ("gen-44k-stereo.wav", 44_100, 2, 16, false),
        ("gen-11k-8bit.wav", 11_025, 1, 8, false),
        ("gen-16k-float.wav", 16_000, 1, 32, true),
    ] {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        };
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut writer =
            hound::WavWriter::new(&mut bytes, spec).unwrap_or_else(|e| panic!("{name}: {e}"));
        for i in 0..200u32 * u32::from(channels) {
            let v = ((i % 50) as f32 / 50.0) - 0.5;
            let written = if float {
                writer.write_sample(v)
            } else if bits == 8 {
                writer.write_sample((v * 100.0) as i8)
            } else {
                writer.write_sample((v * 20_000.0) as i16)
            };
            written.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        writer.finalize().unwrap_or_else(|e| panic!("{name}: {e}"));
        seeds.push((name.into(), bytes.into_inner()));
    }
    seeds
}

/// `sip_txn` step sequences (see `pasokh::fuzzing::sip::txn` for the grammar).
fn sip_txn_seeds() -> Vec<(String, Vec<u8>)> {
    vec![
        // UDP: INVITE received, 180, 486, ACK, Timer I runs out.
        (
            "gen-invite-486-ack".into(),
            vec![
                0, 0, 0, 0, 0, 0, 0, 200, 2, 0, 1, 2, 0, 7, 7, 0, 8, 0x27, 0x10, 1,
            ],
        ),
        // UDP: INVITE received, 200, 2xx confirmed; a BYE received and answered.
        (
            "gen-invite-200-bye".into(),
            vec![
                0, 0, 0, 0, 1, 0, 0, 200, 2, 0, 3, 5, 0, 1, 3, 1, 1, 1, 0, 200, 2, 1, 3, 8, 0xFF,
                0xFF, 7,
            ],
        ),
        // TCP: we send an INVITE and an OPTIONS; 100, 200 and a 503 come back; Timer F.
        (
            "gen-client".into(),
            vec![
                1, 3, 0, 2, 0, 0, 0, 200, 3, 4, 3, 2, 0, 0, 200, 4, 0, 0, 4, 0, 3, 4, 1, 9, 8,
                0xFF, 0xFF, 7,
            ],
        ),
        // A CANCEL for a pending INVITE, with a fuzzed Via added.
        (
            "gen-cancel".into(),
            vec![
                0, 0, 0, 1, 1, 0, 0, 200, 0, 2, 1, 1, 0, 0, 10, 0, 7, b'S', b'I', b'P', b'/', b'2',
                b'.', b'0', 8, 0x10, 0, 0,
            ],
        ),
    ]
}

/// `engine` step sequences (see `pasokh::fuzzing::engine::sequence` for the grammar).
fn engine_seeds() -> Vec<(String, Vec<u8>)> {
    // A request step: method, number, Call-ID, branch, CSeq, To-tag choice [, tag], body choice
    // [, SDP], From tag, mutation.
    let invite =
        |number: u8, call: u8, branch: u8| vec![0, 0, number, call, branch, 0, 2, 0, 0, 0, 7];
    let in_dialog = |method: u8, call: u8, branch: u8, cseq: u8| {
        vec![0, method, 0, call, branch, cseq, 0, 0, 3, 0, 7]
    };
    let advance = |ms: u16| {
        let [hi, lo] = ms.to_be_bytes();
        vec![9, hi, lo, 0]
    };
    let digit = |d: u8| vec![7, 0, 0, d];
    let mut ivr = vec![0, 1];
    for step in [
        invite(1, 0, 0),
        advance(500),
        in_dialog(1, 0, 1, 0),
        digit(1),
        advance(3000),
        digit(2),
        vec![7, 0, 2],
        advance(20000),
        in_dialog(3, 0, 2, 1),
        advance(40000),
    ] {
        ivr.extend(step);
    }
    let mut cancel = vec![1, 1];
    for step in [
        invite(0, 1, 0),
        in_dialog(2, 1, 0, 0),
        advance(1000),
        in_dialog(1, 1, 0, 0),
        advance(40000),
    ] {
        cancel.extend(step);
    }
    let mut register = vec![0, 1];
    for step in [
        vec![0, 5, 4, 3, 0, 0, 2, 3, 0, 1, 7],
        vec![0, 5, 4, 3, 1, 1, 2, 3, 0, 1, 1, 0, 20],
        b"Digest username=\"agent1\"".to_vec(),
        vec![0, 4, 0, 2, 2, 0, 2, 3, 0, 7],
        vec![8, 0x03, 0xE8],
        advance(60000),
    ] {
        register.extend(step);
    }
    vec![
        ("gen-ivr-call".into(), ivr),
        ("gen-cancel-tcp".into(), cancel),
        ("gen-register-options-shutdown".into(), register),
    ]
}

fn ivr_flow_seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-flows");
    let mut seeds = Vec::new();
    for entry in std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".yaml") {
            let bytes = std::fs::read(entry.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
            seeds.push((format!("gen-{name}"), bytes));
        }
    }
    seeds
}

fn all_seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut all = Vec::new();
    for (target, seeds) in [
        ("rtp", rtp_seeds()),
        ("telephone_event", telephone_event_seeds()),
        ("wav", wav_seeds()),
        ("sip_txn", sip_txn_seeds()),
        ("engine", engine_seeds()),
        ("ivr_flow", ivr_flow_seeds()),
    ] {
        for (name, bytes) in seeds {
            all.push((root.join(target).join(name), bytes));
        }
    }
    all
}

#[test]
fn committed_binary_seeds_are_what_the_generator_makes() {
    let write = std::env::var_os("PASOKH_WRITE_FUZZ_SEEDS").is_some();
    for (path, bytes) in all_seeds() {
        if write {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            }
            std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else {
            let committed = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run scripts/fuzz-seeds.sh)", path.display()));
            assert!(
                committed == bytes,
                "{} differs from its generator (run scripts/fuzz-seeds.sh)",
                path.display()
            );
        }
    }
}

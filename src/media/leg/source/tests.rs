use std::net::SocketAddr;
use std::time::Duration;

use super::{PeerSource, Verdict, PROBATION_PACKETS};

const GRACE: Duration = Duration::from_millis(1000);

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `count` in-sequence packets of one SSRC from `from`, 20 ms apart from `start_ms`.
fn stream(
    source: &mut PeerSource,
    from: SocketAddr,
    ssrc: u32,
    first_seq: u16,
    count: u16,
    start_ms: u64,
) -> Vec<Verdict> {
    (0..count)
        .map(|i| {
            let now = ms(start_ms + 20 * u64::from(i));
            source.check(from, ssrc, first_seq.wrapping_add(i), now, GRACE)
        })
        .collect()
}

#[test]
fn a_spray_before_the_caller_speaks_never_becomes_the_destination() {
    let (sdp, spray) = (addr(40000), addr(6666));
    let mut source = PeerSource::new(Some(sdp), ms(0));
    // The attacker sprays a perfect stream from the moment the call is answered…
    let verdicts = stream(&mut source, spray, 7, 100, 10, 0);
    assert!(verdicts.iter().all(|v| *v == Verdict::Foreign));
    assert_eq!(source.destination(), Some(sdp));
    // …the caller speaks from its SDP address and is the peer from then on.
    assert_eq!(source.check(sdp, 1, 5, ms(200), GRACE), Verdict::Accept);
    let later = stream(&mut source, spray, 7, 110, 200, 220);
    assert!(later.iter().all(|v| *v == Verdict::Foreign));
    assert_eq!(source.destination(), Some(sdp));
}

#[test]
fn a_caller_behind_nat_is_learned_after_probation_and_the_grace() {
    let (sdp, public) = (addr(40000), addr(31000));
    let mut source = PeerSource::new(Some(sdp), ms(0));
    // The private SDP address never sends; the NAT's address streams from the start.
    let verdicts = stream(&mut source, public, 9, 1000, 60, 0);
    let first_accepted = verdicts.iter().position(|v| *v == Verdict::Accept);
    // Learned on the first packet at or after the grace (1 s = packet 50), never before.
    assert_eq!(first_accepted, Some(50));
    assert!(verdicts[50..].iter().all(|v| *v == Verdict::Accept));
    assert_eq!(source.destination(), Some(public));
}

#[test]
fn without_an_sdp_address_probation_alone_decides() {
    let public = addr(31000);
    let mut source = PeerSource::new(None, ms(0));
    assert_eq!(source.destination(), None);
    let verdicts = stream(&mut source, public, 9, 65534, 5, 0);
    let expected_first = PROBATION_PACKETS as usize - 1; // sequence numbers wrap on the way
    assert_eq!(
        verdicts.iter().position(|v| *v == Verdict::Accept),
        Some(expected_first)
    );
    assert_eq!(source.destination(), Some(public));
}

#[test]
fn probation_restarts_on_a_gap_another_ssrc_or_another_source() {
    let mut source = PeerSource::new(None, ms(0));
    let (a, b) = (addr(31000), addr(31002));
    // Out of sequence, SSRC change, and two interleaved sources: never four in a row.
    let mut verdicts = vec![
        source.check(a, 1, 10, ms(0), GRACE),
        source.check(a, 1, 11, ms(20), GRACE),
        source.check(a, 1, 13, ms(40), GRACE), // a gap
        source.check(a, 1, 14, ms(60), GRACE),
        source.check(a, 2, 15, ms(80), GRACE), // another SSRC
        source.check(a, 2, 16, ms(100), GRACE),
    ];
    for i in 0..10u16 {
        verdicts.push(source.check(a, 2, 17 + i, ms(120 + 40 * u64::from(i)), GRACE));
        verdicts.push(source.check(b, 3, 500 + i, ms(140 + 40 * u64::from(i)), GRACE));
    }
    assert!(verdicts.iter().all(|v| *v == Verdict::Foreign));
    assert_eq!(source.destination(), None);
}

#[test]
fn the_sdp_address_takes_over_from_a_learned_source_for_good() {
    let (sdp, public, other) = (addr(40000), addr(31000), addr(32000));
    let mut source = PeerSource::new(Some(sdp), ms(0));
    stream(&mut source, public, 9, 0, 60, 0);
    assert_eq!(source.destination(), Some(public));
    // Another source cannot displace a learned one…
    let others = stream(&mut source, other, 4, 0, 20, 1200);
    assert!(others.iter().all(|v| *v == Verdict::Foreign));
    assert_eq!(source.destination(), Some(public));
    // …but the SDP address can, at once, and then the learned source is foreign.
    assert_eq!(source.check(sdp, 1, 0, ms(1700), GRACE), Verdict::Accept);
    assert_eq!(source.destination(), Some(sdp));
    assert_eq!(
        source.check(public, 9, 60, ms(1720), GRACE),
        Verdict::Foreign
    );
}

#[test]
fn a_reinvite_to_a_new_address_starts_over_and_the_same_one_changes_nothing() {
    let (sdp, moved) = (addr(40000), addr(41000));
    let mut source = PeerSource::new(Some(sdp), ms(0));
    source.check(sdp, 1, 0, ms(0), GRACE);
    source.update(Some(sdp), ms(500));
    assert_eq!(
        source.check(addr(6666), 1, 0, ms(520), GRACE),
        Verdict::Foreign
    );
    source.update(Some(moved), ms(600));
    assert_eq!(source.destination(), Some(moved));
    assert_eq!(source.check(sdp, 1, 1, ms(620), GRACE), Verdict::Foreign);
    assert_eq!(source.check(moved, 1, 2, ms(640), GRACE), Verdict::Accept);
}

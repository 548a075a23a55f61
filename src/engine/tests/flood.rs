//! Scenario tests of flood control on the virtual clock: a source over its message rate is
//! answered 503 without any state, then ignored for a while, while another source is served.

use std::net::SocketAddr;
use std::time::Duration;

use super::Harness;
use crate::engine::*;

fn options(n: usize, via_host: &str) -> String {
    format!(
        "OPTIONS sip:137@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {via_host}:5070;branch=z9hG4bKflood{n}\r\n\
From: <sip:scan@{via_host}>;tag=f{n}\r\nTo: <sip:137@127.0.0.1>\r\nCall-ID: flood-{n}@{via_host}\r\n\
CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
}

fn flood_limits() -> FloodLimits {
    FloodLimits {
        rate_per_s: 10,
        burst: 20,
        strikes: 30,
        block: Duration::from_secs(60),
        trusted: Vec::new(),
    }
}

fn peer(addr: &str) -> Peer {
    Peer::udp(
        addr.parse::<SocketAddr>()
            .unwrap_or_else(|_| unreachable!()),
    )
}

fn metric(h: &Harness, name: &str) -> u64 {
    let text = h.engine.metrics_text();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in\n{text}"))
}

#[test]
fn a_flooding_source_is_answered_less_then_ignored_and_a_clean_one_is_served() {
    let mut h = Harness::with(|c| c.flood_limits = flood_limits());
    h.peer = peer("198.51.100.7:5070");
    // 100 OPTIONS at once: the burst is answered 200, then 503s with Retry-After, then silence.
    for n in 0..100 {
        h.send(&options(n, "198.51.100.7"));
    }
    let statuses = h.statuses();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20);
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 29);
    assert_eq!(statuses.len(), 49, "the rest were dropped unread");
    let refused = h
        .sent
        .iter()
        .find(|r| r.status == 503)
        .unwrap_or_else(|| panic!("no 503"));
    assert_eq!(refused.headers.get("Retry-After"), Some("60"));
    assert_eq!(metric(&h, "pasokh_sip_flood_refused_total"), 29);
    assert_eq!(metric(&h, "pasokh_sip_flood_blocked_total"), 1);
    assert_eq!(metric(&h, "pasokh_sip_flood_dropped_total"), 51);

    // Another source at the same moment is served.
    h.peer = peer("203.0.113.9:5070");
    h.send(&options(1000, "203.0.113.9"));
    assert_eq!(h.sent.last().map(|r| r.status), Some(200));

    // The flooding source is ignored even at a polite pace until its minute is over.
    h.peer = peer("198.51.100.7:5070");
    let before = h.sent.len();
    h.advance_to(Duration::from_secs(30));
    h.send(&options(2000, "198.51.100.7"));
    assert_eq!(h.sent.len(), before, "still ignored");
    h.advance_to(Duration::from_secs(61));
    h.send(&options(2001, "198.51.100.7"));
    assert_eq!(
        h.sent.last().map(|r| r.status),
        Some(200),
        "let back after its block"
    );
}

#[test]
fn refused_invites_make_no_call() {
    let mut h = Harness::with(|c| {
        c.flood_limits = FloodLimits {
            strikes: 1_000,
            ..flood_limits()
        }
    });
    h.peer = peer("198.51.100.8:15061");
    for n in 0..60 {
        let invite = super::invite(
            "137",
            &format!("inv-{n}"),
            &format!("z9hG4bKi{n}"),
            super::SDP,
        )
        .replace("127.0.0.1:15061", "198.51.100.8:15061");
        h.send(&invite);
    }
    let answered = h.sent.iter().filter(|r| r.status == 200).count();
    assert_eq!(answered, 20, "the burst's calls are answered");
    assert_eq!(h.sent.iter().filter(|r| r.status == 503).count(), 40);
    assert_eq!(h.engine.active_calls(), 20, "no call for a refused INVITE");
}

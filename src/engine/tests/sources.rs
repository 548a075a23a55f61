//! Scenario tests of what one source may hold (unconfirmed calls, share of the RTP ports) and of
//! ports another process holds, on the virtual clock.

use std::net::SocketAddr;
use std::time::Duration;

use super::{in_dialog, invite, Harness, SDP};
use crate::engine::*;

fn from(addr: &str) -> Peer {
    Peer::udp(
        addr.parse::<SocketAddr>()
            .unwrap_or_else(|_| unreachable!()),
    )
}

/// The status of the final response to INVITE `call_id`, if any.
fn final_status(h: &Harness, call_id: &str) -> Option<u16> {
    h.sent
        .iter()
        .rev()
        .find(|r| r.status >= 200 && r.call_id() == Some(call_id))
        .map(|r| r.status)
}

fn metric(h: &Harness, name: &str) -> String {
    let text = h.engine.metrics_text();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_string))
        .unwrap_or_else(|| panic!("{name} not in\n{text}"))
}

fn ack(h: &mut Harness, call_id: &str) {
    let tag = h
        .sent
        .iter()
        .find(|r| r.status == 200 && r.call_id() == Some(call_id))
        .and_then(|r| r.to_tag())
        .unwrap_or_else(|| panic!("no 200 for {call_id}"))
        .to_string();
    h.send(&in_dialog(
        "ACK",
        call_id,
        &tag,
        &format!("z9hG4bK-a{call_id}"),
        1,
    ));
}

#[test]
fn invites_never_acked_from_one_source_leave_the_pool_to_the_others() {
    let mut h = Harness::with(|c| c.source_limits.max_unconfirmed = 5);
    // 60 INVITEs without ACK: more than the pool's 51 ports.
    for n in 0..60 {
        h.send(&invite(
            "137",
            &format!("flood{n}"),
            &format!("z9hG4bK-f{n}"),
            SDP,
        ));
    }
    let answered = (0..60)
        .filter(|n| final_status(&h, &format!("flood{n}")) == Some(200))
        .count();
    assert_eq!(answered, 5);
    let refused: Vec<_> = h.sent.iter().filter(|r| r.status == 503).collect();
    assert_eq!(refused.len(), 55);
    assert!(refused
        .iter()
        .all(|r| r.headers.get("Retry-After") == Some("5")));
    assert_eq!(metric(&h, "pasokh_calls_refused_source_limit_total"), "55");
    assert_eq!(h.engine.ports.available(), 51 - 5);
    // A caller from another address is answered meanwhile.
    h.peer = from("192.0.2.7:5060");
    h.send(&invite("1888", "citizen", "z9hG4bK-citizen", SDP));
    assert_eq!(final_status(&h, "citizen"), Some(200));
    ack(&mut h, "citizen");
    // Timer H ends the unconfirmed calls and gives their ports back; the source may call again.
    h.advance_to(Duration::from_secs(33));
    assert_eq!(h.engine.ports.available(), 51 - 1);
    h.peer = from("127.0.0.1:15061");
    h.send(&invite("137", "again", "z9hG4bK-again", SDP));
    assert_eq!(final_status(&h, "again"), Some(200));
}

#[test]
fn one_source_holds_at_most_its_share_of_the_ports() {
    // 20% of 51 ports: 11.
    let mut h = Harness::with(|c| c.source_limits.max_port_share_percent = 20);
    for n in 0..12 {
        let call_id = format!("trunk{n}");
        h.send(&invite("137", &call_id, &format!("z9hG4bK-t{n}"), SDP));
        if final_status(&h, &call_id) == Some(200) {
            ack(&mut h, &call_id);
        }
    }
    let answered = (0..12)
        .filter(|n| final_status(&h, &format!("trunk{n}")) == Some(200))
        .count();
    assert_eq!(answered, 11);
    assert_eq!(final_status(&h, "trunk11"), Some(503));
    h.peer = from("192.0.2.8:5060");
    h.send(&invite("137", "other", "z9hG4bK-other", SDP));
    assert_eq!(final_status(&h, "other"), Some(200));
}

#[test]
fn a_port_held_by_another_process_is_skipped_and_the_call_answered() {
    let mut h = Harness::new();
    // Every port but one is held by someone else.
    h.ports_in_use = (20000..=20100).step_by(2).filter(|p| *p != 20050).collect();
    h.send(&invite("137", "busy", "z9hG4bK-busy", SDP));
    assert_eq!(h.statuses(), vec![100, 200]);
    let body = String::from_utf8_lossy(&h.sent[1].body).to_string();
    assert!(body.contains("m=audio 20050 "), "{body}");
    let opens: Vec<u16> = h
        .media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Open(s) => Some(s.local_port),
            _ => None,
        })
        .collect();
    assert_eq!(opens.last(), Some(&20050));
    assert_eq!(
        opens.len(),
        opens.iter().collect::<std::collections::HashSet<_>>().len()
    );
    // The ports found taken stay out of the pool for a while, then come back.
    assert!(
        opens.len() > 1,
        "the first port chosen was the free one: {opens:?}"
    );
    assert_eq!(h.engine.ports.available(), 51 - opens.len());
    ack(&mut h, "busy");
    h.advance_to(Duration::from_secs(61));
    h.ports_in_use.clear();
    h.send(&invite("137", "later", "z9hG4bK-later", SDP));
    assert_eq!(final_status(&h, "later"), Some(200));
    assert_eq!(h.engine.ports.available(), 51 - 2);
}

#[test]
fn when_every_port_is_held_elsewhere_the_caller_gets_503_and_nothing_leaks() {
    let mut h = Harness::new();
    h.ports_in_use = (20000..=20100).step_by(2).collect();
    h.send(&invite("137", "none", "z9hG4bK-none", SDP));
    assert_eq!(h.statuses(), vec![100, 503]);
    assert_eq!(h.last_record().disposition, "media_failed");
    assert_eq!(h.engine.active_calls(), 0);
    assert!(h.requests.is_empty(), "no BYE for a call never answered");
}

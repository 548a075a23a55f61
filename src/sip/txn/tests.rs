use super::*;
use crate::sip::msg::{response_to, Message};
use crate::sip::parse::parse;
use crate::sip::transport::Peer;

fn peer() -> Peer {
    Peer::udp(std::net::SocketAddr::from(([127, 0, 0, 1], 5070)))
}

fn request(method: &str, branch: &str) -> Request {
    let text = format!(
        "{method} sip:2001@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\n\
From: <sip:pasokh@127.0.0.1>;tag=a\r\nTo: <sip:2001@127.0.0.1>\r\nCall-ID: t1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    );
    match parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn sends(layer: &mut TxnLayer) -> usize {
    let mut n = 0;
    while let Some(e) = layer.poll_output() {
        if matches!(e, TxnEvent::Transmit { .. }) {
            n += 1;
        }
    }
    n
}

fn run_until(layer: &mut TxnLayer, end: Duration) -> Vec<TxnEvent> {
    let mut events = Vec::new();
    while let Some(at) = layer.poll_timeout() {
        if at > end {
            break;
        }
        layer.handle_timeout(at);
        while let Some(e) = layer.poll_output() {
            events.push(e);
        }
    }
    events
}

#[test]
fn non_invite_server_resends_its_final_response_to_retransmissions_until_timer_j() {
    let mut layer = TxnLayer::new(TimerConfig::default());
    let req = request("BYE", "z9hG4bK1");
    let now = Duration::ZERO;
    assert!(matches!(
        layer.on_request(&req, peer(), now),
        Some(Incoming::New(_))
    ));
    assert_eq!(
        layer.on_request(&req, peer(), now),
        Some(Incoming::Retransmission)
    );
    assert_eq!(sends(&mut layer), 0, "nothing to resend while Trying");
    let Some(key) = TxnKey::for_request(&req) else {
        panic!("no key")
    };
    assert!(layer.respond(&key, &response_to(&req, 200, None), now));
    assert_eq!(sends(&mut layer), 1);
    assert_eq!(
        layer.on_request(&req, peer(), now),
        Some(Incoming::Retransmission)
    );
    assert_eq!(sends(&mut layer), 1, "the 200 is sent again");
    run_until(&mut layer, Duration::from_secs(33));
    assert!(layer.is_empty(), "Timer J ends the transaction");
}

#[test]
fn invite_client_retransmits_on_timer_a_and_gives_up_at_timer_b() {
    let mut layer = TxnLayer::new(TimerConfig::default());
    let Some(key) = layer.send_request(request("INVITE", "z9hG4bK2"), peer(), Duration::ZERO)
    else {
        panic!("not sent")
    };
    assert_eq!(sends(&mut layer), 1);
    let events = run_until(&mut layer, Duration::from_secs(40));
    let resent = events
        .iter()
        .filter(|e| matches!(e, TxnEvent::Transmit { .. }))
        .count();
    assert_eq!(resent, 6, "A fires at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s");
    assert!(events.contains(&TxnEvent::ClientTimeout { key }));
}

#[test]
fn invite_client_acks_a_non_2xx_and_hides_its_retransmissions() {
    let mut layer = TxnLayer::new(TimerConfig::default());
    let req = request("INVITE", "z9hG4bK3");
    layer.send_request(req.clone(), peer(), Duration::ZERO);
    sends(&mut layer);
    let busy = response_to(&req, 486, Some("b"));
    layer.on_response(busy.clone(), Duration::from_millis(10));
    let mut acks = 0;
    let mut seen = 0;
    while let Some(e) = layer.poll_output() {
        match e {
            TxnEvent::Transmit { bytes, .. } => {
                acks += usize::from(String::from_utf8_lossy(&bytes).starts_with("ACK "))
            }
            TxnEvent::Response { .. } => seen += 1,
            _ => {}
        }
    }
    assert_eq!((acks, seen), (1, 1));
    layer.on_response(busy, Duration::from_millis(20));
    assert_eq!(
        sends(&mut layer),
        1,
        "the retransmitted 486 is ACKed again, not passed up"
    );
}

#[test]
fn invite_server_completed_is_confirmed_by_the_ack_and_stops_retransmitting() {
    let mut layer = TxnLayer::new(TimerConfig::default());
    let req = request("INVITE", "z9hG4bK4");
    layer.on_request(&req, peer(), Duration::ZERO);
    let Some(key) = TxnKey::for_request(&req) else {
        panic!("no key")
    };
    layer.respond(&key, &response_to(&req, 486, Some("t")), Duration::ZERO);
    sends(&mut layer);
    let events = run_until(&mut layer, Duration::from_millis(1600));
    assert_eq!(events.len(), 2, "G at 0.5 and 1.5 s");
    let mut ack = request("ACK", "z9hG4bK4");
    ack.method = Method::Ack;
    assert_eq!(
        layer.on_request(&ack, peer(), Duration::from_millis(1700)),
        Some(Incoming::Retransmission)
    );
    let events = run_until(&mut layer, Duration::from_secs(60));
    assert!(events.is_empty(), "{events:?}");
    assert!(layer.is_empty(), "Timer I ended it");
}

#[test]
fn the_same_branch_from_two_sent_bys_is_two_transactions() {
    // RFC 3261 §17.2.3 matches on branch and sent-by; RFC 4475's messages reuse one branch.
    let mut layer = TxnLayer::new(TimerConfig::default());
    let first = request("OPTIONS", "z9hG4bKkdjuw");
    let mut second = first.clone();
    second.headers.set(
        "Via",
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw".to_string(),
    );
    let now = Duration::ZERO;
    assert!(matches!(
        layer.on_request(&first, peer(), now),
        Some(Incoming::New(_))
    ));
    assert!(matches!(
        layer.on_request(&second, peer(), now),
        Some(Incoming::New(_))
    ));
    assert_eq!(layer.len(), 2);
}

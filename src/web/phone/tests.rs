use super::hub::QUEUED_PER_PAGE;
use super::*;
use crate::engine::{EndReason, PhoneEvent};

#[test]
fn a_page_that_stops_reading_is_cut_off_not_buffered_without_end() {
    let hub = PhoneHub::default();
    let (phone, mut events) = hub.open();
    let (other, _other_events) = hub.open();
    assert_ne!(phone, other);
    assert_eq!(hub.open_phones(), 2);
    let ended = |call| PhoneEvent::Ended {
        call,
        reason: EndReason::Cancelled,
    };
    hub.deliver(phone, ended(1));
    assert_eq!(events.try_recv().ok(), Some(ended(1)));
    for call in 0..=(QUEUED_PER_PAGE as u64) {
        hub.deliver(phone, ended(call));
    }
    assert_eq!(hub.open_phones(), 1, "the stuck page is dropped");
    let mut delivered = 0;
    while events.try_recv().is_ok() {
        delivered += 1;
    }
    assert_eq!(
        delivered, QUEUED_PER_PAGE,
        "what fitted is still read, then the end"
    );
    hub.deliver(phone, ended(99)); // after the cut: nowhere to go, no panic
    hub.close(other);
    assert_eq!(hub.open_phones(), 0);
}

#[test]
fn events_are_json_objects_with_a_type() {
    let ring = PhoneEvent::Ring {
        call: 7,
        caller: "0912***4567".into(),
        line: "1888".into(),
        queue: Some("1888".into()),
        tracking_code: Some("10000051".into()),
    };
    let json = serde_json::to_value(&ring).unwrap_or_default();
    assert_eq!(json["type"], "ring");
    assert_eq!(json["call"], 7);
    assert_eq!(json["tracking_code"], "10000051");
    let ended = PhoneEvent::Ended {
        call: 7,
        reason: EndReason::Failed,
    };
    let json = serde_json::to_value(&ended).unwrap_or_default();
    assert_eq!(
        (json["type"].as_str(), json["reason"].as_str()),
        (Some("ended"), Some("failed"))
    );
}

#[test]
fn page_messages_parse_or_are_refused_with_a_reason() {
    let parsed: Result<FromPage, _> =
        serde_json::from_str(r#"{"type":"answer","call":3,"sdp":"v=0"}"#);
    assert!(matches!(parsed, Ok(FromPage::Answer { call: 3, .. })));
    let parsed: Result<FromPage, _> =
        serde_json::from_str(r#"{"type":"state","action":"pause","reason":2}"#);
    assert!(matches!(
        parsed,
        Ok(FromPage::State {
            reason: Some(2),
            ..
        })
    ));
    for bad in [
        r#"{"type":"answer","call":"x"}"#,
        r#"{"type":"transfer","call":1}"#,
        "not json",
    ] {
        assert!(serde_json::from_str::<FromPage>(bad).is_err(), "{bad}");
    }
}

#[test]
fn figures_are_sent_when_they_change_only() {
    use crate::engine::live::{AgentLive, LiveSnapshot};
    let snapshot = |answered, state: &str| LiveSnapshot {
        agents: vec![AgentLive {
            id: "2001".into(),
            state: state.into(),
            answered_today: answered,
            ..AgentLive::default()
        }],
        ..LiveSnapshot::default()
    };
    let mut figures = Figures::default();
    assert!(figures.update(&snapshot(0, "available"), "2001").is_some());
    assert!(figures.update(&snapshot(0, "available"), "2001").is_none());
    let changed = figures.update(&snapshot(1, "wrap_up"), "2001");
    assert!(changed.is_some_and(|f| f.contains("\"answered_today\":1")));
    assert!(
        figures.update(&snapshot(1, "wrap_up"), "2002").is_none(),
        "not this agent"
    );
}

//! Call priority from the flow, on a virtual clock: in the 137 tree a report of a problem in
//! the city (key 1, `report_agent`, priority 1) is offered before a general question (key 0,
//! `agent`, priority 0) that has waited longer in the same queue.

use super::acd::{acd_harness, invites_to_agents, register_without_auth};
use super::{in_dialog, invite, Harness, SDP};
use crate::engine::*;
use crate::media::api::LegId;
use crate::sip::registrar::UserCredentials;

/// A 137 caller answered and past the welcome; returns its leg (the call's key).
fn caller(h: &mut Harness, call_id: &str, from: &str) -> LegId {
    let commands = h.media.len();
    let sent = h.sent.len();
    let text =
        invite("137", call_id, &format!("z9hG4bK-{call_id}"), SDP).replace("09121234567", from);
    h.send(&text);
    let leg = h.media[commands..]
        .iter()
        .find_map(|m| match m {
            MediaCommand::Open(setup) => Some(setup.leg),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no media leg for {call_id}"));
    let tag = h.sent[sent..]
        .iter()
        .find(|r| r.status == 200)
        .and_then(|r| r.to_tag())
        .unwrap_or_else(|| panic!("{call_id} answered"))
        .to_string();
    let ack = in_dialog("ACK", call_id, &tag, &format!("z9hG4bK-{call_id}-a"), 1)
        .replace("09121234567", from);
    h.send(&ack);
    media(h, MediaEvent::PlaybackFinished { leg }); // the welcome
    leg
}

fn media(h: &mut Harness, event: MediaEvent) {
    h.engine.handle_input(Input::Media(event), h.now);
    h.drain();
}

fn keys(h: &mut Harness, leg: LegId, digits: &str) {
    for digit in digits.chars() {
        media(h, MediaEvent::Digit { leg, digit });
    }
}

/// The store opens the call's message (the call then enters the queue for real).
fn message_opened(h: &mut Harness, leg: LegId, code: &str) {
    // A caller's leg has its call's number.
    let call_key = call::CallKey(leg.0);
    let opening = h.store.iter().any(|c| {
        matches!(c, StoreCommand::Write(StoreWrite::FileMessage { call, message })
            if *call == call_key && message.stage == FilingStage::Open)
    });
    assert!(opening, "call {leg}'s message is opened: {:?}", h.store);
    let reply = StoreReply::Opened {
        call: call_key,
        tracking_code: Some(code.to_string()),
    };
    h.engine.handle_input(Input::Store(reply), h.now);
    h.drain();
}

#[test]
fn a_report_is_offered_before_an_older_general_question_in_the_same_queue() {
    let mut h = acd_harness(&[]);
    let entry = AgentEntry {
        id: "2005".into(),
        name: "Agent 2005".into(),
        credentials: UserCredentials::from_password("2005", "pasokh", "pw"),
        queues: vec![("137".into(), 0)],
    };
    h.engine.handle_input(Input::Agents(vec![entry]), h.now);
    register_without_auth(&mut h, "2005");
    // Logged in but paused: calls wait (nobody is offered yet).
    assert!(h
        .engine
        .agent_action("2005", live::AgentAction::Login, h.now));
    assert!(h
        .engine
        .agent_action("2005", live::AgentAction::Pause(1), h.now));
    h.drain();

    // First a general question (0)...
    let question = caller(&mut h, "p1", "09120000001");
    keys(&mut h, question, "0");
    media(&mut h, MediaEvent::PlaybackFinished { leg: question }); // "connecting you"
    message_opened(&mut h, question, "10000013");
    h.now += Duration::from_secs(5);

    // ...then a report: 1, district 6 and #, category 5 (garbage).
    let report = caller(&mut h, "p2", "09120000002");
    keys(&mut h, report, "1");
    keys(&mut h, report, "6#");
    keys(&mut h, report, "5");
    media(&mut h, MediaEvent::PlaybackFinished { leg: report }); // "connecting you"
    message_opened(&mut h, report, "10000021");

    let snapshot = h.engine.live_snapshot(h.now);
    let waiting: Vec<(String, u32)> = snapshot
        .waiting
        .iter()
        .map(|w| (w.caller.clone(), w.position as u32))
        .collect();
    assert_eq!(
        waiting,
        [
            ("0912***0002".to_string(), 1),
            ("0912***0001".to_string(), 2)
        ],
        "the report is first in line though it came second"
    );
    assert!(invites_to_agents(&h).is_empty(), "the agent is paused");

    // Unpaused the way the REST API and the feature codes do it: an input to the engine.
    let unpause = Input::AgentAction {
        agent: "2005".into(),
        action: live::AgentAction::Unpause,
    };
    h.engine.handle_input(unpause, h.now);
    h.drain();
    let offers = invites_to_agents(&h);
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert_eq!(
        offers[0].headers.get("X-Pasokh-Caller"),
        Some("09120000002")
    );
}

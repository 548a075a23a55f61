//! Browser phones inside the engine, on a virtual clock: the page's requests in, its events and
//! the media commands out (the browser leg's own ICE/DTLS is tested in `media::webrtc`).

use std::time::Duration;

use crate::engine::tests::acd::{
    acd_harness, answer, caller_in_queue, invites_to_agents, register_without_auth,
};
use crate::engine::tests::Harness;
use crate::engine::*;
use crate::media::api::{Idle, LegId, MediaCommand, MediaEvent};
use crate::sip::msg::Method;
use crate::sip::registrar::UserCredentials;

const PAGE: PhoneId = PhoneId(1);
const BROWSER_OFFER: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
/// The caller's leg in these scenarios (the first call's number).
const CALLER_LEG: LegId = LegId(1);

fn agent(id: &str) -> AgentEntry {
    AgentEntry {
        id: id.to_string(),
        name: format!("Agent {id}"),
        credentials: UserCredentials::from_password(id, "pasokh", "pw"),
        queues: vec![("1888".into(), 0)],
    }
}

fn state(h: &Harness, agent: &str) -> String {
    h.engine
        .live_snapshot(h.now)
        .agents
        .into_iter()
        .find(|a| a.id == agent)
        .map(|a| a.state)
        .unwrap_or_default()
}

fn input(h: &mut Harness, input: Input) {
    h.engine.handle_input(input, h.now);
    h.drain();
}

fn request(h: &mut Harness, phone: PhoneId, request: PhoneRequest) {
    input(h, Input::Phone { phone, request });
}

fn media(h: &mut Harness, event: MediaEvent) {
    input(h, Input::Media(event));
}

/// Agents 2001.. known; `2001` signed in on page `PAGE` only (no softphone) and logged in.
fn browser_agent(others: &[&str]) -> Harness {
    let mut h = acd_harness(&[]);
    let mut entries = vec![agent("2001")];
    entries.extend(others.iter().map(|id| agent(id)));
    input(&mut h, Input::Agents(entries));
    input(
        &mut h,
        Input::PhoneAttached {
            phone: PAGE,
            agent: "2001".into(),
        },
    );
    assert!(h
        .engine
        .agent_action("2001", live::AgentAction::Login, h.now));
    h.drain();
    h
}

fn events_to(h: &Harness, phone: PhoneId) -> Vec<PhoneEvent> {
    h.phone_events
        .iter()
        .filter(|(p, _)| *p == phone)
        .map(|(_, e)| e.clone())
        .collect()
}

/// The call offered to `phone` by its last `ring`.
fn ringing_call(h: &Harness, phone: PhoneId) -> u64 {
    events_to(h, phone)
        .iter()
        .rev()
        .find_map(|e| match e {
            PhoneEvent::Ring { call, .. } => Some(*call),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the page rings: {:?}", h.phone_events))
}

fn ended(h: &Harness, phone: PhoneId, call: u64) -> Option<EndReason> {
    events_to(h, phone).iter().find_map(|e| match e {
        PhoneEvent::Ended { call: c, reason } if *c == call => Some(*reason),
        _ => None,
    })
}

fn opened_browser_leg(h: &Harness) -> Option<LegId> {
    h.media.iter().find_map(|m| match m {
        MediaCommand::OpenBrowser { setup, offer, .. } if offer == BROWSER_OFFER => Some(setup.leg),
        _ => None,
    })
}

/// The page answers `call`; the media worker answers the offer and ICE/DTLS complete.
fn answer_in_browser(h: &mut Harness, call: u64) {
    let offer = BROWSER_OFFER.to_string();
    request(h, PAGE, PhoneRequest::Answer { call, offer });
    let leg = LegId(call);
    assert_eq!(
        opened_browser_leg(h),
        Some(leg),
        "the leg opens with the offer"
    );
    let answer = "v=0\r\na=ice-lite\r\n".to_string();
    media(h, MediaEvent::BrowserAnswer { leg, answer });
    assert!(events_to(h, PAGE)
        .iter()
        .any(|e| matches!(e, PhoneEvent::Answer { call: c, sdp } if *c == call && sdp.contains("ice-lite"))));
    media(h, MediaEvent::BrowserConnected { leg });
}

fn bridged(h: &Harness, leg: LegId) -> bool {
    h.media.iter().any(|m| {
        matches!(m, MediaCommand::Bridge { a, b } if (*a, *b) == (CALLER_LEG, leg) || (*a, *b) == (leg, CALLER_LEG))
    })
}

/// BYEs to the caller, each once (UDP retransmissions of one BYE left out).
fn byes_to_caller(h: &Harness) -> usize {
    let mut cseqs: Vec<&str> = h
        .requests
        .iter()
        .filter(|r| r.method == Method::Bye && r.uri.contains("15061"))
        .filter_map(|r| r.headers.get("CSeq"))
        .collect();
    cseqs.dedup();
    cseqs.len()
}

#[test]
fn an_agent_with_only_a_browser_logs_in_is_rung_answers_talks_and_hangs_up() {
    let mut h = browser_agent(&[]);
    assert_eq!(state(&h, "2001"), "available", "the page is a phone");
    assert!(matches!(
        events_to(&h, PAGE).last(),
        Some(PhoneEvent::AgentState { state, .. }) if state == "available"
    ));
    caller_in_queue(&mut h);
    let Some(PhoneEvent::Ring {
        call,
        caller,
        line,
        queue,
        tracking_code,
    }) = events_to(&h, PAGE)
        .into_iter()
        .find(|e| matches!(e, PhoneEvent::Ring { .. }))
    else {
        panic!("the page rings: {:?}", h.phone_events)
    };
    assert!(
        caller.contains("***"),
        "the caller's number is masked: {caller}"
    );
    assert_eq!(line, "1888");
    assert_eq!(queue.as_deref(), Some("1888"));
    assert_eq!(tracking_code.as_deref(), Some("10000051"));
    assert!(invites_to_agents(&h).is_empty(), "no SIP phone to ring");
    assert_eq!(state(&h, "2001"), "ringing");

    answer_in_browser(&mut h, call);
    assert!(bridged(&h, LegId(call)), "caller and browser are bridged");
    assert_eq!(state(&h, "2001"), "on_call");
    assert!(events_to(&h, PAGE)
        .iter()
        .any(|e| matches!(e, PhoneEvent::Connected { call: c } if *c == call)));

    request(&mut h, PAGE, PhoneRequest::Hangup { call });
    assert_eq!(byes_to_caller(&h), 1, "the caller is hung up");
    assert_eq!(ended(&h, PAGE, call), Some(EndReason::HungUp));
    assert_eq!(state(&h, "2001"), "wrap_up");
    assert!(
        matches!(events_to(&h, PAGE).last(), Some(PhoneEvent::AgentState { state, wrap_up_s: Some(s), .. }) if state == "wrap_up" && *s > 0),
        "the page counts the wrap-up down: {:?}",
        events_to(&h, PAGE).last()
    );
    assert!(h
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Close { leg } if *leg == LegId(call))));
    assert!(h.engine.is_drained(), "nothing left behind");
}

/// 2001 with a registered softphone and the page: both ring for one caller.
fn desk_phone_and_browser_ringing() -> (Harness, Request, u64) {
    let mut h = browser_agent(&[]);
    register_without_auth(&mut h, "2001");
    caller_in_queue(&mut h);
    let invites = invites_to_agents(&h);
    assert_eq!(invites.len(), 1, "the softphone rings");
    let call = ringing_call(&h, PAGE);
    (h, invites[0].clone(), call)
}

#[test]
fn ring_all_the_softphone_answers_first_and_the_page_stops_ringing() {
    let (mut h, invite, call) = desk_phone_and_browser_ringing();
    answer(&mut h, &invite, 200);
    assert_eq!(state(&h, "2001"), "on_call");
    assert_eq!(ended(&h, PAGE, call), Some(EndReason::Cancelled));
    assert_eq!(opened_browser_leg(&h), None);
    // The page's answer crossed the softphone's: it is told the call is gone, nothing opens.
    let offer = BROWSER_OFFER.to_string();
    request(&mut h, PAGE, PhoneRequest::Answer { call, offer });
    assert_eq!(opened_browser_leg(&h), None);
}

#[test]
fn ring_all_the_page_answers_first_and_the_softphone_is_cancelled() {
    let (mut h, invite, call) = desk_phone_and_browser_ringing();
    answer_in_browser(&mut h, call);
    let cancels = h
        .requests
        .iter()
        .filter(|r| r.method == Method::Cancel && r.uri == invite.uri)
        .count();
    assert_eq!(cancels, 1, "the softphone stops ringing");
    assert!(bridged(&h, LegId(call)));
    assert_eq!(state(&h, "2001"), "on_call");
}

#[test]
fn a_browser_that_never_connects_ends_its_leg_and_the_call_goes_to_the_next_agent() {
    let mut h = browser_agent(&["2002"]);
    caller_in_queue(&mut h);
    let call = ringing_call(&h, PAGE);
    // 2002 comes on with a softphone while 2001's page rings.
    register_without_auth(&mut h, "2002");
    assert!(h
        .engine
        .agent_action("2002", live::AgentAction::Login, h.now));
    h.drain();
    let offer = BROWSER_OFFER.to_string();
    request(&mut h, PAGE, PhoneRequest::Answer { call, offer });
    let leg = LegId(call);
    let reason = "DTLS handshake did not complete in 10 s".to_string();
    media(&mut h, MediaEvent::BrowserFailed { leg, reason });
    assert_eq!(ended(&h, PAGE, call), Some(EndReason::Failed));
    assert!(h
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Close { leg: l } if *l == leg)));
    let invites = invites_to_agents(&h);
    assert_eq!(invites.len(), 1, "offered to the next agent");
    assert!(
        invites[0].uri.starts_with("sip:2002@"),
        "{}",
        invites[0].uri
    );
    answer(&mut h, &invites[0], 200);
    assert_eq!(state(&h, "2002"), "on_call");
}

#[test]
fn an_offer_without_g711_is_refused_its_port_given_back_and_the_call_waits_on() {
    let mut h = browser_agent(&[]);
    caller_in_queue(&mut h);
    let call = ringing_call(&h, PAGE);
    let free = h.engine.ports.available();
    let offer = BROWSER_OFFER.to_string();
    request(&mut h, PAGE, PhoneRequest::Answer { call, offer });
    assert_eq!(h.engine.ports.available(), free - 1);
    let reason = "no PCMU or PCMA".to_string();
    media(
        &mut h,
        MediaEvent::BrowserRefused {
            leg: LegId(call),
            reason,
        },
    );
    assert_eq!(ended(&h, PAGE, call), Some(EndReason::Failed));
    assert_eq!(h.engine.ports.available(), free, "the port is back");
    assert_ne!(state(&h, "2001"), "on_call");
    assert!(
        h.engine.in_queue(crate::engine::CallKey(1)),
        "the caller still waits"
    );
}

#[test]
fn a_page_closed_mid_call_gives_the_caller_a_prompt_then_a_bye_and_logs_the_agent_out() {
    let mut h = browser_agent(&[]);
    caller_in_queue(&mut h);
    let call = ringing_call(&h, PAGE);
    answer_in_browser(&mut h, call);
    input(&mut h, Input::PhoneDetached { phone: PAGE });
    assert!(h.media.iter().any(|m| matches!(
        m,
        MediaCommand::Play { leg, prompts, .. }
            if *leg == CALLER_LEG && prompts == &[AGENT_CONNECTION_LOST.to_string()]
    )));
    assert_eq!(
        byes_to_caller(&h),
        0,
        "not silence and a BYE: the prompt first"
    );
    assert_eq!(state(&h, "2001"), "logged_out", "no phone left to ring");
    media(&mut h, MediaEvent::PlaybackFinished { leg: CALLER_LEG });
    assert_eq!(byes_to_caller(&h), 1);
    assert_eq!(h.last_record().disposition, "media_failed");
    assert!(h.engine.is_drained());
}

#[test]
fn a_page_that_closes_while_ringing_passes_the_offer_on_and_a_dead_prompt_still_ends() {
    let mut h = browser_agent(&["2002"]);
    caller_in_queue(&mut h);
    register_without_auth(&mut h, "2002");
    assert!(h
        .engine
        .agent_action("2002", live::AgentAction::Login, h.now));
    h.drain();
    input(&mut h, Input::PhoneDetached { phone: PAGE });
    assert_eq!(state(&h, "2001"), "logged_out");
    let invites = invites_to_agents(&h);
    assert_eq!(invites.len(), 1, "the next agent is offered the call");
    assert!(invites[0].uri.starts_with("sip:2002@"));
    // The closing prompt of a mid-call loss ends by its limit even if playback never reports.
    let mut h = browser_agent(&[]);
    caller_in_queue(&mut h);
    let call = ringing_call(&h, PAGE);
    answer_in_browser(&mut h, call);
    media(
        &mut h,
        MediaEvent::BrowserFailed {
            leg: LegId(call),
            reason: "consent lost".into(),
        },
    );
    assert_eq!(
        ended(&h, PAGE, call),
        Some(EndReason::Failed),
        "the page hears why"
    );
    assert_eq!(state(&h, "2001"), "wrap_up", "the page is still a phone");
    assert_eq!(byes_to_caller(&h), 0);
    let later = h.now + Duration::from_secs(10);
    h.advance_to(later);
    assert_eq!(byes_to_caller(&h), 1);
}

#[test]
fn hold_gives_the_caller_music_and_resume_joins_them_again() {
    let mut h = browser_agent(&[]);
    caller_in_queue(&mut h);
    let call = ringing_call(&h, PAGE);
    answer_in_browser(&mut h, call);
    let before = h.media.len();
    request(&mut h, PAGE, PhoneRequest::Hold { call, on: true });
    let held: Vec<&MediaCommand> = h.media[before..].iter().collect();
    assert!(held.contains(&&MediaCommand::SetIdle {
        leg: CALLER_LEG,
        idle: Idle::Music
    }));
    for leg in [CALLER_LEG, LegId(call)] {
        assert!(held.contains(&&MediaCommand::SetHeld { leg, held: true }));
    }
    assert!(matches!(
        events_to(&h, PAGE).last(),
        Some(PhoneEvent::Held { on: true, .. })
    ));
    request(&mut h, PAGE, PhoneRequest::Hold { call, on: false });
    assert!(h.media.contains(&MediaCommand::SetHeld {
        leg: CALLER_LEG,
        held: false
    }));
    request(&mut h, PAGE, PhoneRequest::Dtmf { call, digit: '5' });
    request(&mut h, PAGE, PhoneRequest::Dtmf { call, digit: 'x' });
    let keys: Vec<char> = h
        .media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::SendDtmf { leg, digit } if *leg == CALLER_LEG => Some(*digit),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ['5'], "a key reaches the caller; a non-key does not");
}

#[test]
fn a_ring_nobody_answers_stops_and_a_page_cannot_act_on_another_pages_call() {
    let mut h = browser_agent(&[]);
    input(
        &mut h,
        Input::PhoneAttached {
            phone: PhoneId(2),
            agent: "2001".into(),
        },
    );
    caller_in_queue(&mut h);
    let call = ringing_call(&h, PAGE);
    let other = ringing_call(&h, PhoneId(2));
    assert_ne!(call, other, "each page has its own offer of the call");
    // Page 2 answers page 1's offer: refused, nothing opens.
    let offer = BROWSER_OFFER.to_string();
    request(&mut h, PhoneId(2), PhoneRequest::Answer { call, offer });
    assert_eq!(opened_browser_leg(&h), None);
    let later = h.now + Duration::from_secs(16);
    h.advance_to(later);
    assert_eq!(ended(&h, PAGE, call), Some(EndReason::Cancelled));
    assert_eq!(ended(&h, PhoneId(2), other), Some(EndReason::Cancelled));
}

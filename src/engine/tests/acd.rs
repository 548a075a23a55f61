//! Agent queues end to end inside the engine, on a virtual clock: an agent registers and logs in
//! with *21, a 1888 caller presses 0, the engine offers the call to the agent (INVITE), bridges
//! on answer, and either side's hang-up ends both legs.

use crate::media::api::LegId;
use std::time::Duration;

use super::ivr::real_flows;
use super::{in_dialog, invite, Harness, SDP};
use crate::engine::*;
use crate::media::api::RecordSpec;
use crate::sip::msg::{response_to, Message, Method};
use crate::sip::registrar::UserCredentials;

pub(crate) fn acd_harness(agents: &[&str]) -> Harness {
    acd_harness_with(agents, |_| {})
}

pub(crate) fn acd_harness_with(agents: &[&str], adjust: impl FnOnce(&mut EngineConfig)) -> Harness {
    let mut h = Harness::with(adjust);
    let engine = std::mem::replace(
        &mut h.engine,
        Engine::new(EngineConfig::for_tests(h.peer.addr)),
    );
    h.engine = engine.with_flows(real_flows());
    let entries = agents
        .iter()
        .map(|id| AgentEntry {
            id: id.to_string(),
            name: format!("Agent {id}"),
            credentials: UserCredentials::from_password(id, "pasokh", "pw"),
            queues: vec![("1888".into(), 0)],
        })
        .collect();
    h.engine.handle_input(Input::Agents(entries), h.now);
    for id in agents {
        // Registered (the digest exchange is covered elsewhere): bind the agent's contact directly.
        register_without_auth(&mut h, id);
        assert!(h.engine.agent_action(id, live::AgentAction::Login, h.now));
    }
    h.drain();
    h
}

pub(crate) fn register_without_auth(h: &mut Harness, agent: &str) {
    use crate::sip::registrar::{ContactParam, RegisterRequest};
    let agents = h.engine.agents.clone();
    let directory = |u: &str| agents.get(u).cloned();
    let request = |auth: Option<String>| RegisterRequest {
        user: agent.to_string(),
        authorization: auth,
        method: "REGISTER".into(),
        contacts: vec![ContactParam {
            uri: format!("sip:{agent}@127.0.0.1:15061"),
            expires: Some(3600),
        }],
        star_contact: false,
        expires_header: None,
        call_id: format!("reg-{agent}"),
        cseq: 1,
        source: "udp:127.0.0.1:15061".into(),
    };
    let challenge = h
        .engine
        .registrar
        .handle_register(request(None), &directory, 0);
    let crate::sip::registrar::RegisterOutcome::Challenge {
        www_authenticate, ..
    } = challenge
    else {
        panic!("expected a challenge")
    };
    let value = www_authenticate
        .iter()
        .find(|v| v.contains("MD5"))
        .cloned()
        .unwrap_or_default();
    let nonce = value
        .split("nonce=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default();
    use crate::sip::digest::{expected_response, ha1_hex, DigestAlgorithm, QopParams};
    let ha1 = ha1_hex(DigestAlgorithm::Md5, agent, "pasokh", "pw");
    let qop = QopParams {
        qop: "auth",
        nc: "00000001",
        cnonce: "c",
    };
    let uri = "sip:127.0.0.1:5060";
    let response = expected_response(
        DigestAlgorithm::Md5,
        &ha1,
        "REGISTER",
        uri,
        nonce,
        Some(&qop),
    );
    let auth = format!("Digest username=\"{agent}\", realm=\"pasokh\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c\"");
    let ok = h
        .engine
        .registrar
        .handle_register(request(Some(auth)), &directory, 0);
    assert!(
        matches!(ok, crate::sip::registrar::RegisterOutcome::Ok { .. }),
        "{ok:?}"
    );
}

fn media(h: &mut Harness, event: MediaEvent) {
    h.engine.handle_input(Input::Media(event), h.now);
    h.drain();
}

/// A 1888 caller who pressed 0 and is now waiting for a call-taker.
pub(crate) fn caller_in_queue(h: &mut Harness) -> String {
    let tag = caller_connecting(h);
    assert!(
        invites_to_agents(h).is_empty(),
        "no offer before the message is opened"
    );
    open_message(h, Some(TRACKING_CODE));
    tag
}

/// A 1888 caller who pressed 0 and heard "connecting you": the call's message is being opened.
fn caller_connecting(h: &mut Harness) -> String {
    h.send(&invite("1888", "q1", "z9hG4bK-q1", SDP));
    let tag = h
        .sent
        .iter()
        .find(|r| r.status == 200)
        .and_then(|r| r.to_tag())
        .unwrap_or_default()
        .to_string();
    h.send(&in_dialog("ACK", "q1", &tag, "z9hG4bK-q1a", 1));
    media(h, MediaEvent::PlaybackFinished { leg: LegId(1) }); // welcome
    media(
        h,
        MediaEvent::Digit {
            leg: LegId(1),
            digit: '0',
        },
    );
    media(h, MediaEvent::PlaybackFinished { leg: LegId(1) }); // "connecting you"
    tag
}

/// The code the store gives the queued call's message in these tests.
const TRACKING_CODE: &str = "10000051";

/// The store's answer to the opening of the waiting call's message.
fn open_message(h: &mut Harness, code: Option<&str>) {
    let opened = h.store.iter().find_map(|c| match c {
        StoreCommand::Write(StoreWrite::FileMessage { call, message })
            if message.stage == FilingStage::Open =>
        {
            Some(*call)
        }
        _ => None,
    });
    let Some(call) = opened else {
        panic!("the queued call's message is opened: {:?}", h.store)
    };
    let reply = StoreReply::Opened {
        call,
        tracking_code: code.map(str::to_string),
    };
    h.engine.handle_input(Input::Store(reply), h.now);
    h.drain();
}

/// INVITEs to agents, one per offer (UDP retransmissions of the same INVITE left out).
pub(crate) fn invites_to_agents(h: &Harness) -> Vec<Request> {
    let mut seen = Vec::new();
    let mut offers = Vec::new();
    for r in h.requests.iter().filter(|r| r.method == Method::Invite) {
        let id = r.call_id().unwrap_or_default().to_string();
        if !seen.contains(&id) {
            seen.push(id);
            offers.push(r.clone());
        }
    }
    offers
}

pub(crate) fn answer(h: &mut Harness, invite: &Request, status: u16) {
    let mut resp = response_to(invite, status, Some("agenttag"));
    if status == 200 {
        resp.headers.push("Contact", "<sip:2001@127.0.0.1:15061>");
        resp.headers.push("Content-Type", "application/sdp");
        resp.body = SDP.as_bytes().to_vec();
    }
    let bytes = Message::Response(resp).to_bytes();
    h.send(&String::from_utf8_lossy(&bytes));
}

#[test]
fn a_waiting_caller_is_offered_to_the_agent_bridged_and_both_legs_end_together() {
    let mut h = acd_harness(&["2001"]);
    let tag = caller_in_queue(&mut h);
    let offers = invites_to_agents(&h);
    assert_eq!(offers.len(), 1, "one INVITE to the agent");
    assert_eq!(offers[0].uri, "sip:2001@127.0.0.1:15061");
    assert_eq!(
        offers[0].headers.get("X-Pasokh-Caller"),
        Some("09121234567")
    );
    assert_eq!(
        offers[0].headers.get("X-Pasokh-Tracking-Code"),
        Some(TRACKING_CODE),
        "the agent's phone shows the code the message was opened with"
    );
    let snapshot = h.engine.live_snapshot(h.now);
    assert_eq!(snapshot.waiting.len(), 1);
    assert_eq!(snapshot.waiting[0].caller, "0912***4567");
    answer(&mut h, &offers[0], 200);
    assert!(
        h.requests.iter().any(|r| r.method == Method::Ack),
        "the agent's 200 is ACKed"
    );
    assert!(h
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Bridge { a: LegId(1), .. })));
    assert!(h.engine.live_snapshot(h.now).waiting.is_empty());
    // The caller hangs up: the agent leg gets a BYE and the agent goes to wrap-up.
    h.send(&in_dialog("BYE", "q1", &tag, "z9hG4bK-q1b", 2));
    assert!(
        h.requests.iter().any(|r| r.method == Method::Bye),
        "BYE to the agent"
    );
    let agent = h
        .engine
        .live_snapshot(h.now)
        .agents
        .into_iter()
        .find(|a| a.id == "2001");
    assert_eq!(agent.map(|a| a.state), Some("wrap_up".to_string()));
    h.advance_to(h.now + Duration::from_secs(11));
    let agent = h
        .engine
        .live_snapshot(h.now)
        .agents
        .into_iter()
        .find(|a| a.id == "2001");
    assert_eq!(agent.map(|a| a.state), Some("available".to_string()));
    let stats = h
        .engine
        .live_snapshot(h.now)
        .queues
        .into_iter()
        .find(|q| q.name == "1888");
    assert_eq!(
        stats.map(|q| (q.offered_today, q.answered_today)),
        Some((1, 1))
    );
}

#[test]
fn ring_no_answer_moves_the_call_to_a_second_agent() {
    let mut h = acd_harness(&["2001", "2002"]);
    caller_in_queue(&mut h);
    let first = invites_to_agents(&h);
    assert_eq!(first.len(), 1);
    h.advance_to(h.now + Duration::from_secs(16));
    assert!(
        h.requests.iter().any(|r| r.method == Method::Cancel),
        "the first phone stops ringing"
    );
    let offers = invites_to_agents(&h);
    assert_eq!(offers.len(), 2, "offered to the second agent");
    assert_ne!(offers[0].uri, offers[1].uri);
}

#[test]
fn a_caller_who_hangs_up_while_waiting_counts_as_abandoned() {
    let mut h = acd_harness(&["2001"]);
    let tag = caller_in_queue(&mut h);
    h.advance_to(h.now + Duration::from_secs(8));
    h.send(&in_dialog("BYE", "q1", &tag, "z9hG4bK-q1x", 2));
    assert!(
        h.requests.iter().any(|r| r.method == Method::Cancel),
        "the ringing agent is cancelled"
    );
    let stats = h
        .engine
        .live_snapshot(h.now)
        .queues
        .into_iter()
        .find(|q| q.name == "1888");
    assert_eq!(stats.map(|q| q.abandoned_today), Some(1));
}

#[test]
fn the_exit_key_during_an_announcement_leads_to_a_voice_message() {
    let mut h = acd_harness(&["2001"]);
    // The only agent is paused (still logged in): the caller waits and hears announcements.
    assert!(h
        .engine
        .agent_action("2001", live::AgentAction::Pause(1), h.now));
    caller_in_queue(&mut h);
    assert!(invites_to_agents(&h).is_empty());
    h.advance_to(h.now + Duration::from_secs(16)); // the first announcement
    let announced = h.media.iter().any(|m| matches!(m, MediaCommand::Play { prompts, barge_in: true, .. } if prompts.iter().any(|p| p == "queue/press1_voicemail")));
    assert!(announced, "position announced with barge-in");
    media(
        &mut h,
        MediaEvent::Digit {
            leg: LegId(1),
            digit: '1',
        },
    );
    let stats = h
        .engine
        .live_snapshot(h.now)
        .queues
        .into_iter()
        .find(|q| q.name == "1888");
    assert_eq!(stats.map(|q| q.exited_today), Some(1));
    // The IVR asks the message's kind (3: complaint), then records a voice message.
    media(&mut h, MediaEvent::PlaybackFinished { leg: LegId(1) });
    media(
        &mut h,
        MediaEvent::Digit {
            leg: LegId(1),
            digit: '3',
        },
    );
    for _ in 0..4 {
        media(&mut h, MediaEvent::PlaybackFinished { leg: LegId(1) });
    }
    assert!(
        h.media
            .iter()
            .any(|m| matches!(m, MediaCommand::StartRecording { .. })),
        "{:?}",
        h.media
    );
}

#[test]
fn feature_codes_log_an_agent_in_and_out() {
    let mut h = acd_harness(&[]);
    let creds = UserCredentials::from_password("2003", "pasokh", "pw");
    let entry = AgentEntry {
        id: "2003".into(),
        name: "S".into(),
        credentials: creds,
        queues: vec![("137".into(), 0)],
    };
    h.engine.handle_input(Input::Agents(vec![entry]), h.now);
    assert_eq!(
        crate::engine::agents::feature_action("*21"),
        Some(live::AgentAction::Login)
    );
    assert_eq!(
        crate::engine::agents::feature_action("*232"),
        Some(live::AgentAction::Pause(2))
    );
    assert_eq!(crate::engine::agents::feature_action("*237"), None);
    // A citizen dialling a feature code is challenged, as for any number that is not public.
    h.send(&invite("*21", "f1", "z9hG4bK-f1", SDP));
    assert_eq!(h.sent.last().map(|r| r.status), Some(401));
}

#[test]
fn an_agent_whose_softphone_stops_answering_options_is_logged_out() {
    let mut h = acd_harness(&["2001"]);
    let state = |h: &Harness| {
        h.engine
            .live_snapshot(h.now)
            .agents
            .into_iter()
            .find(|a| a.id == "2001")
            .map(|a| a.state)
    };
    assert_eq!(state(&h), Some("available".to_string()));
    h.advance_to(h.now + Duration::from_secs(31));
    let pings: Vec<Request> = h
        .requests
        .iter()
        .filter(|r| r.method == Method::Options)
        .cloned()
        .collect();
    assert!(!pings.is_empty(), "the softphone is pinged");
    // It answers the first ping: still logged in.
    answer(&mut h, &pings[0], 200);
    h.advance_to(h.now + Duration::from_secs(20));
    assert_eq!(state(&h), Some("available".to_string()));
    // The next pings go unanswered: Timer F (32 s) logs the agent out.
    h.advance_to(h.now + Duration::from_secs(75));
    assert_eq!(state(&h), Some("logged_out".to_string()));
}

/// An INVITE from agent `from` (password "pw") to `to`: sent bare, then again with the digest
/// answer to the challenge, as a softphone does. The second try has its own branch and CSeq 2.
pub(crate) fn invite_as_agent(h: &mut Harness, from: &str, to: &str, call_id: &str, branch: &str) {
    let bare = invite(to, call_id, branch, SDP).replace(
        "From: <sip:09121234567@127.0.0.1>",
        &format!("From: <sip:{from}@127.0.0.1>"),
    );
    let sent = h.sent.len();
    h.send(&bare);
    let challenge = h.sent[sent..]
        .iter()
        .find(|r| r.status == 401)
        .and_then(|r| r.headers.get("WWW-Authenticate"))
        .unwrap_or_else(|| panic!("an INVITE to {to} is challenged"))
        .to_string();
    let uri = format!("sip:{to}@127.0.0.1:5060");
    let answer = super::digest_answer(&challenge, from, "pw", "INVITE", &uri);
    let authorized = bare
        .replace(branch, &format!("{branch}-2"))
        .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
        .replace(
            "Max-Forwards: 70\r\n",
            &format!("Max-Forwards: 70\r\nAuthorization: {answer}\r\n"),
        );
    h.send(&authorized);
}

#[test]
fn dialling_an_agent_needs_an_agents_credentials_then_rings_that_agent_and_bridges_on_answer() {
    let mut h = acd_harness(&["2001", "2002"]);
    // Toll fraud: a caller without credentials is challenged, like for any number that is not
    // public, and the agent's phone never rings.
    h.send(&invite("2001", "d0", "z9hG4bK-d0", SDP));
    assert_eq!(h.sent.last().map(|r| r.status), Some(401));
    assert!(invites_to_agents(&h).is_empty(), "nothing rang");
    assert_eq!(h.engine.active_calls(), 0);
    // Another agent, authenticated, reaches 2001.
    invite_as_agent(&mut h, "2002", "2001", "d1", "z9hG4bK-d1");
    let tag = h
        .sent
        .iter()
        .find(|r| r.status == 200)
        .and_then(|r| r.to_tag())
        .unwrap_or_default()
        .to_string();
    h.send(&in_dialog("ACK", "d1", &tag, "z9hG4bK-d1a", 2));
    let offers: Vec<Request> = invites_to_agents(&h)
        .into_iter()
        .filter(|r| r.uri.contains("2001@"))
        .collect();
    assert_eq!(offers.len(), 1, "the agent's phone rings");
    answer(&mut h, &offers[0], 200);
    assert!(h
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Bridge { a: LegId(1), .. })));
    // The agent hangs up: the caller gets a BYE.
    let bye = format!(
        "BYE sip:pasokh@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:15061;branch=z9hG4bK-ab\r\n\
From: <sip:2001@127.0.0.1>;tag=agenttag\r\nTo: {};tag={}\r\nCall-ID: {}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
        offers[0].headers.get("From").map(|f| f.split(";tag=").next().unwrap_or(f)).unwrap_or_default(),
        offers[0].from_tag().unwrap_or_default(),
        offers[0].call_id().unwrap_or_default()
    );
    h.send(&bye);
    assert!(
        h.requests.iter().any(|r| r.method == Method::Bye),
        "the caller is hung up"
    );
    assert_eq!(h.engine.active_calls(), 0);
    // Only an authenticated agent learns that a number does not exist.
    invite_as_agent(&mut h, "2002", "2009", "d2", "z9hG4bK-d2");
    assert_eq!(h.sent.last().map(|r| r.status), Some(404));
}

/// The recording a queue with `record = true` starts on the caller's leg at the bridge.
fn conversation_recording(h: &Harness) -> Option<RecordSpec> {
    h.media.iter().find_map(|m| match m {
        MediaCommand::StartRecording {
            leg: LegId(1),
            spec,
        } if spec.name.contains("conversation") => Some(spec.clone()),
        _ => None,
    })
}

#[test]
fn a_recording_queue_records_the_conversation_and_attaches_it_to_the_message() {
    let mut h = acd_harness_with(&["2001"], |config| {
        for queue in &mut config.queues {
            queue.record = queue.name == "1888";
        }
    });
    let tag = caller_in_queue(&mut h);
    assert!(
        conversation_recording(&h).is_none(),
        "nothing recorded while waiting"
    );
    let offers = invites_to_agents(&h);
    answer(&mut h, &offers[0], 200);
    let spec = conversation_recording(&h);
    let Some(spec) = spec else {
        panic!("no conversation recording: {:?}", h.media)
    };
    assert_eq!(spec.end_key, None, "no key ends a conversation recording");
    assert_eq!(spec.silence, Duration::ZERO, "nor does a pause");
    // The caller hangs up; the media side finishes the file and reports it saved.
    h.send(&in_dialog("BYE", "q1", &tag, "z9hG4bK-q1b", 2));
    let finished = MediaEvent::RecordingFinished {
        leg: LegId(1),
        name: spec.name.clone(),
        duration_ms: 12_000,
        end: crate::media::api::RecordingEnd::Stopped,
        saved: true,
    };
    media(&mut h, finished);
    let attached: Vec<&StoreCommand> = h
        .store
        .iter()
        .filter(|c| {
            matches!(
                c,
                StoreCommand::Write(StoreWrite::AttachCallRecording { .. })
            )
        })
        .collect();
    // Attached by the call's own reference, which its message carries beside the Call-ID.
    let filed_ref = h.store.iter().find_map(|c| match c {
        StoreCommand::Write(StoreWrite::FileMessage { message, .. }) if message.call_id == "q1" => {
            Some(message.call_ref.clone())
        }
        _ => None,
    });
    let Some(call_ref) = filed_ref else {
        panic!("no message filed for q1: {:?}", h.store)
    };
    assert_ne!(
        call_ref, "q1",
        "the reference is the engine's, not the phone's Call-ID"
    );
    assert_eq!(
        attached,
        [&StoreCommand::Write(StoreWrite::AttachCallRecording {
            call_ref,
            name: spec.name.clone()
        })]
    );
    // The message was filed before (at the answer), so the filer attaches in order.
    let filed_at = h
        .store
        .iter()
        .position(|c| matches!(c, StoreCommand::Write(StoreWrite::FileMessage { .. })));
    let attached_at = h.store.iter().position(|c| {
        matches!(
            c,
            StoreCommand::Write(StoreWrite::AttachCallRecording { .. })
        )
    });
    assert!(filed_at < attached_at, "{:?}", h.store);
}

#[test]
fn queues_record_nothing_unless_configured() {
    let mut h = acd_harness(&["2001"]);
    caller_in_queue(&mut h);
    let offers = invites_to_agents(&h);
    answer(&mut h, &offers[0], 200);
    assert!(h
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Bridge { .. })));
    assert!(conversation_recording(&h).is_none());
}

#[test]
fn the_message_opened_in_the_queue_is_completed_at_the_answer_not_filed_twice() {
    let mut h = acd_harness(&["2001"]);
    caller_in_queue(&mut h);
    let offers = invites_to_agents(&h);
    answer(&mut h, &offers[0], 200);
    let stages: Vec<FilingStage> = h
        .store
        .iter()
        .filter_map(|c| match c {
            StoreCommand::Write(StoreWrite::FileMessage { message, .. }) => Some(message.stage),
            _ => None,
        })
        .collect();
    assert_eq!(stages, [FilingStage::Open, FilingStage::Complete]);
}

#[test]
fn a_call_whose_message_could_not_be_opened_still_reaches_an_agent() {
    let mut h = acd_harness(&["2001"]);
    caller_connecting(&mut h);
    // The database is down: no code, but the citizen is not kept from a call-taker.
    open_message(&mut h, None);
    let offers = invites_to_agents(&h);
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].headers.get("X-Pasokh-Tracking-Code"), None);
}

#[test]
fn a_caller_who_hangs_up_while_the_message_opens_is_never_offered() {
    let mut h = acd_harness(&["2001"]);
    let tag = caller_connecting(&mut h);
    h.send(&in_dialog("BYE", "q1", &tag, "z9hG4bK-q1b", 2));
    // The flow filed at the hang-up, but the opening is unanswered: the filing waits for it.
    assert_eq!(filing_stages(&h), [FilingStage::Open]);
    assert!(
        !h.engine.is_drained(),
        "a filing is still owed to the store"
    );
    open_message(&mut h, Some(TRACKING_CODE));
    assert!(invites_to_agents(&h).is_empty(), "{:?}", h.requests);
    // The call's one message is completed (abandoned while connecting), not lost.
    assert_eq!(
        filing_stages(&h),
        [FilingStage::Open, FilingStage::Complete]
    );
    assert!(h.engine.is_drained());
}

#[test]
fn a_caller_who_hangs_up_while_an_opening_fails_is_filed_whole() {
    let mut h = acd_harness(&["2001"]);
    let tag = caller_connecting(&mut h);
    h.send(&in_dialog("BYE", "q1", &tag, "z9hG4bK-q1b", 2));
    // The opening was not saved (the database was down): the message is filed whole, so the
    // store never gets a completion with nothing to complete.
    open_message(&mut h, None);
    assert_eq!(filing_stages(&h), [FilingStage::Open, FilingStage::Whole]);
    assert!(h.engine.is_drained());
}

/// The stages of the filings sent to the store, in order.
fn filing_stages(h: &Harness) -> Vec<FilingStage> {
    h.store
        .iter()
        .filter_map(|c| match c {
            StoreCommand::Write(StoreWrite::FileMessage { message, .. }) => Some(message.stage),
            _ => None,
        })
        .collect()
}

#[test]
fn an_agent_phone_that_stops_sending_rtp_ends_the_bridged_call() {
    let mut h = acd_harness(&["2001"]);
    caller_in_queue(&mut h);
    let offers = invites_to_agents(&h);
    answer(&mut h, &offers[0], 200);
    let agent_leg = h.media.iter().find_map(|m| match m {
        MediaCommand::Bridge { a: LegId(1), b } => Some(*b),
        _ => None,
    });
    let Some(agent_leg) = agent_leg else {
        panic!("the caller is bridged to the agent: {:?}", h.media)
    };
    media(&mut h, MediaEvent::Inactive { leg: agent_leg });
    let byes: Vec<&Request> = h
        .requests
        .iter()
        .filter(|r| r.method == Method::Bye)
        .collect();
    assert!(
        byes.iter().any(|r| r.uri.contains("15061")),
        "BYE to the agent's phone: {byes:?}"
    );
    assert!(
        byes.iter().any(|r| r.call_id() == Some("q1")),
        "BYE to the caller: {byes:?}"
    );
    let Some(record) = h.records.last() else {
        panic!("the call is recorded")
    };
    assert_eq!(record.disposition, "rtp_timeout");
    assert_eq!(record.hangup_by, "engine");
    let agent = h
        .engine
        .live_snapshot(h.now)
        .agents
        .into_iter()
        .find(|a| a.id == "2001");
    assert_eq!(agent.map(|a| a.state), Some("wrap_up".to_string()));
}

/// The RTP port an SDP body names on its `m=audio` line.
fn sdp_port(body: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().find(|l| l.starts_with("m=audio "))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn an_offer_to_an_agent_never_names_a_port_another_process_holds() {
    let mut h = acd_harness(&["2001"]);
    // Another program holds every even port of the range but two: one for the caller's leg,
    // one for the agent's.
    let free = [20064, 20080];
    h.ports_in_use = (20000..=20100)
        .step_by(2)
        .filter(|p| !free.contains(p))
        .collect();
    caller_in_queue(&mut h);
    let offers = invites_to_agents(&h);
    assert_eq!(offers.len(), 1, "the agent is offered the call");
    let offered = sdp_port(&offers[0].body);
    assert!(
        offered.is_some_and(|p| free.contains(&p)),
        "the offer names {offered:?}, a port bound by us"
    );
    let agent_leg = h.media.iter().rev().find_map(|m| match m {
        MediaCommand::Open(setup) if Some(setup.local_port) == offered => Some(setup.leg),
        _ => None,
    });
    let Some(agent_leg) = agent_leg else {
        panic!(
            "the agent leg was opened on the offered port: {:?}",
            h.media
        )
    };
    assert_ne!(agent_leg, LegId(1), "not the caller's leg");
    // The answer completes the open leg (where to send, which codec); it is not opened again.
    answer(&mut h, &offers[0], 200);
    assert!(h
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Update(s) if s.leg == agent_leg && s.remote.is_some())));
    assert!(h
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Bridge { a: LegId(1), .. })));
}

#[test]
fn with_no_port_left_for_the_agent_leg_no_offer_is_sent_and_the_caller_keeps_waiting() {
    let mut h = acd_harness(&["2001"]);
    // One free port: the caller's leg takes it; every other is held by another program.
    h.ports_in_use = (20000..=20100).step_by(2).filter(|p| *p != 20064).collect();
    caller_in_queue(&mut h);
    assert!(
        invites_to_agents(&h).is_empty(),
        "an INVITE naming a port nobody reads is never sent"
    );
    assert_eq!(h.engine.live_snapshot(h.now).waiting.len(), 1);
    assert_eq!(h.engine.active_calls(), 1, "the caller is not cut off");
}

/// Whether the caller was told every call-taker is busy.
fn heard_all_busy(h: &Harness) -> bool {
    h.media.iter().any(|m| {
        matches!(m, MediaCommand::Play { prompts, .. }
            if prompts.iter().any(|p| p == crate::engine::prompt_names::QUEUE_ALL_BUSY))
    })
}

#[test]
fn all_busy_is_said_only_when_no_call_taker_is_free() {
    // A free call-taker: the call rings at once, and the caller is not told everyone is busy.
    let mut h = acd_harness(&["2001"]);
    caller_in_queue(&mut h);
    assert_eq!(invites_to_agents(&h).len(), 1, "the free call-taker rings");
    assert!(!heard_all_busy(&h), "{:?}", h.media);

    // The only call-taker is paused: "all call-takers are busy" is true, and said.
    let mut h = acd_harness(&["2001"]);
    assert!(h
        .engine
        .agent_action("2001", live::AgentAction::Pause(1), h.now));
    caller_in_queue(&mut h);
    assert!(invites_to_agents(&h).is_empty());
    assert!(heard_all_busy(&h), "{:?}", h.media);
}

//! Agents and their softphones, on a virtual clock: feature codes dialled with digest
//! credentials and the prompt that says whether the request took; login needs a registered
//! phone; registrations and states survive a restart, and an agent whose phone is gone is not
//! left logged in. Also what the wallboard says of a queue's configuration.

use std::time::Duration;

use super::acd::{acd_harness, acd_harness_with, answer, caller_in_queue, invites_to_agents};
use super::{digest_answer, in_dialog, invite, register, Harness, SDP};
use crate::engine::*;
use crate::sip::msg::Method;
use crate::sip::registrar::UserCredentials;

/// `acd_harness` agents use the password "pw" in realm "pasokh".
const PASSWORD: &str = "pw";

fn state_of(h: &Harness, agent: &str) -> Option<(String, Option<String>)> {
    h.engine
        .live_snapshot(h.now)
        .agents
        .into_iter()
        .find(|a| a.id == agent)
        .map(|a| (a.state, a.reason))
}

fn state(h: &Harness, agent: &str) -> String {
    state_of(h, agent).map(|(s, _)| s).unwrap_or_default()
}

/// A digest answer to `challenge` for `method` on `uri`, with the agents' password.
fn authorization(challenge: &str, user: &str, method: &str, uri: &str) -> String {
    digest_answer(challenge, user, PASSWORD, method, uri)
}

/// The agent dials `number` from the softphone (challenged, then authenticated) and the call is
/// answered; returns the prompts the engine plays to it.
fn dial_from_phone(h: &mut Harness, agent: &str, number: &str, call_id: &str) -> Vec<String> {
    let text = |cseq: u32, auth: Option<&str>| {
        let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        invite(number, call_id, &format!("z9hG4bK-{call_id}-{cseq}"), SDP)
            .replace(
                "From: <sip:09121234567@127.0.0.1>",
                &format!("From: <sip:{agent}@127.0.0.1>"),
            )
            .replace("CSeq: 1 INVITE", &format!("CSeq: {cseq} INVITE"))
            .replace("Content-Type:", &format!("{auth}Content-Type:"))
    };
    let sent = h.sent.len();
    h.send(&text(1, None));
    let challenge = h.sent[sent..]
        .iter()
        .find(|r| r.status == 401)
        .and_then(|r| r.headers.get("WWW-Authenticate"))
        .unwrap_or_else(|| panic!("the agent's INVITE is challenged: {:?}", &h.sent[sent..]))
        .to_string();
    let uri = format!("sip:{number}@127.0.0.1:5060");
    let media = h.media.len();
    h.send(&text(
        2,
        Some(&authorization(&challenge, agent, "INVITE", &uri)),
    ));
    h.advance_to(h.now + Duration::from_millis(10));
    let tag = h.sent[sent..]
        .iter()
        .find(|r| r.status == 200)
        .and_then(|r| r.to_tag())
        .unwrap_or_else(|| panic!("{number} is answered: {:?}", &h.sent[sent..]))
        .to_string();
    h.send(&in_dialog(
        "ACK",
        call_id,
        &tag,
        &format!("z9hG4bK-{call_id}-ack"),
        2,
    ));
    h.media[media..]
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Play { prompts, .. } => Some(prompts.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn feature_codes_confirm_what_took_and_say_so_when_a_request_cannot_apply() {
    let mut h = acd_harness(&["2001"]);
    assert_eq!(state(&h, "2001"), "available");

    // *24 while not paused changes nothing and says so.
    assert_eq!(
        dial_from_phone(&mut h, "2001", "*24", "f1"),
        ["agent/refused"]
    );
    assert_eq!(state(&h, "2001"), "available");

    // *232: a pause for lunch, with its reason.
    assert_eq!(
        dial_from_phone(&mut h, "2001", "*232", "f2"),
        ["agent/paused"]
    );
    let (paused, reason) = state_of(&h, "2001").unwrap_or_default();
    assert_eq!(paused, "paused");
    assert!(reason.is_some(), "the pause keeps its reason");

    assert_eq!(
        dial_from_phone(&mut h, "2001", "*24", "f3"),
        ["agent/unpaused"]
    );
    assert_eq!(state(&h, "2001"), "available");

    assert_eq!(
        dial_from_phone(&mut h, "2001", "*22", "f4"),
        ["agent/logged_out"]
    );
    assert_eq!(state(&h, "2001"), "logged_out");
    // Logged out already: refused.
    assert_eq!(
        dial_from_phone(&mut h, "2001", "*22", "f5"),
        ["agent/refused"]
    );

    assert_eq!(
        dial_from_phone(&mut h, "2001", "*21", "f6"),
        ["agent/logged_in"]
    );
    assert_eq!(state(&h, "2001"), "available");
}

fn agent_entry(id: &str) -> AgentEntry {
    AgentEntry {
        id: id.into(),
        name: format!("Agent {id}"),
        credentials: UserCredentials::from_password(id, "pasokh", PASSWORD),
        queues: vec![("1888".into(), 0)],
    }
}

#[test]
fn logging_in_needs_a_registered_softphone() {
    let mut h = acd_harness(&[]);
    h.engine
        .handle_input(Input::Agents(vec![agent_entry("2002")]), h.now);
    // Known, so the REST request is accepted, but the ACD never sees an agent nobody can ring.
    assert!(h
        .engine
        .agent_action("2002", live::AgentAction::Login, h.now));
    h.drain();
    assert_eq!(state(&h, "2002"), "logged_out");
}

/// REGISTER with digest through the engine, as a softphone does; returns the rows it saved.
fn register_phone(h: &mut Harness, agent: &str) -> Vec<RegistrationRow> {
    let sent = h.sent.len();
    h.send(&register(agent, None, 1));
    let challenge = h.sent[sent..]
        .iter()
        .find(|r| r.status == 401)
        .and_then(|r| r.headers.get("WWW-Authenticate"))
        .unwrap_or_else(|| panic!("REGISTER is challenged"))
        .to_string();
    let auth = authorization(&challenge, agent, "REGISTER", "sip:127.0.0.1:5060");
    h.send(&register(agent, Some(&auth), 2));
    assert_eq!(h.sent.last().map(|r| r.status), Some(200));
    h.store
        .iter()
        .rev()
        .find_map(|c| match c {
            StoreCommand::Write(StoreWrite::Registrations { agent: a, rows }) if a == agent => {
                Some(rows.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("the registration is saved: {:?}", h.store))
}

fn saved_states(h: &Harness) -> Vec<AgentStateRow> {
    h.store
        .iter()
        .filter_map(|c| match c {
            StoreCommand::Write(StoreWrite::AgentState(row)) => Some(row.clone()),
            _ => None,
        })
        .collect()
}

/// A fresh engine (a restart) given what the first one saved.
fn restarted(registrations: Vec<RegistrationRow>, states: Vec<AgentStateRow>) -> Harness {
    let mut h = acd_harness(&[]);
    h.engine
        .handle_input(Input::Agents(vec![agent_entry("2001")]), h.now);
    h.engine
        .handle_input(Input::RestoreRegistrations(registrations), h.now);
    h.engine.handle_input(Input::RestoreAgents(states), h.now);
    h.drain();
    h
}

#[test]
fn a_restart_keeps_registered_phones_and_their_agents_states() {
    let mut before = acd_harness(&[]);
    before
        .engine
        .handle_input(Input::Agents(vec![agent_entry("2001")]), before.now);
    let rows = register_phone(&mut before, "2001");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].uri, "sip:2001@127.0.0.1:15061");
    // Unix time of the expiry: the engine's epoch plus the 120 s the phone asked for.
    assert_eq!(rows[0].expires_at_ms, 1_763_900_000_000 + 120_000);
    assert!(before
        .engine
        .agent_action("2001", live::AgentAction::Login, before.now));
    before.drain();
    assert_eq!(state(&before, "2001"), "available");

    let mut after = restarted(rows, saved_states(&before));
    assert_eq!(state(&after, "2001"), "available");
    // The restored phone is rung for the next caller, without registering again.
    caller_in_queue(&mut after);
    let offers = invites_to_agents(&after);
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert!(
        offers[0].uri.contains("2001@127.0.0.1:15061"),
        "{}",
        offers[0].uri
    );
}

#[test]
fn after_a_restart_an_agent_whose_phone_registration_ran_out_is_logged_out() {
    let mut before = acd_harness(&[]);
    before
        .engine
        .handle_input(Input::Agents(vec![agent_entry("2001")]), before.now);
    let mut rows = register_phone(&mut before, "2001");
    assert!(before
        .engine
        .agent_action("2001", live::AgentAction::Login, before.now));
    before.drain();
    // The engine was down past the binding's expiry.
    rows[0].expires_at_ms = 1_763_900_000_000 - 1;
    let mut after = restarted(rows, saved_states(&before));
    assert_eq!(state(&after, "2001"), "logged_out");
    // So a caller is not kept waiting for them: no agent logged in means a voice message.
    caller_in_queue(&mut after);
    assert!(invites_to_agents(&after).is_empty());
    assert!(
        !after
            .engine
            .live_snapshot(after.now)
            .waiting
            .iter()
            .any(|w| w.queue == "1888"),
        "nobody waits for an agent who cannot be rung"
    );
}

#[test]
fn an_agent_whose_softphone_unregisters_is_logged_out() {
    let mut h = acd_harness(&[]);
    h.engine
        .handle_input(Input::Agents(vec![agent_entry("2001")]), h.now);
    register_phone(&mut h, "2001");
    assert!(h
        .engine
        .agent_action("2001", live::AgentAction::Login, h.now));
    h.drain();
    assert_eq!(state(&h, "2001"), "available");
    // The softphone signs off: REGISTER with expires=0 (authenticated).
    let sent = h.sent.len();
    let off = |auth: Option<&str>, cseq: u32| {
        register("2001", auth, cseq).replace("expires=120", "expires=0")
    };
    h.send(&off(None, 3));
    let challenge = h.sent[sent..]
        .iter()
        .find_map(|r| r.headers.get("WWW-Authenticate"))
        .unwrap_or_else(|| panic!("challenged"))
        .to_string();
    let auth = authorization(&challenge, "2001", "REGISTER", "sip:127.0.0.1:5060");
    h.send(&off(Some(&auth), 4));
    assert_eq!(h.sent.last().map(|r| r.status), Some(200));
    assert_eq!(state(&h, "2001"), "logged_out");
    let saved = h.store.iter().rev().find_map(|c| match c {
        StoreCommand::Write(StoreWrite::Registrations { agent, rows }) if agent == "2001" => {
            Some(rows.len())
        }
        _ => None,
    });
    assert_eq!(saved, Some(0), "the saved registration is removed too");
    assert!(h.requests.iter().all(|r| r.method != Method::Invite));
}

#[test]
fn the_wallboard_shows_the_configured_service_level_threshold() {
    let h = acd_harness_with(&[], |config| {
        for queue in &mut config.queues {
            if queue.name == "1888" {
                queue.service_level_threshold = Duration::from_secs(30);
            }
        }
    });
    let snapshot = h.engine.live_snapshot(h.now);
    let threshold = |name: &str| {
        snapshot
            .queues
            .iter()
            .find(|q| q.name == name)
            .map(|q| q.service_level_threshold_s)
    };
    assert_eq!(threshold("1888"), Some(30.0));
    assert_eq!(threshold("137"), Some(20.0), "the default elsewhere");
}

/// Agent 2001 with two phones (contacts on ports 15061 and 15063), logged in, and a caller
/// waiting: returns the two offers.
fn two_phones_ringing(h: &mut Harness) -> Vec<crate::sip::msg::Request> {
    h.engine
        .handle_input(Input::Agents(vec![agent_entry("2001")]), h.now);
    register_phone(h, "2001");
    let second = |auth: Option<&str>, cseq: u32| {
        register("2001", auth, cseq).replace("@127.0.0.1:15061>", "@127.0.0.1:15063>")
    };
    let sent = h.sent.len();
    h.send(&second(None, 3));
    let challenge = h.sent[sent..]
        .iter()
        .find_map(|r| r.headers.get("WWW-Authenticate"))
        .unwrap_or_else(|| panic!("challenged"))
        .to_string();
    let auth = authorization(&challenge, "2001", "REGISTER", "sip:127.0.0.1:5060");
    h.send(&second(Some(&auth), 4));
    assert_eq!(h.sent.last().map(|r| r.status), Some(200));
    assert!(h
        .engine
        .agent_action("2001", live::AgentAction::Login, h.now));
    h.drain();
    h.sent.clear(); // the caller's 200 is then the first one the helper finds
    caller_in_queue(h);
    let offers = invites_to_agents(h);
    let mut targets: Vec<&str> = offers.iter().map(|r| r.uri.as_str()).collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        ["sip:2001@127.0.0.1:15061", "sip:2001@127.0.0.1:15063"],
        "both phones ring"
    );
    for offer in &offers {
        assert!(offer.headers.get("X-Pasokh-Tracking-Code").is_some());
    }
    offers
}

fn cancels_to(h: &Harness, uri: &str) -> usize {
    h.requests
        .iter()
        .filter(|r| r.method == Method::Cancel && r.uri == uri)
        .count()
}

#[test]
fn an_agent_with_two_phones_is_rung_on_both_and_the_first_to_answer_takes_the_call() {
    let mut h = acd_harness(&[]);
    let offers = two_phones_ringing(&mut h);
    answer(&mut h, &offers[1], 200);
    assert_eq!(state(&h, "2001"), "on_call");
    assert_eq!(
        cancels_to(&h, &offers[0].uri),
        1,
        "the other phone stops ringing"
    );
    assert_eq!(cancels_to(&h, &offers[1].uri), 0);
    assert!(h
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Bridge { .. })));
}

#[test]
fn one_busy_phone_leaves_the_other_ringing_and_a_decline_everywhere_stops_both() {
    let mut h = acd_harness(&[]);
    let offers = two_phones_ringing(&mut h);
    // The desk phone is busy: the softphone keeps ringing, the offer stands.
    answer(&mut h, &offers[0], 486);
    assert_eq!(state(&h, "2001"), "ringing");
    assert_eq!(cancels_to(&h, &offers[1].uri), 0);
    answer(&mut h, &offers[1], 200);
    assert_eq!(state(&h, "2001"), "on_call");

    let mut h = acd_harness(&[]);
    let offers = two_phones_ringing(&mut h);
    // 603 Decline is global: the other phone is cancelled and the offer is refused.
    answer(&mut h, &offers[0], 603);
    assert_eq!(cancels_to(&h, &offers[1].uri), 1);
    assert_ne!(state(&h, "2001"), "ringing");
    assert_ne!(state(&h, "2001"), "on_call");
}

#[test]
fn a_phone_that_stops_answering_options_is_dropped_and_the_agent_stays_on_the_other() {
    let mut h = acd_harness(&[]);
    let offers = two_phones_ringing(&mut h);
    // The first call is answered on the desk phone and ends; wrap-up passes.
    answer(&mut h, &offers[0], 200);
    h.requests.clear();
    h.advance_to(h.now + Duration::from_secs(31));
    let pings: Vec<crate::sip::msg::Request> = h
        .requests
        .iter()
        .filter(|r| r.method == Method::Options)
        .cloned()
        .collect();
    let mut pinged: Vec<&str> = pings.iter().map(|r| r.uri.as_str()).collect();
    pinged.sort_unstable();
    pinged.dedup();
    assert_eq!(
        pinged,
        ["sip:2001@127.0.0.1:15061", "sip:2001@127.0.0.1:15063"],
        "every contact is pinged"
    );
    // Only the softphone on 15063 answers; the other stays silent past Timer F.
    let live = pings
        .iter()
        .find(|r| r.uri.ends_with(":15063"))
        .cloned()
        .unwrap_or_else(|| panic!("no ping to 15063"));
    answer(&mut h, &live, 200);
    h.advance_to(h.now + Duration::from_secs(33));
    assert_ne!(state(&h, "2001"), "logged_out", "one phone still answers");
    let saved = h.store.iter().rev().find_map(|c| match c {
        StoreCommand::Write(StoreWrite::Registrations { agent, rows }) if agent == "2001" => {
            Some(rows.iter().map(|r| r.uri.clone()).collect::<Vec<_>>())
        }
        _ => None,
    });
    assert_eq!(
        saved,
        Some(vec!["sip:2001@127.0.0.1:15063".to_string()]),
        "the silent contact is dropped"
    );
}

#[test]
fn a_phone_that_answers_after_it_was_cancelled_is_acked_and_hung_up() {
    let mut h = acd_harness(&[]);
    let offers = two_phones_ringing(&mut h);
    answer(&mut h, &offers[0], 200);
    assert_eq!(cancels_to(&h, &offers[1].uri), 1);
    // The second phone's 200 crossed the CANCEL.
    answer(&mut h, &offers[1], 200);
    let late_call_id = offers[1].call_id().unwrap_or_default();
    let in_late_dialog = |method: Method| {
        h.requests
            .iter()
            .filter(|r| r.method == method && r.call_id() == Some(late_call_id))
            .count()
    };
    assert_eq!(in_late_dialog(Method::Ack), 1, "the late 2xx is ACKed");
    assert_eq!(
        in_late_dialog(Method::Bye),
        1,
        "and that dialog is ended at once"
    );
    // The call goes on with the phone that answered first.
    assert_eq!(state(&h, "2001"), "on_call");
    let bridges = h
        .media
        .iter()
        .filter(|m| matches!(m, MediaCommand::Bridge { .. }))
        .count();
    assert_eq!(bridges, 1);
}

/// What the engine logs at `info` and above while `body` runs, as text without colour.
fn info_log_of(body: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut held) = self.0.lock() {
                held.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, body);
    let bytes = captured
        .0
        .lock()
        .map(|held| held.clone())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).to_string()
}

fn line_holding<'a>(log: &'a str, message: &str) -> &'a str {
    log.lines()
        .find(|line| line.contains(message))
        .unwrap_or_else(|| panic!("no {message:?} line:\n{log}"))
}

#[test]
fn registrations_their_end_and_agent_log_ins_are_logged_at_info() {
    let log = info_log_of(|| {
        let mut h = acd_harness(&[]);
        h.engine
            .handle_input(Input::Agents(vec![agent_entry("2001")]), h.now);
        // A phone that is never logged in is not pinged: its binding simply runs out.
        register_phone(&mut h, "2001");
        let later = h.now + Duration::from_secs(200);
        h.advance_to(later);
        // Registered again and logged in, then signed off with expires=0.
        register_phone(&mut h, "2001");
        assert!(h
            .engine
            .agent_action("2001", live::AgentAction::Login, h.now));
        h.drain();
        let sent = h.sent.len();
        let off = |auth: Option<&str>, cseq: u32| {
            register("2001", auth, cseq).replace("expires=120", "expires=0")
        };
        h.send(&off(None, 3));
        let challenge = h.sent[sent..]
            .iter()
            .find_map(|r| r.headers.get("WWW-Authenticate"))
            .unwrap_or_else(|| panic!("challenged"))
            .to_string();
        let auth = authorization(&challenge, "2001", "REGISTER", "sip:127.0.0.1:5060");
        h.send(&off(Some(&auth), 4));
        // A wrong password.
        let sent = h.sent.len();
        h.send(&register("2001", None, 5));
        let challenge = h.sent[sent..]
            .iter()
            .find_map(|r| r.headers.get("WWW-Authenticate"))
            .unwrap_or_else(|| panic!("challenged"))
            .to_string();
        let wrong = digest_answer(
            &challenge,
            "2001",
            "wrong",
            "REGISTER",
            "sip:127.0.0.1:5060",
        );
        h.send(&register("2001", Some(&wrong), 6));
    });
    assert!(
        line_holding(&log, "registration accepted").contains("agent=2001"),
        "{log}"
    );
    assert!(
        line_holding(&log, "registration expired").contains("contact=sip:2001@"),
        "{log}"
    );
    assert!(line_holding(&log, "agent logged in").contains("state=available"));
    assert!(line_holding(&log, "agent unregistered").contains("agent=2001"));
    assert!(line_holding(&log, "agent logged out").contains("state=logged_out"));
    let failed = line_holding(&log, "SIP authentication failed");
    assert!(
        failed.contains("WARN") && failed.contains("user=2001"),
        "{failed}"
    );
    assert_eq!(
        log.matches("SIP authentication failed").count(),
        1,
        "a first REGISTER without credentials is no failure:\n{log}"
    );
}

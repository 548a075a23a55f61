//! Registrar scenarios on a virtual clock, acting as a softphone would.

use super::super::digest::{expected_response, QopParams};
use super::*;
use std::net::{IpAddr, Ipv4Addr};

const REALM: &str = "cc.test";
/// Where the test requests come from (the lockout's key).
const SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const CONTACT: &str = "sip:agent1@127.0.0.1:5062;transport=udp";

fn directory(user: &str) -> Option<UserCredentials> {
    match user {
        "agent1" => Some(UserCredentials::from_password("agent1", REALM, "secret")),
        "agent2" => Some(UserCredentials::from_password("agent2", REALM, "other")),
        // A broken entry: an empty HA1 must never authenticate anyone.
        "broken" => Some(UserCredentials {
            ha1_md5: String::new(),
            ha1_sha256: String::new(),
        }),
        _ => None,
    }
}

fn registrar() -> Registrar {
    Registrar::new(REALM.to_string(), [42; 32])
}

fn nonce_of(www_authenticate: &[String]) -> String {
    let Some(first) = www_authenticate.first() else {
        panic!("empty challenge")
    };
    let Some((_, rest)) = first.split_once("nonce=\"") else {
        panic!("no nonce in {first}")
    };
    rest.split('"').next().unwrap_or_default().to_string()
}

struct Client<'a> {
    user: &'a str,
    password: &'a str,
    alg: DigestAlgorithm,
}

impl Client<'_> {
    fn authorization(&self, method: &str, nonce: &str, nc: u32) -> String {
        let ha1 = ha1_hex(self.alg, self.user, REALM, self.password);
        let nc = format!("{nc:08x}");
        let qop = QopParams {
            qop: "auth",
            nc: &nc,
            cnonce: "c0ffee",
        };
        let uri = "sip:cc.test";
        let response = expected_response(self.alg, &ha1, method, uri, nonce, Some(&qop));
        format!(
            "Digest username=\"{}\",realm=\"{REALM}\",nonce=\"{nonce}\",uri=\"{uri}\",\
             response=\"{response}\",algorithm={},cnonce=\"c0ffee\",qop=auth,nc={nc}",
            self.user,
            self.alg.as_str()
        )
    }
}

const AGENT1: Client = Client {
    user: "agent1",
    password: "secret",
    alg: DigestAlgorithm::Md5,
};

fn request(user: &str, contacts: &[(&str, Option<u32>)], cseq: u32) -> RegisterRequest {
    RegisterRequest {
        user: user.to_string(),
        authorization: None,
        method: "REGISTER".to_string(),
        contacts: contacts
            .iter()
            .map(|(uri, expires)| ContactParam {
                uri: uri.to_string(),
                expires: *expires,
            })
            .collect(),
        star_contact: false,
        expires_header: None,
        call_id: "reg-1@127.0.0.1".to_string(),
        cseq,
        source: "udp:127.0.0.1:5062".to_string(),
    }
}

/// Sends `req` unauthenticated, then answers the challenge; returns the
/// nonce used and the final outcome.
fn register_with(
    reg: &mut Registrar,
    client: &Client,
    mut req: RegisterRequest,
    now_ms: u64,
) -> (String, RegisterOutcome) {
    let RegisterOutcome::Challenge {
        www_authenticate, ..
    } = reg.handle_register(req.clone(), &directory, now_ms)
    else {
        panic!("first REGISTER must be challenged")
    };
    let nonce = nonce_of(&www_authenticate);
    req.authorization = Some(client.authorization("REGISTER", &nonce, 1));
    req.cseq += 1;
    let outcome = reg.handle_register(req, &directory, now_ms);
    (nonce, outcome)
}

fn drain(reg: &mut Registrar) -> Vec<RegistrarEvent> {
    std::iter::from_fn(|| reg.poll_event()).collect()
}

fn registered(user: &str) -> RegistrarEvent {
    RegistrarEvent::Registered {
        user: user.to_string(),
    }
}

fn unregistered(user: &str) -> RegistrarEvent {
    RegistrarEvent::Unregistered {
        user: user.to_string(),
    }
}

#[test]
fn challenge_register_refresh_expire() {
    let mut reg = registrar();
    let first = request("agent1", &[(CONTACT, None)], 1);
    let (nonce, outcome) = register_with(&mut reg, &AGENT1, first.clone(), 1_000);
    let expected = vec![Binding {
        uri: CONTACT.to_string(),
        expires_in_s: 3600,
        source: "udp:127.0.0.1:5062".to_string(),
    }];
    assert_eq!(outcome, RegisterOutcome::Ok { bindings: expected });
    assert_eq!(drain(&mut reg), vec![registered("agent1")]);
    assert!(reg.is_registered("agent1"));
    assert_eq!(reg.poll_timeout(), Some(3_601_000));

    // Refresh 30 s later with the same nonce and the next nc.
    let mut refresh = first;
    refresh.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 2));
    refresh.cseq = 3;
    refresh.contacts[0].expires = Some(600);
    let outcome = reg.handle_register(refresh, &directory, 31_000);
    assert_eq!(outcome.status_code(), 200);
    assert_eq!(
        drain(&mut reg),
        vec![],
        "a refresh is not a new registration"
    );
    assert_eq!(reg.poll_timeout(), Some(631_000));

    reg.handle_timeout(630_999);
    assert_eq!(reg.contacts("agent1"), vec![CONTACT.to_string()]);
    reg.handle_timeout(631_000);
    let expired = RegistrarEvent::Expired {
        user: "agent1".to_string(),
        uri: CONTACT.to_string(),
    };
    assert_eq!(drain(&mut reg), vec![expired, unregistered("agent1")]);
    assert_eq!(reg.contacts("agent1"), Vec::<String>::new());
    assert_eq!(reg.poll_timeout(), None);
}

#[test]
fn expires_zero_removes_one_contact() {
    let mut reg = registrar();
    let phone2 = "sip:agent1@127.0.0.1:5064";
    let req = request("agent1", &[(CONTACT, None), (phone2, Some(120))], 1);
    let (nonce, outcome) = register_with(&mut reg, &AGENT1, req, 0);
    let RegisterOutcome::Ok { bindings } = outcome else {
        panic!("expected 200, got {outcome:?}")
    };
    let granted: Vec<u32> = bindings.iter().map(|b| b.expires_in_s).collect();
    assert_eq!(granted, vec![3600, 120]);
    drain(&mut reg);

    let mut remove = request("agent1", &[(&format!("<{CONTACT}>"), None)], 3);
    remove.expires_header = Some(0);
    remove.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 2));
    reg.handle_register(remove.clone(), &directory, 1_000);
    assert_eq!(reg.contacts("agent1"), vec![phone2.to_string()]);
    assert_eq!(drain(&mut reg), vec![]);

    remove.contacts[0].uri = phone2.to_string();
    remove.cseq = 4;
    remove.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 3));
    let outcome = reg.handle_register(remove, &directory, 2_000);
    assert_eq!(outcome, RegisterOutcome::Ok { bindings: vec![] });
    assert_eq!(drain(&mut reg), vec![unregistered("agent1")]);
}

#[test]
fn star_with_expires_zero_removes_all() {
    let mut reg = registrar();
    let req = request("agent1", &[(CONTACT, None), ("sip:b@127.0.0.1", None)], 1);
    let (nonce, _) = register_with(&mut reg, &AGENT1, req, 0);
    drain(&mut reg);

    let mut star = request("agent1", &[], 3);
    star.star_contact = true;
    star.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 2));
    let refused = reg.handle_register(star.clone(), &directory, 10);
    assert_eq!(refused.status_code(), 400, "'*' needs Expires: 0");

    star.expires_header = Some(0);
    star.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 3));
    let outcome = reg.handle_register(star, &directory, 20);
    assert_eq!(outcome, RegisterOutcome::Ok { bindings: vec![] });
    assert_eq!(drain(&mut reg), vec![unregistered("agent1")]);
    assert_eq!(reg.poll_timeout(), None);
}

#[test]
fn unknown_user_and_wrong_password_look_the_same() {
    let mut reg = registrar();
    let intruder = Client {
        user: "agent9",
        password: "guess",
        alg: DigestAlgorithm::Md5,
    };
    let wrong = Client {
        password: "guess",
        ..AGENT1
    };
    let mut answers = Vec::new();
    for client in [&intruder, &wrong] {
        let (nonce, outcome) = register_with(
            &mut reg,
            client,
            request(client.user, &[(CONTACT, None)], 1),
            0,
        );
        let RegisterOutcome::Challenge {
            www_authenticate, ..
        } = outcome
        else {
            panic!("{} must be challenged again, got {outcome:?}", client.user)
        };
        assert_ne!(
            nonce_of(&www_authenticate),
            nonce,
            "a fresh nonce each time"
        );
        let fresh = nonce_of(&www_authenticate);
        let shape: Vec<String> = www_authenticate
            .iter()
            .map(|value| value.replace(&fresh, "N"))
            .collect();
        answers.push(shape);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].len(), 2);
    assert!(!reg.is_registered("agent1"));
}

#[test]
fn replayed_authorization_is_challenged() {
    let mut reg = registrar();
    let mut req = request("agent1", &[(CONTACT, None)], 1);
    let (nonce, outcome) = register_with(&mut reg, &AGENT1, req.clone(), 0);
    assert_eq!(outcome.status_code(), 200);
    req.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 1));
    req.cseq = 9;
    let replay = reg.handle_register(req, &directory, 100);
    let RegisterOutcome::Challenge {
        www_authenticate, ..
    } = replay
    else {
        panic!("replay must be challenged, got {replay:?}")
    };
    assert!(www_authenticate.iter().all(|v| !v.contains("stale")));
}

#[test]
fn stale_nonce_gets_stale_true_only_with_right_password() {
    let mut reg = registrar();
    let mut req = request("agent1", &[(CONTACT, None)], 1);
    let (nonce, _) = register_with(&mut reg, &AGENT1, req.clone(), 0);
    req.cseq = 5;
    req.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 2));
    let RegisterOutcome::Challenge {
        www_authenticate, ..
    } = reg.handle_register(req.clone(), &directory, 61_000)
    else {
        panic!("expired nonce must be challenged")
    };
    assert!(www_authenticate.iter().all(|v| v.ends_with("stale=true")));

    let wrong = Client {
        password: "nope",
        ..AGENT1
    };
    req.authorization = Some(wrong.authorization("REGISTER", &nonce, 3));
    let RegisterOutcome::Challenge {
        www_authenticate, ..
    } = reg.handle_register(req, &directory, 61_000)
    else {
        panic!("wrong password must be challenged")
    };
    assert!(www_authenticate.iter().all(|v| !v.contains("stale")));
}

#[test]
fn interval_too_brief_and_clamping() {
    let mut reg = registrar();
    let mut req = request("agent1", &[(CONTACT, Some(30))], 1);
    req.expires_header = Some(3600);
    let (nonce, outcome) = register_with(&mut reg, &AGENT1, req.clone(), 0);
    assert_eq!(
        outcome,
        RegisterOutcome::IntervalTooBrief { min_expires: 60 }
    );
    assert_eq!(outcome.status_code(), 423);
    assert!(!reg.is_registered("agent1"));

    req.contacts[0].expires = None;
    req.expires_header = Some(86_400);
    req.cseq = 3;
    req.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 2));
    let RegisterOutcome::Ok { bindings } = reg.handle_register(req, &directory, 0) else {
        panic!("expected 200")
    };
    assert_eq!(bindings[0].expires_in_s, 7200);
}

#[test]
fn sha256_and_md5_are_both_accepted() {
    for alg in [DigestAlgorithm::Sha256, DigestAlgorithm::Md5] {
        let mut reg = registrar();
        let client = Client { alg, ..AGENT1 };
        let (_, outcome) = register_with(
            &mut reg,
            &client,
            request("agent1", &[(CONTACT, None)], 1),
            0,
        );
        assert_eq!(outcome.status_code(), 200, "{alg:?}");
    }
}

#[test]
fn credentials_of_another_user_are_forbidden() {
    let mut reg = registrar();
    let agent2 = Client {
        user: "agent2",
        password: "other",
        alg: DigestAlgorithm::Md5,
    };
    let RegisterOutcome::Challenge {
        www_authenticate, ..
    } = reg.handle_register(request("agent1", &[(CONTACT, None)], 1), &directory, 0)
    else {
        panic!("expected a challenge")
    };
    let mut req = request("agent1", &[(CONTACT, None)], 2);
    req.authorization = Some(agent2.authorization("REGISTER", &nonce_of(&www_authenticate), 1));
    assert_eq!(
        reg.handle_register(req, &directory, 0),
        RegisterOutcome::Forbidden
    );
}

#[test]
fn other_realm_and_empty_ha1_are_challenged() {
    let mut reg = registrar();
    let outcome = reg.authenticate_request(SOURCE, "agent1", "INVITE", None, &directory, 0);
    let AuthOutcome::Challenge {
        www_authenticate, ..
    } = outcome
    else {
        panic!("expected a challenge")
    };
    let nonce = nonce_of(&www_authenticate);
    let foreign = AGENT1
        .authorization("INVITE", &nonce, 1)
        .replace("realm=\"cc.test\"", "realm=\"evil\"");
    let outcome =
        reg.authenticate_request(SOURCE, "agent1", "INVITE", Some(&foreign), &directory, 0);
    assert!(matches!(outcome, AuthOutcome::Challenge { .. }));

    // Anyone can compute a response from an empty HA1: it must not pass.
    let qop = QopParams {
        qop: "auth",
        nc: "00000001",
        cnonce: "x",
    };
    let forged = expected_response(
        DigestAlgorithm::Md5,
        "",
        "INVITE",
        "sip:x",
        &nonce,
        Some(&qop),
    );
    let header = format!(
        "Digest username=\"broken\",realm=\"cc.test\",nonce=\"{nonce}\",uri=\"sip:x\",\
         response=\"{forged}\",qop=auth,nc=00000001,cnonce=\"x\""
    );
    let outcome =
        reg.authenticate_request(SOURCE, "broken", "INVITE", Some(&header), &directory, 0);
    assert!(matches!(outcome, AuthOutcome::Challenge { .. }));
}

#[test]
fn invite_shares_the_nonce_rules() {
    let mut reg = registrar();
    let (nonce, _) = register_with(
        &mut reg,
        &AGENT1,
        request("agent1", &[(CONTACT, None)], 1),
        0,
    );
    let invite = AGENT1.authorization("INVITE", &nonce, 2);
    let ok = reg.authenticate_request(SOURCE, "agent1", "INVITE", Some(&invite), &directory, 5_000);
    assert_eq!(ok, AuthOutcome::Ok);
    let again =
        reg.authenticate_request(SOURCE, "agent1", "INVITE", Some(&invite), &directory, 6_000);
    assert!(
        matches!(again, AuthOutcome::Challenge { .. }),
        "nc 2 replayed"
    );
    let as_register = AGENT1.authorization("REGISTER", &nonce, 3);
    let wrong_method = reg.authenticate_request(
        SOURCE,
        "agent1",
        "INVITE",
        Some(&as_register),
        &directory,
        6_000,
    );
    assert!(matches!(wrong_method, AuthOutcome::Challenge { .. }));
}

#[test]
fn same_call_id_with_old_cseq_changes_nothing() {
    let mut reg = registrar();
    let req = request("agent1", &[(CONTACT, None)], 10);
    let (nonce, _) = register_with(&mut reg, &AGENT1, req.clone(), 0);
    let mut old = req;
    old.cseq = 5;
    old.contacts[0].expires = Some(0);
    old.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 2));
    assert_eq!(
        reg.handle_register(old, &directory, 10),
        RegisterOutcome::OutOfOrder
    );
    assert!(reg.is_registered("agent1"));
}

#[test]
fn too_many_devices_evict_the_least_recently_refreshed() {
    let mut reg = registrar();
    let uris: Vec<String> = (0..=MAX_CONTACTS_PER_USER)
        .map(|i| format!("sip:agent1@127.0.0.1:{}", 6000 + i))
        .collect();
    let RegisterOutcome::Challenge {
        www_authenticate, ..
    } = reg.handle_register(request("agent1", &[], 1), &directory, 0)
    else {
        panic!("expected a challenge")
    };
    let nonce = nonce_of(&www_authenticate);
    for (i, uri) in uris.iter().enumerate() {
        let mut req = request("agent1", &[(uri, None)], 2 + i as u32);
        req.call_id = format!("device-{i}");
        req.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 1 + i as u32));
        assert_eq!(reg.handle_register(req, &directory, 0).status_code(), 200);
    }
    assert_eq!(reg.contacts("agent1"), uris[1..].to_vec());
    let events = drain(&mut reg);
    assert_eq!(
        events.last(),
        Some(&RegistrarEvent::Expired {
            user: "agent1".to_string(),
            uri: uris[0].clone()
        })
    );
}

#[test]
fn query_without_contacts_lists_bindings() {
    let mut reg = registrar();
    let (nonce, _) = register_with(
        &mut reg,
        &AGENT1,
        request("agent1", &[(CONTACT, None)], 1),
        0,
    );
    let mut query = request("agent1", &[], 3);
    query.authorization = Some(AGENT1.authorization("REGISTER", &nonce, 2));
    let RegisterOutcome::Ok { bindings } = reg.handle_register(query, &directory, 1_500) else {
        panic!("expected 200")
    };
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].expires_in_s, 3599, "3598.5 s left, rounded up");
}

#[test]
fn saved_bindings_come_back_in_a_new_registrar_until_they_run_out() {
    let mut reg = registrar();
    let req = request("agent1", &[(CONTACT, Some(600))], 1);
    let (_, outcome) = register_with(&mut reg, &AGENT1, req, 1_000);
    assert!(matches!(outcome, RegisterOutcome::Ok { .. }), "{outcome:?}");
    let saved = reg.saved_bindings("agent1");
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].expires_at_ms, 601_000);

    // A restart: a fresh registrar (new nonce secret), the binding put back.
    let mut after = Registrar::new(REALM.to_string(), [7; 32]);
    assert!(after.restore_binding("agent1", saved[0].clone(), 5_000));
    assert_eq!(drain(&mut after), vec![registered("agent1")]);
    assert!(after.is_registered("agent1"));
    let bindings = after.bindings("agent1", 5_000);
    assert_eq!(bindings[0].uri, CONTACT);
    assert_eq!(bindings[0].source, "udp:127.0.0.1:5062");
    assert_eq!(bindings[0].expires_in_s, 596);
    // Restoring twice adds nothing; the softphone's next refresh (same Call-ID, higher CSeq)
    // is accepted as a refresh of the restored binding.
    assert!(!after.restore_binding("agent1", saved[0].clone(), 5_000));
    assert_eq!(after.binding_count(), 1);
    // It runs out at its original time.
    after.handle_timeout(601_000);
    assert_eq!(
        drain(&mut after),
        vec![
            RegistrarEvent::Expired {
                user: "agent1".into(),
                uri: CONTACT.into()
            },
            unregistered("agent1")
        ]
    );

    // A binding that ran out while the engine was down is not restored.
    let mut late = Registrar::new(REALM.to_string(), [8; 32]);
    assert!(!late.restore_binding("agent1", saved[0].clone(), 601_000));
    assert!(!late.is_registered("agent1"));
}

/// The failure a challenge reports, if any.
fn failure_of(outcome: &RegisterOutcome) -> Option<AuthFailure> {
    match outcome {
        RegisterOutcome::Challenge { failure, .. } => *failure,
        _ => None,
    }
}

#[test]
fn guessing_is_locked_out_per_source_and_user_and_looks_like_any_failure() {
    let mut reg = registrar().with_lockout(LockoutPolicy {
        max_failures: 5,
        lockout_ms: 30_000,
    });
    let wrong = Client {
        user: "agent1",
        password: "guess",
        alg: DigestAlgorithm::Sha256,
    };
    let right = Client {
        alg: DigestAlgorithm::Sha256,
        ..AGENT1
    };
    let mut answers = Vec::new();
    for n in 0..5u32 {
        let (_, outcome) = register_with(
            &mut reg,
            &wrong,
            request("agent1", &[(CONTACT, None)], 10 * n + 1),
            1_000 + u64::from(n),
        );
        let failure = failure_of(&outcome).unwrap_or_else(|| panic!("{outcome:?}"));
        assert_eq!(failure.reason, FailureReason::WrongPassword);
        assert_eq!(failure.locked_out_now, n == 4, "guess {n}");
        answers.push(outcome);
    }
    // The right password from the same address is refused, with the same kind of challenge.
    let (_, refused) = register_with(
        &mut reg,
        &right,
        request("agent1", &[(CONTACT, None)], 100),
        2_000,
    );
    let failure = failure_of(&refused).unwrap_or_else(|| panic!("{refused:?}"));
    assert_eq!(failure.reason, FailureReason::LockedOut);
    assert!(!failure.locked_out_now);
    let shape = |outcome: &RegisterOutcome| match outcome {
        RegisterOutcome::Challenge {
            www_authenticate, ..
        } => www_authenticate
            .iter()
            .map(|v| v.replace(&nonce_of(www_authenticate), "N"))
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(shape(&refused), shape(&answers[0]));
    // From another address the agent registers.
    let mut elsewhere = request("agent1", &[(CONTACT, None)], 200);
    elsewhere.source = "udp:127.0.0.2:5062".to_string();
    let (_, ok) = register_with(&mut reg, &right, elsewhere, 2_100);
    assert!(matches!(ok, RegisterOutcome::Ok { .. }), "{ok:?}");
    // After the lockout, from the first address too.
    let (_, later) = register_with(
        &mut reg,
        &right,
        request("agent1", &[(CONTACT, None)], 300),
        1_004 + 30_000,
    );
    assert!(matches!(later, RegisterOutcome::Ok { .. }), "{later:?}");
}

#[test]
fn unknown_users_are_counted_and_locked_out_the_same_way() {
    let mut reg = registrar();
    let nobody = Client {
        user: "nobody",
        password: "x",
        alg: DigestAlgorithm::Md5,
    };
    let mut reasons = Vec::new();
    for n in 0..6u32 {
        let (_, outcome) = register_with(
            &mut reg,
            &nobody,
            request("nobody", &[(CONTACT, None)], 10 * n + 1),
            u64::from(n),
        );
        let failure = failure_of(&outcome).unwrap_or_else(|| panic!("{outcome:?}"));
        reasons.push((failure.reason, failure.locked_out_now));
    }
    use FailureReason::{LockedOut, UnknownUser};
    assert_eq!(
        reasons,
        vec![
            (UnknownUser, false),
            (UnknownUser, false),
            (UnknownUser, false),
            (UnknownUser, false),
            (UnknownUser, true),
            (LockedOut, false)
        ]
    );
    // A first request without credentials, or a stale nonce, is no failure.
    let bare = reg.handle_register(request("agent1", &[(CONTACT, None)], 1), &directory, 10);
    assert_eq!(failure_of(&bare), None);
}

//! REGISTER and agents' INVITEs: SIP messages turned into the registrar's plain values and its
//! outcomes turned back into responses (the registrar itself never sees SIP types).

use crate::engine::StoreWrite;
use std::time::Duration;

use crate::engine::signalling::reply::SERVER;
use crate::engine::{Engine, RegistrationRow};
use crate::sip::header;
use crate::sip::msg::{response_to, Request, Response};
use crate::sip::registrar::{
    AuthOutcome, ContactParam, RegisterOutcome, RegisterRequest, SavedBinding,
};
use crate::sip::transport::{Peer, Transport};
use crate::sip::txn::TxnKey;

impl Engine {
    pub(crate) fn on_register(&mut self, req: &Request, key: &TxnKey, peer: Peer, now: Duration) {
        let Some(register) = register_request(req, peer) else {
            return self.reply(req, key, 400, now);
        };
        let user = register.user.clone();
        let source = register.source.clone();
        let had_credentials = register.authorization.is_some();
        let agents = &self.agents;
        let directory = |user: &str| agents.get(user).cloned();
        let outcome =
            self.registrar
                .handle_register(register, &directory, crate::engine::as_ms(now));
        self.drain_registrar_events(now);
        let tag = self.new_tag();
        let mut resp = response_to(req, outcome.status_code(), Some(&tag));
        resp.headers.push("Server", SERVER);
        match outcome {
            RegisterOutcome::Challenge { www_authenticate } => {
                if had_credentials && !is_stale(&www_authenticate) {
                    log_auth_failed("REGISTER", &user, &source);
                }
                self.counters.auth_challenges += 1;
                for value in self.challenges_for(req, www_authenticate) {
                    resp.headers.push("WWW-Authenticate", value);
                }
            }
            RegisterOutcome::Forbidden => log_auth_failed("REGISTER", &user, &source),
            RegisterOutcome::Ok { bindings } => {
                self.counters.registrations += 1;
                // Every accepted REGISTER (a refresh too, typically hourly): when a phone last
                // reached us, from where, and for how long.
                let expires_s = bindings.iter().map(|b| b.expires_in_s).max().unwrap_or(0);
                tracing::info!(
                    agent = %user,
                    %source,
                    contacts = bindings.len(),
                    expires_s,
                    "registration accepted"
                );
                self.save_registrations(user);
                for binding in bindings {
                    let contact = format!("<{}>;expires={}", binding.uri, binding.expires_in_s);
                    resp.headers.push("Contact", contact);
                }
            }
            RegisterOutcome::IntervalTooBrief { min_expires } => {
                resp.headers.push("Min-Expires", min_expires.to_string());
            }
            _ => {}
        }
        self.send_response(key, &resp, now);
    }

    /// Whether the From user is a known agent (then the request was authenticated).
    pub(crate) fn sent_by_agent(&self, req: &Request) -> bool {
        let from = req.headers.get("From").unwrap_or_default();
        header::name_addr_uri(from)
            .and_then(header::uri_user)
            .is_some_and(|user| self.agents.contains_key(user))
    }

    /// Agents' INVITEs are authenticated (citizens' calls are not): when the From user is a known
    /// agent, the request must carry valid digest credentials. Returns false when it was answered
    /// with a challenge or a refusal.
    pub(crate) fn authorize_agent_invite(
        &mut self,
        req: &Request,
        key: &TxnKey,
        peer: Peer,
        now: Duration,
    ) -> bool {
        let from = req.headers.get("From").unwrap_or_default();
        let user = header::name_addr_uri(from)
            .and_then(header::uri_user)
            .unwrap_or_default()
            .to_string();
        if !self.agents.contains_key(&user) {
            return true;
        }
        let authorization = req.headers.get("Authorization");
        let agents = &self.agents;
        let directory = |u: &str| agents.get(u).cloned();
        let outcome = self.registrar.authenticate_request(
            &user,
            req.method.as_str(),
            authorization,
            &directory,
            crate::engine::as_ms(now),
        );
        let source = peer_source(peer);
        let challenge = match outcome {
            AuthOutcome::Ok => return true,
            AuthOutcome::Challenge { www_authenticate } => {
                if authorization.is_some() && !is_stale(&www_authenticate) {
                    log_auth_failed(req.method.as_str(), &user, &source);
                }
                www_authenticate
            }
            AuthOutcome::Forbidden => {
                log_auth_failed(req.method.as_str(), &user, &source);
                self.reply(req, key, 403, now);
                return false;
            }
        };
        self.counters.auth_challenges += 1;
        let tag = self.new_tag();
        let mut resp: Response = response_to(req, 401, Some(&tag));
        for value in self.challenges_for(req, challenge) {
            resp.headers.push("WWW-Authenticate", value);
        }
        self.send_response(key, &resp, now);
        false
    }
}

impl Engine {
    /// Keeps the agent's current contacts in the database, so a restart of the engine does not
    /// make every softphone unreachable until its next refresh.
    pub(crate) fn save_registrations(&mut self, agent: String) {
        let rows = self
            .registrar
            .saved_bindings(&agent)
            .into_iter()
            .map(|b| RegistrationRow {
                agent: agent.clone(),
                uri: b.uri,
                source: b.source,
                call_id: b.call_id,
                cseq: b.cseq,
                expires_at_ms: self.wall_ms_of(b.expires_at_ms),
            })
            .collect();
        self.write(StoreWrite::Registrations { agent, rows });
    }

    /// Registrations saved before a restart; those that ran out meanwhile are left out.
    pub(crate) fn restore_registrations(&mut self, rows: Vec<RegistrationRow>, now: Duration) {
        let now_ms = crate::engine::as_ms(now);
        for row in rows {
            let since_epoch = row.expires_at_ms.saturating_sub(self.config.epoch_unix_ms);
            let Ok(expires_at_ms) = u64::try_from(since_epoch) else {
                continue;
            };
            let saved = SavedBinding {
                uri: row.uri,
                source: row.source,
                call_id: row.call_id,
                cseq: row.cseq,
                expires_at_ms,
            };
            self.registrar.restore_binding(&row.agent, saved, now_ms);
        }
        self.drain_registrar_events(now);
    }

    /// The challenges to send this client: all (SHA-256 first, RFC 8760), or MD5 only for a
    /// softphone on the quirk list. Depends only on the User-Agent, never on the user, so an
    /// unknown user and a wrong password still get the same answer.
    fn challenges_for(&self, req: &Request, values: Vec<String>) -> Vec<String> {
        let agent = req.headers.get("User-Agent").unwrap_or_default();
        let legacy = self
            .config
            .md5_only_user_agents
            .iter()
            .any(|prefix| !prefix.is_empty() && agent.starts_with(prefix.as_str()));
        if !legacy {
            return values;
        }
        values
            .into_iter()
            .filter(|v| v.contains("algorithm=MD5"))
            .collect()
    }
}

fn register_request(req: &Request, peer: Peer) -> Option<RegisterRequest> {
    let to = req.headers.get("To")?;
    let user = header::uri_user(header::name_addr_uri(to)?)?.to_string();
    let (cseq, _) = req.cseq()?;
    let mut contacts = Vec::new();
    let mut star_contact = false;
    for element in req.headers.list("Contact") {
        if element.trim() == "*" {
            star_contact = true;
            continue;
        }
        let uri = header::name_addr_uri(&element)?.to_string();
        let expires = header::param(&element, "expires").and_then(|e| e.parse().ok());
        contacts.push(ContactParam { uri, expires });
    }
    Some(RegisterRequest {
        user,
        authorization: req.headers.get("Authorization").map(str::to_string),
        method: req.method.as_str().to_string(),
        contacts,
        star_contact,
        expires_header: req
            .headers
            .get("Expires")
            .and_then(|e| e.trim().parse().ok()),
        call_id: req.call_id()?.to_string(),
        cseq,
        source: peer_source(peer),
    })
}

/// `udp:ADDR` or `tcp:ADDR`: where a request came from, as bindings record it.
fn peer_source(peer: Peer) -> String {
    let transport = match peer.transport {
        Transport::Udp => "udp",
        Transport::Tcp(_) => "tcp",
    };
    format!("{transport}:{}", peer.addr)
}

/// A challenge that says `stale=true` answers good credentials on an expired nonce: the phone
/// retries at once, so that is no failed authentication.
fn is_stale(www_authenticate: &[String]) -> bool {
    www_authenticate
        .iter()
        .any(|value| value.to_ascii_lowercase().contains("stale=true"))
}

/// A request that carried credentials the registrar refused: a wrong password, an unknown
/// user, or credentials for another user. Each is worth an operator's look (a misconfigured
/// phone, or someone guessing passwords); the user name is as the request gave it.
fn log_auth_failed(method: &str, user: &str, source: &str) {
    tracing::warn!(%method, user = %user, %source, "SIP authentication failed");
}

//! REGISTER and agents' INVITEs: SIP messages turned into the registrar's plain values and its
//! outcomes turned back into responses (the registrar itself never sees SIP types).

use crate::engine::StoreWrite;
use std::time::Duration;

use crate::engine::signalling::reply::SERVER;
use crate::engine::{Engine, RegistrationRow};
use crate::sip::header;
use crate::sip::msg::{response_to, Request, Response};
use crate::sip::registrar::{
    AuthFailure, AuthOutcome, ContactParam, FailureReason, RegisterOutcome, RegisterRequest,
    SavedBinding,
};
use crate::sip::transport::{Peer, Transport};
use crate::sip::txn::TxnKey;

impl Engine {
    pub(crate) fn on_register(&mut self, req: &Request, key: &TxnKey, peer: Peer, now: Duration) {
        let Some(register) = register_request(req, peer) else {
            return self.reply(req, key, 400, now);
        };
        let user = register.user.clone();
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
            RegisterOutcome::Challenge {
                www_authenticate,
                failure,
            } => {
                if let Some(failure) = failure {
                    self.auth_failed("REGISTER", &user, peer, failure);
                }
                self.counters.auth_challenges += 1;
                for value in self.challenges_for(req, www_authenticate) {
                    resp.headers.push("WWW-Authenticate", value);
                }
            }
            RegisterOutcome::Forbidden => {
                self.auth_failed("REGISTER", &user, peer, user_mismatch());
            }
            RegisterOutcome::Ok { bindings } => {
                self.counters.registrations += 1;
                // Every accepted REGISTER (a refresh too, typically hourly): when a phone last
                // reached us, from where, and for how long.
                let expires_s = bindings.iter().map(|b| b.expires_in_s).max().unwrap_or(0);
                tracing::info!(
                    agent = %user,
                    source = %peer_source(peer),
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

    /// INVITEs to anything but a public number must carry an agent's digest credentials, for the
    /// From user. Everyone is challenged the same way, an unknown or absent From user included
    /// (the registrar checks those against a dummy HA1), so the answer never says whether the
    /// caller or the number is an agent. Returns false when it was answered with a challenge or a
    /// refusal.
    pub(crate) fn authorize_invite(
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
        let authorization = req.headers.get("Authorization");
        let agents = &self.agents;
        let directory = |u: &str| agents.get(u).cloned();
        let outcome = self.registrar.authenticate_request(
            peer.addr.ip(),
            &user,
            req.method.as_str(),
            authorization,
            &directory,
            crate::engine::as_ms(now),
        );
        let challenge = match outcome {
            AuthOutcome::Ok => return true,
            AuthOutcome::Challenge {
                www_authenticate,
                failure,
            } => {
                if let Some(failure) = failure {
                    self.auth_failed(req.method.as_str(), &user, peer, failure);
                }
                www_authenticate
            }
            AuthOutcome::Forbidden => {
                self.auth_failed(req.method.as_str(), &user, peer, user_mismatch());
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

fn user_mismatch() -> AuthFailure {
    AuthFailure {
        reason: FailureReason::UserMismatch,
        locked_out_now: false,
    }
}

impl Engine {
    /// Credentials the registrar refused: a security event, logged and counted. Each is worth an
    /// operator's look (a misconfigured phone, or someone guessing passwords), and fail2ban reads
    /// these lines (docs/security.md): `ip=` comes first after the fixed message so a filter can
    /// anchor on it before any text the peer chose; the user is as the request gave it, made one
    /// word.
    fn auth_failed(&mut self, method: &str, user: &str, peer: Peer, failure: AuthFailure) {
        let ip = peer.addr.ip();
        let user = log_word(user);
        let source = peer_source(peer);
        let reason = failure.reason.as_str();
        self.counters.security_auth_failed += 1;
        tracing::warn!(%ip, %method, %user, %source, %reason, "SIP authentication failed");
        if failure.locked_out_now {
            self.counters.security_lockouts += 1;
            let policy = self.registrar.lockout_policy();
            let lockout_s = policy.lockout_ms / 1000;
            let failures = policy.max_failures;
            tracing::warn!(
                %ip,
                %method,
                %user,
                %source,
                failures,
                lockout_s,
                "SIP authentication locked out"
            );
        }
    }
}

/// Text from the peer as one log word: printable ASCII without spaces or quotes, at most 64
/// characters (`?` for anything else, `-` when empty), so a crafted user name can neither split
/// a line into fake `key=value` pairs nor break it across lines.
pub(crate) fn log_word(text: &str) -> String {
    let word: String = text
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if word.is_empty() {
        "-".to_string()
    } else {
        word
    }
}

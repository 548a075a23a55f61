//! A sans-IO registrar for the agents' softphones (RFC 3261 §10.3).
//!
//! Why this shape: it takes the few values of a REGISTER the lead's message
//! layer extracts (AOR user, Authorization, Contacts, Expires, Call-ID,
//! CSeq, source) and answers with an outcome value, so it never depends on a
//! SIP message type and runs under a virtual clock. Time is `now_ms`,
//! milliseconds from an origin the caller chooses (the same for every call).
//!
//! Authentication never tells a scanner which users exist: an unknown user
//! is checked against a dummy HA1 with the same work as a real one, and both
//! failures get the same fresh challenge. Password guessing is locked out
//! per (source address, user) in `registrar/lockout.rs`; a locked-out
//! request is answered with that same challenge too, so a lockout shows no
//! more than a wrong password does. Every refusal of credentials comes back
//! as an [`AuthFailure`] for the caller to log and count. Digest state is the
//! stateless nonce of `digest/nonce.rs`; bindings live in
//! `registrar/table.rs`, which also raises the events the ACD follows (an
//! agent whose last binding goes is logged out).

use super::digest::{
    challenge_values, ha1_hex, parse_authorization, to_hex, verify, DigestAlgorithm, NonceCheck,
    NonceIssuer,
};

mod lockout;
mod table;
use lockout::LockoutTable;
pub use lockout::{LockoutPolicy, DEFAULT_LOCKOUT_MS, DEFAULT_MAX_FAILURES};
use table::{plan_update, BindingTable};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Expiry when neither the Contact nor the request names one.
pub const DEFAULT_EXPIRES_S: u32 = 3600;
/// Shorter registrations are refused with 423 and `Min-Expires` of this.
pub const MIN_EXPIRES_S: u32 = 60;
/// Longer registrations are shortened to this (RFC 3261 §10.3 step 7).
pub const MAX_EXPIRES_S: u32 = 7200;
/// Past this many devices per user, the least recently refreshed goes.
pub const MAX_CONTACTS_PER_USER: usize = 8;

/// What the user directory keeps per user instead of a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

impl UserCredentials {
    /// Both HA1s for a plain password, for configuration loaders and tests.
    pub fn from_password(user: &str, realm: &str, password: &str) -> Self {
        Self {
            ha1_md5: ha1_hex(DigestAlgorithm::Md5, user, realm, password),
            ha1_sha256: ha1_hex(DigestAlgorithm::Sha256, user, realm, password),
        }
    }
}

/// Where agents' credentials come from (configuration, database cache...).
pub trait UserDirectory {
    fn lookup(&self, user: &str) -> Option<UserCredentials>;
}

impl<F: Fn(&str) -> Option<UserCredentials>> UserDirectory for F {
    fn lookup(&self, user: &str) -> Option<UserCredentials> {
        self(user)
    }
}

/// One Contact of a REGISTER, with its `expires` parameter if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactParam {
    pub uri: String,
    pub expires: Option<u32>,
}

/// The parts of a REGISTER the registrar decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRequest {
    /// User part of the To (address-of-record) URI.
    pub user: String,
    pub authorization: Option<String>,
    pub method: String,
    pub contacts: Vec<ContactParam>,
    /// `Contact: *`.
    pub star_contact: bool,
    pub expires_header: Option<u32>,
    pub call_id: String,
    pub cseq: u32,
    /// Transport address the request came from, e.g. "udp:127.0.0.1:5062".
    pub source: String,
}

impl RegisterRequest {
    /// The address part of `source`, the key of the guessing lockout. A
    /// source that does not read as `transport:ADDR` (never from the engine)
    /// falls in one shared bucket, so it cannot escape the lockout.
    pub fn source_ip(&self) -> IpAddr {
        self.source
            .split_once(':')
            .and_then(|(_, addr)| addr.parse::<SocketAddr>().ok())
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip())
    }
}

/// A current binding, as listed in a 200 OK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub uri: String,
    pub expires_in_s: u32,
    /// Where the REGISTER came from: send requests there (NAT-safe).
    pub source: String,
}

/// A binding as kept in the database, so registered softphones stay reachable across a restart
/// of the engine (a softphone only registers again when its own refresh is due, which may be an
/// hour away). The expiry is absolute, on the registrar's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedBinding {
    pub uri: String,
    pub source: String,
    pub call_id: String,
    pub cseq: u32,
    pub expires_at_ms: u64,
}

/// The answer to a REGISTER; `status_code` gives the SIP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterOutcome {
    /// 401 with these `WWW-Authenticate` values; `failure` when credentials
    /// were sent and refused.
    Challenge {
        www_authenticate: Vec<String>,
        failure: Option<AuthFailure>,
    },
    /// 200 with one Contact (and `expires`) per binding of the user.
    Ok {
        bindings: Vec<Binding>,
    },
    /// 423 with `Min-Expires`.
    IntervalTooBrief {
        min_expires: u32,
    },
    BadRequest(String),
    /// Authenticated as someone other than the AOR's user.
    Forbidden,
    /// Same Call-ID with a CSeq not above the stored one (RFC 3261 §10.3
    /// step 7): nothing changed; answer 500.
    OutOfOrder,
}

impl RegisterOutcome {
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Challenge { .. } => 401,
            Self::Ok { .. } => 200,
            Self::IntervalTooBrief { .. } => 423,
            Self::BadRequest(_) => 400,
            Self::Forbidden => 403,
            Self::OutOfOrder => 500,
        }
    }
}

/// The answer to any other request an agent must authenticate (INVITE...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    Ok,
    /// 401 with these `WWW-Authenticate` values; `failure` when credentials
    /// were sent and refused (none for a first request or a stale nonce).
    Challenge {
        www_authenticate: Vec<String>,
        failure: Option<AuthFailure>,
    },
    /// 403: credentials name another user than the request's.
    Forbidden,
}

/// Credentials that were refused: a security event for the log and
/// `/metrics`. The peer never sees the reason (every one gets the same
/// challenge); the operator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailure {
    pub reason: FailureReason,
    /// This failure was the one that locked the (source, user) pair out.
    pub locked_out_now: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// No such user (checked against a dummy HA1 all the same).
    UnknownUser,
    /// The user exists; the digest did not match.
    WrongPassword,
    /// The (source, user) pair is locked out: refused unchecked.
    LockedOut,
    /// Credentials for another realm.
    WrongRealm,
    /// A right digest on a nonce this engine never issued, or one already used with that `nc`.
    BadNonce,
    /// Credentials name another user than the request (answered 403).
    UserMismatch,
}

impl FailureReason {
    /// The `reason=` word in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::WrongPassword => "wrong_password",
            Self::LockedOut => "locked_out",
            Self::WrongRealm => "wrong_realm",
            Self::BadNonce => "bad_nonce",
            Self::UserMismatch => "user_mismatch",
        }
    }
}

/// What happened to bindings, drained with [`Registrar::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrarEvent {
    /// The user's first binding appeared.
    Registered { user: String },
    /// The user's last binding went (removed, expired or evicted).
    Unregistered { user: String },
    /// A binding ran out (or was evicted) without being removed.
    Expired { user: String, uri: String },
}

pub struct Registrar {
    realm: String,
    nonces: NonceIssuer,
    lockouts: LockoutTable,
    dummy_ha1_md5: String,
    dummy_ha1_sha256: String,
    table: BindingTable,
}

impl Registrar {
    /// `nonce_secret` must come from the caller's RNG, fresh per start.
    pub fn new(realm: String, nonce_secret: [u8; 32]) -> Self {
        // A password nobody knows: the secret itself, in hex.
        let unknown_password = to_hex(&nonce_secret);
        let dummy = |alg| ha1_hex(alg, "", &realm, &unknown_password);
        Self {
            dummy_ha1_md5: dummy(DigestAlgorithm::Md5),
            dummy_ha1_sha256: dummy(DigestAlgorithm::Sha256),
            nonces: NonceIssuer::new(nonce_secret),
            lockouts: LockoutTable::new(LockoutPolicy::default()),
            table: BindingTable::default(),
            realm,
        }
    }

    pub fn with_nonce_lifetime_ms(mut self, lifetime_ms: u64) -> Self {
        self.nonces = self.nonces.with_lifetime_ms(lifetime_ms);
        self
    }

    /// Changes when password guessing is locked out (`auth_lockout_s`...).
    pub fn with_lockout(mut self, policy: LockoutPolicy) -> Self {
        self.lockouts = LockoutTable::new(policy);
        self
    }

    pub fn lockout_policy(&self) -> LockoutPolicy {
        self.lockouts.policy()
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    pub fn handle_register(
        &mut self,
        req: RegisterRequest,
        directory: &impl UserDirectory,
        now_ms: u64,
    ) -> RegisterOutcome {
        self.handle_timeout(now_ms);
        if req.method != "REGISTER" {
            return RegisterOutcome::BadRequest("method is not REGISTER".to_string());
        }
        if req.user.is_empty() {
            return RegisterOutcome::BadRequest("empty address-of-record user".to_string());
        }
        let authorization = req.authorization.as_deref();
        let source = req.source_ip();
        match self.authenticate_request(
            source,
            &req.user,
            &req.method,
            authorization,
            directory,
            now_ms,
        ) {
            AuthOutcome::Ok => {}
            AuthOutcome::Challenge {
                www_authenticate,
                failure,
            } => {
                return RegisterOutcome::Challenge {
                    www_authenticate,
                    failure,
                }
            }
            AuthOutcome::Forbidden => return RegisterOutcome::Forbidden,
        }
        let update = match plan_update(&req) {
            Ok(update) => update,
            Err(refusal) => return refusal,
        };
        if self
            .table
            .is_out_of_order(&req.user, &update, &req.call_id, req.cseq)
        {
            return RegisterOutcome::OutOfOrder;
        }
        self.table.apply(&req, update, now_ms);
        RegisterOutcome::Ok {
            bindings: self.table.bindings(&req.user, now_ms),
        }
    }

    /// Checks digest credentials of `method` sent by `user` from `source`.
    /// Unknown users, wrong passwords and locked-out pairs take the same
    /// path (the same hashing) and get the same challenge.
    pub fn authenticate_request(
        &mut self,
        source: IpAddr,
        user: &str,
        method: &str,
        authorization: Option<&str>,
        directory: &impl UserDirectory,
        now_ms: u64,
    ) -> AuthOutcome {
        let Some(resp) = authorization.and_then(|value| parse_authorization(value).ok()) else {
            // No (readable) credentials: the first step of every login, not a failure.
            return self.challenge(now_ms, false, None);
        };
        // A purely syntactic check: it reveals nothing about the directory.
        if resp.username != user {
            return AuthOutcome::Forbidden;
        }
        if resp.realm != self.realm {
            return self.challenge(now_ms, false, Some(FailureReason::WrongRealm));
        }
        let locked = self.lockouts.is_locked(source, user, now_ms);
        let alg = resp.algorithm;
        let stored = directory
            .lookup(user)
            .map(|creds| match alg {
                DigestAlgorithm::Md5 => creds.ha1_md5,
                DigestAlgorithm::Sha256 => creds.ha1_sha256,
            })
            .filter(|ha1| is_usable_ha1(ha1, alg));
        let ha1 = stored.as_deref().unwrap_or(match alg {
            DigestAlgorithm::Md5 => &self.dummy_ha1_md5,
            DigestAlgorithm::Sha256 => &self.dummy_ha1_sha256,
        });
        // Hash first, in every case, so all failures cost the same.
        let digest_matches = verify(&resp, ha1, method);
        if locked {
            // Refused whatever the digest: the right password too, or guessing would go on.
            return self.challenge(now_ms, false, Some(FailureReason::LockedOut));
        }
        if !digest_matches || stored.is_none() {
            let reason = if stored.is_none() {
                FailureReason::UnknownUser
            } else {
                FailureReason::WrongPassword
            };
            // Unknown users count as well: a lockout must not hint at who exists.
            let locked_out_now = self.lockouts.record_failure(source, user, now_ms);
            let mut outcome = self.challenge(now_ms, false, Some(reason));
            if let AuthOutcome::Challenge {
                failure: Some(failure),
                ..
            } = &mut outcome
            {
                failure.locked_out_now = locked_out_now;
            }
            return outcome;
        }
        // Without qop there is no nc: count 1 makes the nonce single-use.
        let nc = resp.nonce_count().unwrap_or(1);
        match self.nonces.check(&resp.nonce, nc, now_ms) {
            NonceCheck::Valid => {
                self.lockouts.record_success(source, user);
                AuthOutcome::Ok
            }
            // Good credentials on an expired nonce: the phone retries at once.
            NonceCheck::Stale => self.challenge(now_ms, true, None),
            // Not counted towards the lockout: the password was right (a replay of a captured
            // request, or a phone confused across a restart), and no password is being guessed.
            NonceCheck::Invalid | NonceCheck::Replayed => {
                self.challenge(now_ms, false, Some(FailureReason::BadNonce))
            }
        }
    }

    /// When the next binding expires, if any.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.table.next_expiry_ms()
    }

    /// Drops bindings whose time has come, raising events.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.table.expire(now_ms);
    }

    pub fn poll_event(&mut self) -> Option<RegistrarEvent> {
        self.table.poll_event()
    }

    /// Contact URIs of `user`, oldest binding first (as of the last
    /// `handle_timeout`).
    pub fn contacts(&self, user: &str) -> Vec<String> {
        self.table.contacts(user)
    }

    /// The user's bindings with their remaining lifetime and source.
    pub fn bindings(&self, user: &str, now_ms: u64) -> Vec<Binding> {
        self.table.bindings(user, now_ms)
    }

    /// Live contact bindings over all users (a gauge for `/metrics`).
    pub fn binding_count(&self) -> usize {
        self.table.binding_count()
    }

    /// Drops a contact that stopped answering (OPTIONS timed out), as if it had expired.
    pub fn remove_binding(&mut self, user: &str, uri: &str) {
        self.table.remove(user, uri);
    }

    /// The user's bindings to save (after a REGISTER changed them).
    pub fn saved_bindings(&self, user: &str) -> Vec<SavedBinding> {
        self.table.saved(user)
    }

    /// Restores a saved binding; false when it has run out meanwhile (or is a duplicate).
    pub fn restore_binding(&mut self, user: &str, saved: SavedBinding, now_ms: u64) -> bool {
        self.table.restore(user, saved, now_ms)
    }

    pub fn is_registered(&self, user: &str) -> bool {
        self.table.has_bindings(user)
    }

    fn challenge(
        &mut self,
        now_ms: u64,
        stale: bool,
        failed: Option<FailureReason>,
    ) -> AuthOutcome {
        let nonce = self.nonces.issue(now_ms);
        AuthOutcome::Challenge {
            www_authenticate: challenge_values(&self.realm, &nonce, stale),
            failure: failed.map(|reason| AuthFailure {
                reason,
                locked_out_now: false,
            }),
        }
    }
}

/// A stored HA1 is only used if it has the algorithm's shape: an empty or
/// truncated entry must never become a hash anyone can compute.
fn is_usable_ha1(ha1: &str, alg: DigestAlgorithm) -> bool {
    ha1.len() == alg.hex_len() && ha1.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests;

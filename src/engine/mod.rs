//! The engine composes SIP transactions, dialogs, the registrar and the per-call applications
//! (IVR, echo, queue) into calls. It is one sans-IO state machine (docs/architecture.md, rules
//! 1–2): the drivers hand it `Input` values with the time, and drain `Output` values (bytes to
//! send, media commands, store commands) until `poll_timeout` says when to call again.
//!
//! Calls are owned in a map keyed by our own `CallKey`; dialogs are found by Call-ID and our tag.
//! Nothing here blocks: a database lookup is a `StoreQuery` whose answer comes back as an input.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::media::api::{MediaCommand, MediaEvent};
use crate::sip::msg::{Message, Request, Response};
use crate::sip::registrar::{Registrar, UserCredentials};
use crate::sip::transport::Peer;
use crate::sip::txn::{TimerConfig, TxnEvent, TxnKey, TxnLayer};
use crate::timer::TimerTable;

mod admission;
mod agent_leg;
pub mod agents;
mod browser_phone;
pub use browser_phone::{EndReason, PhoneEvent, PhoneId, PhoneRequest, AGENT_CONNECTION_LOST};
mod app;
mod call;
mod counters;
pub(crate) mod filings;
pub mod flood;
pub use filings::{gets_tracking_code, is_report};
pub mod live;
mod ports;
pub mod prompt_names;
mod recordings;
pub use recordings::is_reply_take;
mod shutdown;
mod signalling;
mod store_io;

pub use admission::SourceLimits;
pub use agents::AgentEntry;
pub use call::cdr::CallRecord;
pub use call::{CallKey, Disposition, HangupBy};
pub use counters::Counters;
pub use flood::FloodLimits;
use ports::PortPool;
pub use store_io::{
    AgentStateRow, FilingStage, ManagerCheck, NewMessage, QueueLogRow, RegistrationRow,
    StoreCommand, StoreQuery, StoreReply, StoreWrite,
};

/// What the engine is configured with (from flags/TOML, resolved by the driver).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The address put in Via, Contact and SDP: where peers reach us.
    pub sip_addr: SocketAddr,
    pub media_ip: IpAddr,
    pub rtp_ports: (u16, u16),
    pub realm: String,
    /// Seeds tags, branches and nonces so a scenario replays bit for bit (docs/architecture.md,
    /// rule 6).
    pub seed: u64,
    /// Unix time (ms) at the engine's `now == 0`, to stamp call records with wall time.
    pub epoch_unix_ms: i64,
    pub timers: TimerConfig,
    /// How long to ring before answering IVR numbers (0: answer at once).
    pub answer_delay: Duration,
    /// Extra number → line mappings for benchmark flows (e.g. "bench" → "bench").
    pub extra_lines: Vec<String>,
    /// User-Agent prefixes of softphones that fail on any SHA-256 challenge instead of ignoring
    /// it (RFC 8760 §2.4 says to ignore): they are challenged with MD5 only.
    pub md5_only_user_agents: Vec<String>,
    /// The ACD's queues and their settings.
    pub queues: Vec<crate::acd::QueueConfig>,
    /// What one source address may hold at once (unconfirmed calls, share of the RTP ports).
    pub source_limits: SourceLimits,
    /// Per-source message rates before parsing (`flood.rs`).
    pub flood_limits: FloodLimits,
    /// When password guessing from one address for one user is locked out, and for how long.
    pub lockout: crate::sip::registrar::LockoutPolicy,
}

impl EngineConfig {
    pub fn for_tests(sip_addr: SocketAddr) -> Self {
        EngineConfig {
            sip_addr,
            media_ip: sip_addr.ip(),
            rtp_ports: (20000, 20100),
            realm: "pasokh".into(),
            seed: 7,
            epoch_unix_ms: 1_763_900_000_000,
            timers: TimerConfig::default(),
            answer_delay: Duration::ZERO,
            extra_lines: Vec::new(),
            md5_only_user_agents: default_md5_only_user_agents(),
            queues: default_queues(),
            source_limits: SourceLimits::default(),
            flood_limits: FloodLimits::default(),
            lockout: crate::sip::registrar::LockoutPolicy::default(),
        }
    }
}

/// Everything the drivers feed in.
#[derive(Debug, Clone)]
pub enum Input {
    Sip {
        peer: Peer,
        bytes: Vec<u8>,
    },
    Media(MediaEvent),
    /// The agents changed (loaded at start, refreshed when `pasokh agent add` runs).
    Agents(Vec<AgentEntry>),
    /// Softphone registrations saved before a restart, applied once after the first `Agents`.
    RestoreRegistrations(Vec<RegistrationRow>),
    /// Agent states saved before a restart, applied once after the registrations.
    RestoreAgents(Vec<AgentStateRow>),
    /// The queue log of the current Tehran day as it stood at start, once after the agent
    /// states: today's figures are rebuilt from it, so a restart does not zero the day.
    RestoreQueueDay(Vec<QueueLogRow>),
    /// A supervisor's or agent's REST request.
    AgentAction {
        agent: String,
        action: live::AgentAction,
    },
    Store(StoreReply),
    /// The operator asked the engine to stop (SIGTERM): refuse new calls, let the others finish
    /// within `grace`, then close them with a prompt and a BYE (`shutdown.rs`).
    Shutdown {
        grace: Duration,
    },
    /// A page signed in as `agent` opened its browser phone (`browser_phone`).
    PhoneAttached {
        phone: PhoneId,
        agent: String,
    },
    /// The page's WebSocket closed.
    PhoneDetached {
        phone: PhoneId,
    },
    /// The page acts on a call it was offered.
    Phone {
        phone: PhoneId,
        request: PhoneRequest,
    },
}

/// Everything the engine asks the drivers to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Transmit {
        peer: Peer,
        bytes: Vec<u8>,
    },
    Media(MediaCommand),
    Store(StoreCommand),
    /// For one browser phone's page (its WebSocket).
    Phone {
        phone: PhoneId,
        event: PhoneEvent,
    },
}

/// Whose timer it is: the engine's own (the daily reset, agent pings, shutdown) or a call's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum TimerOwner {
    Engine,
    Call(CallKey),
}

/// Engine-level named timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum CallTimer {
    Answer,
    Ivr,
    /// Tehran midnight: the queues' "today" figures start again.
    DailyReset,
    /// Time to ping registered agents' softphones with OPTIONS.
    AgentPing,
    /// The shutdown grace period is over.
    ShutdownDeadline,
    /// A closing call's prompt took too long: BYE now.
    ShutdownBye,
}

impl CallTimer {
    /// The timers a call may have armed, all cancelled when it ends.
    const OF_A_CALL: [CallTimer; 3] = [CallTimer::Answer, CallTimer::Ivr, CallTimer::ShutdownBye];
}

/// Milliseconds from `unix_ms` to the next midnight in Tehran (UTC+03:30, no DST since 2022).
fn ms_to_tehran_midnight(unix_ms: i64) -> u64 {
    const DAY: i64 = 86_400_000;
    const OFFSET: i64 = crate::calendar::TEHRAN_UTC_OFFSET_SECONDS * 1_000;
    let local = unix_ms + OFFSET;
    (DAY - local.rem_euclid(DAY)) as u64
}

pub struct Engine {
    config: EngineConfig,
    rng: ChaCha8Rng,
    txns: TxnLayer,
    registrar: Registrar,
    agents: HashMap<String, UserCredentials>,
    calls: call::Calls,
    ports: PortPool,
    admission: admission::Admission,
    flood: flood::FloodGuard,
    timers: TimerTable<TimerOwner, CallTimer>,
    /// The last number given to a call or a media leg (a caller's leg shares its call's number).
    last_id: u64,
    outputs: VecDeque<Output>,
    pub counters: Counters,
    flows: Option<std::sync::Arc<crate::ivr::FlowSet>>,
    /// Conversations being recorded and messages waiting for a take to be saved.
    recordings: recordings::Recordings,
    /// Each call's one message: opened or not, and filings waiting for the opening's answer.
    filings: filings::Filings,
    /// Inputs for the calls' IVR runs, fed in order once the step that caused them is over.
    app_events: VecDeque<(CallKey, crate::ivr::IvrInput)>,
    acd: crate::acd::Acd,
    agent_legs: agent_leg::AgentLegs,
    /// Agents' pages with their phone open, and the legs offered to them.
    browser_phones: browser_phone::BrowserPhones,
    /// Agent requests the ACD refused so far (a feature code hears whether its request took).
    agent_refusals: u64,
    /// A shutdown was asked for: new calls are refused.
    draining: bool,
    /// Callers' wrong tracking codes, to refuse guessing on the follow-up line.
    follow_up: app::follow_up::FollowUpGuard,
    /// Managers' wrong PINs on `*98`, per mailbox and per source address.
    pin_guard: app::mailbox::PinGuard,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let secret: [u8; 32] = rng.gen();
        let queues = config.queues.clone();
        let ports = PortPool::new(config.rtp_ports.0, config.rtp_ports.1);
        let mut engine = Engine {
            txns: TxnLayer::new(config.timers),
            registrar: Registrar::new(config.realm.clone(), secret).with_lockout(config.lockout),
            admission: admission::Admission::new(config.source_limits, ports.total()),
            flood: flood::FloodGuard::new(config.flood_limits.clone()),
            ports,
            config,
            rng,
            agents: HashMap::new(),
            calls: call::Calls::default(),
            timers: TimerTable::new(),
            last_id: 0,
            outputs: VecDeque::new(),
            counters: Counters::default(),
            flows: None,
            recordings: Default::default(),
            filings: Default::default(),
            app_events: VecDeque::new(),
            acd: crate::acd::Acd::new(queues, Vec::new()),
            agent_legs: agent_leg::AgentLegs::default(),
            browser_phones: browser_phone::BrowserPhones::default(),
            agent_refusals: 0,
            follow_up: Default::default(),
            pin_guard: Default::default(),
            draining: false,
        };
        engine.arm_daily_reset(Duration::ZERO);
        engine.timers.set(
            TimerOwner::Engine,
            CallTimer::AgentPing,
            agent_leg::ping::PING_EVERY,
        );
        engine
    }

    fn arm_daily_reset(&mut self, now: Duration) {
        let wait = ms_to_tehran_midnight(self.wall_ms(now)).max(1);
        self.timers.set(
            TimerOwner::Engine,
            CallTimer::DailyReset,
            now + Duration::from_millis(wait),
        );
    }

    /// The IVR flows the lines run (without them, IVR lines answer and stay silent).
    pub fn with_flows(mut self, flows: std::sync::Arc<crate::ivr::FlowSet>) -> Self {
        self.flows = Some(flows);
        self
    }

    pub fn handle_input(&mut self, input: Input, now: Duration) {
        match input {
            Input::Sip { peer, bytes } => self.on_sip(peer, &bytes, now),
            Input::Media(event) => self.on_media(event, now),
            Input::Agents(list) => self.set_agents(list, now),
            Input::RestoreRegistrations(rows) => self.restore_registrations(rows, now),
            Input::RestoreAgents(rows) => self.restore_agents(rows, now),
            Input::RestoreQueueDay(rows) => self.restore_queue_day(&rows, now),
            Input::AgentAction { agent, action } => {
                self.agent_action(&agent, action, now);
            }
            Input::Store(reply) => self.on_store_reply(reply, now),
            Input::Shutdown { grace } => self.begin_shutdown(grace, now),
            Input::PhoneAttached { phone, agent } => self.phone_attached(phone, agent, now),
            Input::PhoneDetached { phone } => self.phone_detached(phone, now),
            Input::Phone { phone, request } => self.phone_request(phone, request, now),
        }
        self.settle(now);
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the engine next needs `handle_timeout`.
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        let deadlines = [
            self.txns.poll_timeout(),
            self.timers.next_deadline(),
            self.registrar.poll_timeout().map(Duration::from_millis),
            self.acd.poll_timeout(),
        ];
        deadlines.into_iter().flatten().min()
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        self.txns.handle_timeout(now);
        self.registrar.handle_timeout(as_ms(now));
        self.drain_registrar_events(now);
        self.acd_timeout(now);
        while let Some((owner, timer)) = self.timers.pop_due(now) {
            match (owner, timer) {
                (TimerOwner::Call(key), CallTimer::Answer) => self.answer_call(key, now),
                (TimerOwner::Call(key), CallTimer::Ivr) => self.ivr_timeout(key, now),
                (TimerOwner::Call(key), CallTimer::ShutdownBye) => {
                    self.closing_prompt_done(key, now)
                }
                (_, CallTimer::DailyReset) => {
                    self.acd.reset_daily();
                    self.arm_daily_reset(now);
                }
                (_, CallTimer::AgentPing) => self.ping_agents(now),
                (_, CallTimer::ShutdownDeadline) => self.close_remaining_calls(now),
                (TimerOwner::Engine, _) => {}
            }
        }
        self.settle(now);
    }

    /// Finishes what an input or a timer set going: the runs' queued inputs, and the
    /// transaction layer's events (responses to our requests may queue more inputs).
    fn settle(&mut self, now: Duration) {
        loop {
            self.run_app_events(now);
            self.drain_txn_events(now);
            if self.app_events.is_empty() {
                break;
            }
        }
    }

    /// The `/metrics` text: counters and gauges, no personal data.
    pub fn metrics_text(&self) -> String {
        self.counters.render(
            self.calls.len(),
            self.ports.available(),
            self.registrar.binding_count(),
        )
    }

    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    fn on_sip(&mut self, peer: Peer, bytes: &[u8], now: Duration) {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return; // CRLF keep-alives (RFC 5626)
        }
        if !self.within_flood_limits(bytes, peer, now) {
            return;
        }
        match crate::sip::parse::parse(bytes) {
            Ok(Message::Request(req)) => self.on_request(req, peer, now),
            Ok(Message::Response(resp)) => self.txns.on_response(resp, now),
            Err(error) => self.on_malformed(bytes, peer, &error.0, error.1),
        }
    }

    fn drain_txn_events(&mut self, now: Duration) {
        while let Some(event) = self.txns.poll_output() {
            match event {
                TxnEvent::Transmit { peer, bytes } => {
                    self.outputs.push_back(Output::Transmit { peer, bytes })
                }
                TxnEvent::Response { key, response } => self.on_client_response(key, response, now),
                TxnEvent::ClientTimeout { key } => self.on_client_timeout(key, now),
                TxnEvent::AckTimeout { key } => self.on_ack_timeout(key, now),
                TxnEvent::Terminated { .. } => {}
            }
        }
    }

    fn send_response(&mut self, key: &TxnKey, resp: &Response, now: Duration) {
        self.txns.respond(key, resp, now);
    }

    fn media(&mut self, command: MediaCommand) {
        self.outputs.push_back(Output::Media(command));
    }

    /// A call's own identifier (`CallRecord::call_ref`): 64 random bits from the engine's RNG,
    /// which the driver seeds from the operating system, so it is unique across restarts.
    fn new_call_ref(&mut self) -> String {
        format!("{:016x}", self.rng.gen::<u64>())
    }

    /// A number for a new call or media leg, unique while the engine runs.
    fn new_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    fn new_tag(&mut self) -> String {
        format!("{:016x}", self.rng.gen::<u64>())
    }

    fn new_branch(&mut self) -> String {
        format!("z9hG4bK{:016x}", self.rng.gen::<u64>())
    }

    fn wall_ms(&self, now: Duration) -> i64 {
        self.config.epoch_unix_ms + as_ms(now) as i64
    }

    /// Unix milliseconds of a time in the engine's milliseconds.
    fn wall_ms_of(&self, engine_ms: u64) -> i64 {
        let engine_ms = i64::try_from(engine_ms).unwrap_or(i64::MAX);
        self.config.epoch_unix_ms.saturating_add(engine_ms)
    }

    fn on_request(&mut self, req: Request, peer: Peer, now: Duration) {
        let Some(incoming) = self.txns.on_request(&req, peer, now) else {
            self.counters.sip_malformed += 1;
            return;
        };
        use crate::sip::txn::Incoming;
        match incoming {
            Incoming::Retransmission => self.counters.sip_retransmissions_absorbed += 1,
            Incoming::AckForDialog => self.on_dialog_ack(&req, now),
            Incoming::New(key) => self.route_request(req, key, peer, now),
        }
    }
}

/// The queues of the 137 and 1888 trees and key 4's call-takers.
pub fn default_queues() -> Vec<crate::acd::QueueConfig> {
    ["137", "1888", "zoning"]
        .into_iter()
        .map(crate::acd::QueueConfig::new)
        .collect()
}

/// Debian 12's baresip (libre 1.x) abandons registration when any challenge names SHA-256.
pub fn default_md5_only_user_agents() -> Vec<String> {
    vec!["baresip v0.".into(), "baresip v1.".into()]
}

fn as_ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod midnight_tests {
    #[test]
    fn tehran_midnight_is_at_20_30_utc() {
        // 2026-11-23T20:00:00Z is 23:30 in Tehran: half an hour to midnight.
        assert_eq!(super::ms_to_tehran_midnight(1_795_464_000_000), 30 * 60_000);
        // Exactly at Tehran midnight the next one is a day away.
        assert_eq!(super::ms_to_tehran_midnight(1_795_465_800_000), 86_400_000);
    }
}

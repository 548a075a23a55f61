//! Property tests: thousands of random events on a virtual clock, many seeds. A model of the
//! engine tracks live offers and call endings from the outputs alone and checks: an agent never
//! holds two live offers and is only offered while Available; every call that entered a queue
//! ends exactly once (answered, abandoned, exited or overflowed); answers only come from live
//! offers. The rig checks the machine's own invariants after every step (FIFO, routing
//! invariant, statistics identity, agent counts).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use super::support::*;
use crate::acd::*;

/// splitmix64: small, seedable, good enough to shuffle events.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())].clone())
    }
}

const QUEUES: [&str; 4] = ["137", "1888", "tech", "rr"];
const AGENTS: usize = 7;

/// The engine's view, rebuilt from outputs only.
#[derive(Default)]
struct Model {
    live_offers: HashMap<String, u64>,
    connected: BTreeMap<u64, String>,
    states: HashMap<String, AgentState>,
    entered: BTreeSet<u64>,
    endings: HashMap<u64, u32>,
    /// Entered and not ended yet.
    queued: BTreeSet<u64>,
}

impl Model {
    fn queued(&self) -> Vec<u64> {
        self.queued.iter().copied().collect()
    }

    fn observe(&mut self, out: &[AcdOutput]) {
        for o in out {
            match o {
                AcdOutput::Offer { call, agent } => {
                    let state = self.states.get(agent);
                    assert_eq!(
                        state,
                        Some(&AgentState::Available),
                        "{agent} offered while busy"
                    );
                    let before = self.live_offers.insert(agent.clone(), call.0);
                    assert_eq!(before, None, "{agent} got a second live offer");
                }
                AcdOutput::CancelOffer {
                    call,
                    agent,
                    reason,
                } => {
                    let live = self.live_offers.get(agent) == Some(&call.0);
                    assert_eq!(live, *reason != CancelReason::StaleAnswer, "{o:?}");
                    if live {
                        self.live_offers.remove(agent);
                    }
                }
                AcdOutput::Connected { call, agent } => {
                    assert_eq!(self.live_offers.remove(agent), Some(call.0), "{o:?}");
                    self.connected.insert(call.0, agent.clone());
                }
                AcdOutput::AgentStateChanged {
                    agent,
                    reason: ChangeReason::Removed,
                    ..
                } => {
                    self.states.remove(agent);
                }
                AcdOutput::AgentStateChanged { agent, state, .. } => {
                    self.states.insert(agent.clone(), state.clone());
                }
                AcdOutput::QueueLog(event) => self.log(event),
                _ => {}
            }
        }
    }

    fn log(&mut self, event: &QueueEvent) {
        let Some(call) = event.call.map(|c| c.0) else {
            return;
        };
        match event.kind {
            // A declined or failed INVITE ends that offer without a CANCEL.
            QueueEventKind::Reject | QueueEventKind::OfferFailed => {
                let agent = event.agent.clone().unwrap_or_default();
                assert_eq!(self.live_offers.remove(&agent), Some(call), "{event:?}");
            }
            QueueEventKind::Enter => {
                assert!(self.entered.insert(call), "{call} entered twice");
                self.queued.insert(call);
            }
            QueueEventKind::Answer
            | QueueEventKind::Abandon
            | QueueEventKind::Exit
            | QueueEventKind::Overflow => {
                if event.detail == "reason=unknown_queue" {
                    return;
                }
                assert!(
                    self.entered.contains(&call),
                    "{call} ended without entering"
                );
                let n = self.endings.entry(call).or_insert(0);
                *n += 1;
                assert_eq!(*n, 1, "call {call} ended twice");
                self.queued.remove(&call);
            }
            _ => {}
        }
    }
}

fn random_config(rng: &mut Rng, id: usize) -> AgentConfig {
    let mut queues = Vec::new();
    for q in QUEUES {
        if rng.below(3) > 0 {
            queues.push((q.to_owned(), rng.below(3) as u32));
        }
    }
    AgentConfig {
        id: format!("a{id}"),
        name: format!("Agent {id}"),
        queues,
    }
}

fn queues() -> Vec<QueueConfig> {
    let tech = QueueConfig {
        wrap_up: Duration::ZERO,
        ..queue_with("tech", Strategy::FewestCalls)
    };
    vec![
        queue_with("137", Strategy::LongestIdle),
        queue_with("1888", Strategy::RingAll),
        tech,
        queue_with("rr", Strategy::RoundRobin),
    ]
}

/// One random step; returns the outputs it caused.
fn step(rng: &mut Rng, rig: &mut Rig, model: &Model, next_call: &mut u64) -> Vec<AcdOutput> {
    match rng.below(100) {
        0..=14 => {
            *next_call += 1;
            let queue = match rng.below(40) {
                0 => "nope",
                _ => QUEUES[rng.below(QUEUES.len())],
            };
            rig.arrive(*next_call, queue, rng.below(3) as u8)
        }
        15..=39 => agent_request(rng, rig),
        40..=77 => call_event(rng, rig, model, *next_call),
        78 => {
            let n = rng.below(AGENTS);
            rig.input(AcdInput::AgentConfigured(random_config(rng, n)))
        }
        79 if rng.below(10) == 0 => {
            rig.acd.reset_daily();
            rig.drain()
        }
        _ => rig.advance(Duration::from_millis(rng.below(20_000) as u64)),
    }
}

fn agent_request(rng: &mut Rng, rig: &mut Rig) -> Vec<AcdOutput> {
    let id = format!("a{}", rng.below(AGENTS));
    let input = match rng.below(25) {
        0..=7 => AcdInput::AgentLogin(id),
        8..=10 => AcdInput::AgentLogout(id),
        11..=14 => {
            let reason = PauseReason::standard(1 + rng.below(4) as u16);
            AcdInput::AgentPause(id, reason.unwrap_or_else(PauseReason::no_answer))
        }
        15..=20 => AcdInput::AgentUnpause(id),
        21..=22 => AcdInput::AgentEndWrapUp(id),
        // Rare, and re-added later by a random reconfiguration.
        23 if rng.below(5) == 0 => AcdInput::AgentRemoved(id),
        23 => AcdInput::AgentEndWrapUp(id),
        _ => AcdInput::AgentUnreachable(id),
    };
    rig.input(input)
}

/// What the engine reports about offers and calls: mostly live ones, sometimes stale ones.
fn call_event(rng: &mut Rng, rig: &mut Rig, model: &Model, last_call: u64) -> Vec<AcdOutput> {
    let offers: Vec<(String, u64)> = model
        .live_offers
        .iter()
        .map(|(a, c)| (a.clone(), *c))
        .collect();
    let connected: Vec<u64> = model.connected.keys().copied().collect();
    let queued = model.queued();
    let input = match rng.below(38) {
        0..=11 => rng
            .pick(&offers)
            .map(|(agent, call)| AcdInput::OfferAccepted {
                call: CallKey(call),
                agent,
            }),
        12..=15 => rng
            .pick(&offers)
            .map(|(agent, call)| AcdInput::OfferRejected {
                call: CallKey(call),
                agent,
            }),
        16..=17 => rng
            .pick(&offers)
            .map(|(agent, call)| AcdInput::OfferFailed {
                call: CallKey(call),
                agent,
            }),
        18..=23 => rng
            .pick(&queued)
            .map(|c| AcdInput::CallAbandoned(CallKey(c))),
        24..=25 => rng.pick(&queued).map(|c| AcdInput::CallExited(CallKey(c))),
        26..=35 => rng
            .pick(&connected)
            .map(|c| AcdInput::CallEnded { call: CallKey(c) }),
        _ => {
            // Stale or bogus inputs the engine may deliver in a race.
            let call = CallKey(rng.below(last_call as usize + 2) as u64);
            let agent = format!("a{}", rng.below(AGENTS));
            Some(match rng.below(3) {
                0 => AcdInput::OfferAccepted { call, agent },
                1 => AcdInput::CallAbandoned(call),
                _ => AcdInput::OfferRejected { call, agent },
            })
        }
    };
    match input {
        Some(input) => rig.input(input),
        None => rig.advance(Duration::from_millis(rng.below(5000) as u64)),
    }
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let agents = (0..AGENTS).map(|i| random_config(&mut rng, i)).collect();
    let mut rig = Rig::new(queues(), agents);
    let mut model = Model::default();
    for agent in rig.acd.agent_states() {
        model.states.insert(agent.id, agent.state);
    }
    let mut next_call = 0;
    for _ in 0..steps {
        let out = step(&mut rng, &mut rig, &model, &mut next_call);
        model.observe(&out);
        model
            .connected
            .retain(|call, _| rig.acd.calls.contains_key(&CallKey(*call)));
        let configured = rig.acd.agent_states().len();
        assert_eq!(configured, model.states.len(), "seed {seed}");
    }
    // Wind down: everyone hangs up, time passes; every call must have ended exactly once.
    for call in model.queued() {
        let out = rig.input(AcdInput::CallAbandoned(CallKey(call)));
        model.observe(&out);
    }
    let connected: Vec<u64> = model.connected.keys().copied().collect();
    for call in connected {
        let out = rig.input(AcdInput::CallEnded {
            call: CallKey(call),
        });
        model.observe(&out);
    }
    let out = rig.advance(Duration::from_secs(400));
    model.observe(&out);
    let unended: Vec<u64> = model.queued();
    assert!(
        unended.is_empty(),
        "seed {seed}: calls never ended: {unended:?}"
    );
    assert!(
        model.live_offers.is_empty(),
        "seed {seed}: offers left ringing"
    );
    assert!(rig.acd.calls.is_empty(), "seed {seed}: calls left inside");
}

#[test]
fn random_event_sequences_keep_every_invariant() {
    for seed in 0..100 {
        run(seed, 2000);
    }
}

#[test]
fn long_runs_on_a_few_seeds() {
    for seed in [0xACD, 0x137, 0x1888] {
        run(seed, 20_000);
    }
}

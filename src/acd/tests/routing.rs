//! Routing rules: strategies, penalties, priorities, FIFO, multi-queue agents, overflow.

use super::support::*;
use crate::acd::*;

fn rig(strategy: Strategy, agents: &[&str]) -> Rig {
    let configs = agents.iter().map(|id| agent(id, &[("137", 0)])).collect();
    Rig::new(vec![queue_with("137", strategy)], configs)
}

/// Answers and finishes a call so the agent has a fresh "last call end".
fn handle_call(rig: &mut Rig, call: u64, id: &str) {
    rig.arrive(call, "137", 0);
    rig.accept(call, id);
    rig.input(AcdInput::CallEnded {
        call: CallKey(call),
    });
    rig.input(AcdInput::AgentEndWrapUp(id.to_owned()));
}

#[test]
fn longest_idle_gets_the_call() {
    let mut rig = rig(Strategy::LongestIdle, &["a", "b", "c"]);
    for id in ["a", "b", "c"] {
        rig.login(id);
        rig.advance(secs(1));
    }
    handle_call(&mut rig, 1, "a"); // a's idle clock restarts now
    rig.advance(secs(1));
    let out = rig.arrive(2, "137", 0);
    assert_eq!(offers(&out), vec![offer(2, "b")]);
}

#[test]
fn ring_all_rings_everyone_and_the_first_answer_wins() {
    let mut rig = rig(Strategy::RingAll, &["a", "b", "c"]);
    for id in ["a", "b", "c"] {
        rig.login(id);
    }
    let out = rig.arrive(1, "137", 0);
    assert_eq!(offers(&out).len(), 3);
    let out = rig.accept(1, "b");
    let mut cancelled = cancels(&out);
    cancelled.sort_by(|x, y| x.1.cmp(&y.1));
    let lost = CancelReason::AnsweredElsewhere;
    assert_eq!(
        cancelled,
        vec![(1, "a".into(), lost), (1, "c".into(), lost)]
    );
    assert!(out.contains(&AcdOutput::Connected {
        call: CallKey(1),
        agent: "b".into()
    }));
    assert_eq!(rig.state("a"), AgentState::Available);
    assert_eq!(rig.state("b"), AgentState::OnCall { call: CallKey(1) });
    // The loser's late answer is turned away.
    let out = rig.accept(1, "a");
    assert_eq!(
        cancels(&out),
        vec![(1, "a".into(), CancelReason::StaleAnswer)]
    );
}

#[test]
fn round_robin_rotates_through_members() {
    let mut rig = rig(Strategy::RoundRobin, &["a", "b", "c"]);
    for id in ["a", "b", "c"] {
        rig.login(id);
    }
    let mut order = Vec::new();
    for call in 1..=4 {
        let out = rig.arrive(call, "137", 0);
        let found = offers(&out);
        let [(_, who)] = found.as_slice() else {
            panic!("expected one offer, got {found:?}");
        };
        let who = who.clone();
        rig.accept(call, &who);
        rig.input(AcdInput::CallEnded {
            call: CallKey(call),
        });
        rig.input(AcdInput::AgentEndWrapUp(who.clone()));
        order.push(who);
    }
    assert_eq!(order, ["a", "b", "c", "a"]);
}

#[test]
fn fewest_calls_prefers_the_least_busy_agent() {
    let mut rig = rig(Strategy::FewestCalls, &["a", "b"]);
    rig.login("b");
    handle_call(&mut rig, 1, "b");
    rig.advance(secs(60));
    rig.login("a"); // b is now the longest idle, but has answered more
    let out = rig.arrive(2, "137", 0);
    assert_eq!(offers(&out), vec![offer(2, "a")]);
}

#[test]
fn lower_penalty_tier_first_higher_tier_only_when_it_has_nobody() {
    let agents = vec![agent("backup", &[("137", 5)]), agent("main", &[("137", 0)])];
    let mut rig = Rig::new(vec![QueueConfig::new("137")], agents);
    rig.login("backup");
    rig.login("main");
    let out = rig.arrive(1, "137", 0);
    assert_eq!(offers(&out), vec![offer(1, "main")]);
    let out = rig.arrive(2, "137", 0);
    assert_eq!(offers(&out), vec![offer(2, "backup")]);
}

#[test]
fn higher_priority_first_then_first_in_first_out() {
    let mut rig = rig(Strategy::LongestIdle, &["a"]);
    rig.login("a");
    rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    ));
    for (call, priority) in [(1, 0), (2, 0), (3, 5), (4, 5), (5, 0)] {
        rig.arrive(call, "137", priority);
        rig.advance(secs(1));
    }
    let order: Vec<u64> = rig
        .acd
        .waiting_calls(rig.now)
        .iter()
        .map(|w| w.call.0)
        .collect();
    assert_eq!(order, [3, 4, 1, 2, 5]);
    let mut served = Vec::new();
    let out = rig.input(AcdInput::AgentUnpause("a".into()));
    let mut next = offers(&out);
    while let Some((call, _)) = next.pop() {
        served.push(call);
        rig.accept(call, "a");
        rig.input(AcdInput::CallEnded {
            call: CallKey(call),
        });
        next = offers(&rig.input(AcdInput::AgentEndWrapUp("a".into())));
    }
    assert_eq!(served, [3, 4, 1, 2, 5]);
}

#[test]
fn an_agent_of_several_queues_takes_the_globally_oldest_call() {
    let queues = vec![QueueConfig::new("137"), QueueConfig::new("1888")];
    let agents = vec![
        agent("both", &[("137", 0), ("1888", 0)]),
        agent("only137", &[("137", 0)]),
        agent("only1888", &[("1888", 0)]),
    ];
    let mut rig = Rig::new(queues, agents);
    for id in ["only137", "only1888"] {
        rig.login(id);
        rig.input(AcdInput::AgentPause(
            id.into(),
            PauseReason::new(2, "lunch"),
        ));
    }
    rig.arrive(1, "1888", 0);
    rig.advance(secs(3));
    rig.arrive(2, "137", 0);
    rig.advance(secs(3));
    let out = rig.login("both");
    assert_eq!(offers(&out), vec![offer(1, "both")]);
}

#[test]
fn a_queue_with_nobody_logged_in_overflows_at_once() {
    let mut rig = rig(Strategy::LongestIdle, &["a"]);
    let out = rig.arrive(1, "137", 0);
    assert!(out.contains(&AcdOutput::Overflow {
        call: CallKey(1),
        reason: OverflowReason::NoAgents
    }));
    let out = rig.arrive(2, "no-such-queue", 0);
    assert!(out.contains(&AcdOutput::Overflow {
        call: CallKey(2),
        reason: OverflowReason::UnknownQueue
    }));
    let s = rig.stats("137");
    assert_eq!((s.offered_today, s.overflowed_today, s.waiting), (1, 1, 0));
}

#[test]
fn a_paused_queue_keeps_calls_and_routes_them_on_unpause() {
    let mut rig = rig(Strategy::LongestIdle, &["a"]);
    rig.login("a");
    rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    ));
    let out = rig.arrive(1, "137", 0);
    assert!(offers(&out).is_empty());
    assert_eq!(rig.stats("137").waiting, 1);
    let out = rig.input(AcdInput::AgentUnpause("a".into()));
    assert_eq!(offers(&out), vec![offer(1, "a")]);
}

#[test]
fn last_agent_logging_out_sends_waiting_calls_to_overflow() {
    let mut rig = rig(Strategy::LongestIdle, &["a"]);
    rig.login("a");
    rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    ));
    rig.arrive(1, "137", 0);
    let out = rig.input(AcdInput::AgentLogout("a".into()));
    assert!(out.contains(&AcdOutput::Overflow {
        call: CallKey(1),
        reason: OverflowReason::NoAgents
    }));
}

#[test]
fn adding_a_queue_to_an_available_agent_routes_its_waiting_call() {
    let queues = vec![QueueConfig::new("137"), QueueConfig::new("1888")];
    let agents = vec![agent("a", &[("137", 0)]), agent("b", &[("1888", 0)])];
    let mut rig = Rig::new(queues, agents);
    rig.login("a");
    rig.login("b");
    rig.input(AcdInput::AgentPause(
        "b".into(),
        PauseReason::new(4, "meeting"),
    ));
    rig.arrive(1, "1888", 0);
    let out = rig.input(AcdInput::AgentConfigured(agent(
        "a",
        &[("137", 0), ("1888", 3)],
    )));
    assert_eq!(offers(&out), vec![offer(1, "a")]);
}

#[test]
fn removing_a_queue_overflows_its_calls_and_frees_ringing_agents() {
    let mut rig = rig(Strategy::LongestIdle, &["a"]);
    rig.login("a");
    rig.arrive(1, "137", 0);
    rig.arrive(2, "137", 0);
    let out = rig.input(AcdInput::QueueRemoved("137".into()));
    assert_eq!(
        cancels(&out),
        vec![(1, "a".into(), CancelReason::QueueRemoved)]
    );
    let overflowed = out
        .iter()
        .filter(|o| matches!(o, AcdOutput::Overflow { .. }))
        .count();
    assert_eq!(overflowed, 2);
    assert!(offers(&out).is_empty());
    assert_eq!(rig.state("a"), AgentState::Available);
    assert!(rig.acd.stats(rig.now).is_empty());
}

//! Call lifecycle rules: misses, declines, abandons, exits, max wait, announcements, wrap-up, and
//! the statistics definitions checked on hand-computed numbers.

use super::support::*;
use crate::acd::*;

fn two_agents() -> Rig {
    let agents = vec![agent("a", &[("137", 0)]), agent("b", &[("137", 0)])];
    let mut rig = Rig::new(vec![QueueConfig::new("137")], agents);
    rig.login("a");
    rig.advance(secs(1));
    rig.login("b");
    rig
}

#[test]
fn ring_no_answer_cancels_counts_a_miss_and_moves_the_call_on() {
    let mut rig = two_agents();
    assert_eq!(offers(&rig.arrive(1, "137", 0)), vec![offer(1, "a")]);
    let out = rig.advance(secs(15));
    assert_eq!(
        cancels(&out),
        vec![(1, "a".into(), CancelReason::RingTimeout)]
    );
    assert_eq!(offers(&out), vec![offer(1, "b")]);
    assert!(log_kinds(&out).contains(&QueueEventKind::RingNoAnswer));
    assert_eq!(rig.view("a").map(|v| v.missed_in_row), Some(1));
    assert_eq!(rig.state("a"), AgentState::Available);
}

#[test]
fn three_misses_in_a_row_pause_the_agent_with_reason_no_answer() {
    let agents = vec![agent("a", &[("137", 0)])];
    let mut rig = Rig::new(vec![QueueConfig::new("137")], agents);
    rig.login("a");
    rig.arrive(1, "137", 0);
    let mut out = Vec::new();
    for _ in 0..3 {
        out = rig.advance(secs(15)); // ring timeout
        out.extend(rig.advance(secs(5))); // retry delay: the call comes back to a
    }
    let paused = AgentState::Paused {
        reason: PauseReason::no_answer(),
    };
    assert_eq!(rig.state("a"), paused);
    assert!(changes(&out, "a").contains(&(paused, None, ChangeReason::MissedOffers)));
    assert_eq!(rig.stats("137").waiting, 1);
    // Answering resets the count; unpausing does too.
    rig.input(AcdInput::AgentUnpause("a".into()));
    assert_eq!(rig.view("a").map(|v| v.missed_in_row), Some(0));
}

#[test]
fn a_decline_moves_on_at_once_and_counts_as_a_miss() {
    let mut rig = two_agents();
    rig.arrive(1, "137", 0);
    let out = rig.input(AcdInput::OfferRejected {
        call: CallKey(1),
        agent: "a".into(),
    });
    assert!(cancels(&out).is_empty(), "the INVITE already failed");
    assert_eq!(offers(&out), vec![offer(1, "b")]);
    assert_eq!(rig.view("a").map(|v| v.missed_in_row), Some(1));
    assert!(log_kinds(&out).contains(&QueueEventKind::Reject));
}

#[test]
fn an_agent_who_missed_a_call_takes_the_next_one_but_not_the_same_one() {
    let agents = vec![agent("a", &[("137", 0)])];
    let mut rig = Rig::new(vec![QueueConfig::new("137")], agents);
    rig.login("a");
    rig.arrive(1, "137", 0);
    rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    ));
    rig.arrive(2, "137", 0);
    rig.input(AcdInput::AgentUnpause("a".into()));
    let out = rig.input(AcdInput::OfferFailed {
        call: CallKey(1),
        agent: "a".into(),
    });
    assert_eq!(offers(&out), vec![offer(2, "a")]);
    rig.input(AcdInput::OfferRejected {
        call: CallKey(2),
        agent: "a".into(),
    });
    assert_eq!(rig.state("a"), AgentState::Available);
    let out = rig.advance(secs(5));
    assert_eq!(offers(&out), vec![offer(1, "a")]);
}

#[test]
fn abandon_while_ringing_withdraws_the_offer_without_a_miss() {
    let mut rig = two_agents();
    rig.arrive(1, "137", 0);
    let out = rig.input(AcdInput::CallAbandoned(CallKey(1)));
    assert_eq!(
        cancels(&out),
        vec![(1, "a".into(), CancelReason::CallerAbandoned)]
    );
    assert_eq!(rig.view("a").map(|v| v.missed_in_row), Some(0));
    assert_eq!(rig.state("a"), AgentState::Available);
    let s = rig.stats("137");
    assert_eq!((s.abandoned_today, s.abandoned_in_grace_today), (1, 1));
    // A second abandon for the same call is stale, not a second ending.
    rig.input(AcdInput::CallAbandoned(CallKey(1)));
    assert_eq!(rig.stats("137").abandoned_today, 1);
    assert_eq!(rig.acd.stale_inputs(), 1);
}

#[test]
fn the_exit_key_is_counted_apart_from_abandons() {
    let mut rig = two_agents();
    rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    ));
    rig.input(AcdInput::AgentPause(
        "b".into(),
        PauseReason::new(1, "break"),
    ));
    rig.arrive(1, "137", 0);
    let out = rig.input(AcdInput::CallExited(CallKey(1)));
    assert_eq!(log_kinds(&out), vec![QueueEventKind::Exit]);
    let s = rig.stats("137");
    assert_eq!((s.exited_today, s.abandoned_today, s.waiting), (1, 0, 0));
}

#[test]
fn nobody_waits_longer_than_max_wait() {
    let mut rig = two_agents();
    rig.input(AcdInput::AgentPause(
        "b".into(),
        PauseReason::new(1, "break"),
    ));
    rig.arrive(1, "137", 0);
    rig.accept(1, "a");
    rig.arrive(2, "137", 0);
    let out = rig.advance(secs(299));
    assert!(!out.iter().any(|o| matches!(o, AcdOutput::Overflow { .. })));
    let out = rig.advance(secs(1));
    assert!(out.contains(&AcdOutput::Overflow {
        call: CallKey(2),
        reason: OverflowReason::MaxWait
    }));
    assert_eq!(rig.stats("137").overflowed_today, 1);
}

#[test]
fn announcements_give_position_and_estimated_wait_but_not_while_ringing() {
    let slow_ring = QueueConfig {
        ring_timeout: secs(60),
        ..QueueConfig::new("137")
    };
    let mut rig = Rig::new(vec![slow_ring], vec![agent("a", &[("137", 0)])]);
    rig.login("a");
    rig.arrive(1, "137", 0); // rings a: never announced
    rig.arrive(2, "137", 0);
    rig.arrive(3, "137", 0);
    let out = rig.advance(secs(15));
    let announced: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            AcdOutput::Announce {
                call,
                position,
                estimated_wait,
            } => Some((call.0, *position, estimated_wait.as_secs())),
            _ => None,
        })
        .collect();
    // One staffed agent, default handle time 180 s: position × 180 s.
    assert!(announced.contains(&(2, 2, 360)));
    assert!(announced.contains(&(3, 3, 540)));
    assert!(!announced.iter().any(|a| a.0 == 1));
}

#[test]
fn wrap_up_is_visible_and_ends_on_its_timer() {
    let mut rig = two_agents();
    rig.arrive(1, "137", 0);
    rig.accept(1, "a");
    rig.advance(secs(60));
    let out = rig.input(AcdInput::CallEnded { call: CallKey(1) });
    let until = rig.now + secs(10);
    let wrap = AgentState::WrapUp { until };
    assert_eq!(
        changes(&out, "a"),
        vec![(wrap, None, ChangeReason::CallEnded)]
    );
    assert_eq!(rig.stats("137").agents.wrap_up, 1);
    let out = rig.advance(secs(10));
    let done = (AgentState::Available, None, ChangeReason::WrapUpEnded);
    assert_eq!(changes(&out, "a"), vec![done]);
    let aht = rig.stats("137").aht;
    assert_eq!(aht, Some(secs(70)));
}

#[test]
fn a_stale_answer_gets_its_leg_dropped() {
    let mut rig = two_agents();
    rig.arrive(1, "137", 0);
    rig.advance(secs(15)); // a timed out, b rings
    let out = rig.accept(1, "a");
    assert_eq!(
        cancels(&out),
        vec![(1, "a".into(), CancelReason::StaleAnswer)]
    );
    assert_eq!(rig.state("b"), AgentState::Offered { call: CallKey(1) });
    let out = rig.accept(1, "b");
    assert!(out.contains(&AcdOutput::Connected {
        call: CallKey(1),
        agent: "b".into()
    }));
}

/// SL = answered within 20 s / (answered + abandoned after the 5 s grace).
#[test]
fn service_level_asa_and_aht_follow_the_standard_definitions() {
    let agents = vec![agent("a", &[("137", 0)])];
    let mut rig = Rig::new(vec![QueueConfig::new("137")], agents);
    rig.login("a");
    rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    ));
    for call in 1..=4 {
        rig.arrive(call, "137", 0);
    }
    rig.advance(secs(3));
    rig.input(AcdInput::CallAbandoned(CallKey(4))); // within grace: not counted
    rig.advance(secs(7));
    rig.input(AcdInput::AgentUnpause("a".into())); // offers call 1 at 10 s
    rig.accept(1, "a");
    rig.advance(secs(30));
    rig.input(AcdInput::CallAbandoned(CallKey(3))); // after grace: counted
    rig.input(AcdInput::CallEnded { call: CallKey(1) });
    rig.input(AcdInput::AgentEndWrapUp("a".into())); // offers call 2 at 40 s
    rig.accept(2, "a");
    let s = rig.stats("137");
    assert_eq!(
        (s.offered_today, s.answered_today, s.abandoned_today),
        (4, 2, 2)
    );
    assert_eq!(s.answered_within_threshold_today, 1);
    assert_eq!(s.service_level, Some(1.0 / 3.0));
    assert_eq!(s.asa, Some(secs(25)));
    assert_eq!(s.aht, Some(secs(30)));
}

#[test]
fn statistics_are_none_before_any_call_and_reset_daily_keeps_waiting_calls() {
    let mut rig = two_agents();
    let s = rig.stats("137");
    assert_eq!((s.service_level, s.asa, s.aht), (None, None, None));
    rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    ));
    rig.input(AcdInput::AgentPause(
        "b".into(),
        PauseReason::new(1, "break"),
    ));
    rig.arrive(1, "137", 0);
    rig.arrive(2, "137", 0);
    rig.input(AcdInput::CallAbandoned(CallKey(2)));
    rig.acd.reset_daily();
    let s = rig.stats("137");
    assert_eq!((s.offered_today, s.abandoned_today, s.waiting), (1, 0, 1));
    rig.input(AcdInput::CallExited(CallKey(1)));
    assert_eq!(rig.stats("137").exited_today, 1);
}

#[test]
fn the_wallboard_lists_waiting_calls_with_their_wait_and_ringing_agent() {
    let mut rig = two_agents();
    rig.input(AcdInput::AgentPause(
        "b".into(),
        PauseReason::new(1, "break"),
    ));
    rig.arrive(1, "137", 0);
    rig.advance(secs(4));
    rig.arrive(2, "137", 0);
    rig.advance(secs(2));
    let list = rig.acd.waiting_calls(rig.now);
    let summary: Vec<_> = list
        .iter()
        .map(|w| (w.call.0, w.position, w.waited.as_secs(), w.ringing.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![(1, 1, 6, vec!["a".to_owned()]), (2, 2, 2, vec![])]
    );
    assert_eq!(rig.stats("137").longest_wait, secs(6));
    assert_eq!(list[0].caller, "09120000001");
}

/// An agent serving three queues takes one call at a time: the wallboard counts it talking in
/// the queue of the call, and busy elsewhere in the other two, never as three calls.
#[test]
fn an_agent_of_three_queues_counts_once_per_call() {
    let queues = ["137", "1888", "zoning"];
    let agents = vec![
        agent("a", &[("137", 0), ("1888", 0), ("zoning", 0)]),
        agent("b", &[("137", 0)]),
    ];
    let mut rig = Rig::new(
        queues.iter().map(|q| QueueConfig::new(*q)).collect(),
        agents,
    );
    rig.login("a");
    rig.advance(secs(1));
    rig.login("b");
    rig.arrive(1, "1888", 0);
    let counts = |rig: &Rig| queues.map(|q| rig.stats(q).agents);
    let [in_137, in_1888, in_zoning] = counts(&rig);
    assert_eq!((in_1888.offered, in_1888.busy_elsewhere), (1, 0));
    assert_eq!(
        (in_137.offered, in_137.busy_elsewhere, in_137.available),
        (0, 1, 1)
    );
    assert_eq!((in_zoning.offered, in_zoning.busy_elsewhere), (0, 1));
    rig.accept(1, "a");
    let on_call: u32 = counts(&rig).iter().map(|c| c.on_call).sum();
    assert_eq!(on_call, 1, "one conversation, counted once");
    assert_eq!(rig.stats("1888").agents.on_call, 1);
    assert_eq!(rig.stats("zoning").agents.busy_elsewhere, 1);
    rig.input(AcdInput::CallEnded { call: CallKey(1) });
    let wrap_up: u32 = counts(&rig).iter().map(|c| c.wrap_up).sum();
    assert_eq!((wrap_up, rig.stats("1888").agents.wrap_up), (1, 1));
    assert_eq!(rig.stats("137").agents.busy_elsewhere, 1);
    for (queue, members) in [("137", 2), ("1888", 1), ("zoning", 1)] {
        assert_eq!(rig.stats(queue).agents.total(), members, "{queue}");
    }
    rig.advance(secs(10)); // wrap-up over: available in all three again
    assert_eq!(counts(&rig).map(|c| c.available), [2, 1, 1]);
}

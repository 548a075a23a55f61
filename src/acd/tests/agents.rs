//! Agent state machine rules: every request in the states where it is awkward, pending requests,
//! refusals, removal, and save/restore across a restart.

use super::support::*;
use crate::acd::*;

fn one_agent() -> Rig {
    Rig::new(
        vec![QueueConfig::new("137")],
        vec![agent("a", &[("137", 0)])],
    )
}

fn brk() -> PauseReason {
    PauseReason::new(1, "break")
}

/// Logs `a` in and puts them on call 1.
fn on_call() -> Rig {
    let mut rig = one_agent();
    rig.login("a");
    rig.arrive(1, "137", 0);
    rig.accept(1, "a");
    rig
}

#[test]
fn requests_that_cannot_apply_are_refused_not_dropped() {
    let mut rig = one_agent();
    let refused = |request, refusal| AcdOutput::Refused {
        agent: "a".into(),
        request,
        refusal,
    };
    let out = rig.input(AcdInput::AgentPause("a".into(), brk()));
    assert_eq!(
        out,
        vec![refused(AgentRequest::Pause, Refusal::NotLoggedIn)]
    );
    let out = rig.input(AcdInput::AgentLogout("a".into()));
    assert_eq!(
        out,
        vec![refused(AgentRequest::Logout, Refusal::NotLoggedIn)]
    );
    rig.login("a");
    let out = rig.login("a");
    assert_eq!(
        out,
        vec![refused(AgentRequest::Login, Refusal::AlreadyLoggedIn)]
    );
    let out = rig.input(AcdInput::AgentUnpause("a".into()));
    assert_eq!(
        out,
        vec![refused(AgentRequest::Unpause, Refusal::NotPaused)]
    );
    let out = rig.input(AcdInput::AgentEndWrapUp("a".into()));
    assert_eq!(
        out,
        vec![refused(AgentRequest::EndWrapUp, Refusal::NotInWrapUp)]
    );
    let out = rig.input(AcdInput::AgentLogin("ghost".into()));
    assert!(matches!(
        out.as_slice(),
        [AcdOutput::Refused {
            refusal: Refusal::UnknownAgent,
            ..
        }]
    ));
}

#[test]
fn pause_and_unpause_carry_the_reason() {
    let mut rig = one_agent();
    rig.login("a");
    let lunch = PauseReason::standard(2);
    assert_eq!(lunch, Some(PauseReason::new(2, "lunch")));
    let Some(lunch) = lunch else { return };
    let out = rig.input(AcdInput::AgentPause("a".into(), lunch.clone()));
    let paused = AgentState::Paused { reason: lunch };
    assert_eq!(
        changes(&out, "a"),
        vec![(paused, None, ChangeReason::Pause)]
    );
    assert_eq!(log_kinds(&out), vec![QueueEventKind::Pause]);
    let out = rig.input(AcdInput::AgentUnpause("a".into()));
    let back = (AgentState::Available, None, ChangeReason::Unpause);
    assert_eq!(changes(&out, "a"), vec![back]);
}

#[test]
fn pause_during_a_call_is_pending_and_applies_after_wrap_up() {
    let mut rig = on_call();
    let out = rig.input(AcdInput::AgentPause("a".into(), brk()));
    let on_call = AgentState::OnCall { call: CallKey(1) };
    let pending = Some(Pending::Pause(brk()));
    assert_eq!(
        changes(&out, "a"),
        vec![(on_call, pending.clone(), ChangeReason::PendingSet)]
    );
    assert_eq!(rig.view("a").and_then(|v| v.pending), pending);
    rig.arrive(2, "137", 0);
    let out = rig.input(AcdInput::CallEnded { call: CallKey(1) });
    assert!(matches!(rig.state("a"), AgentState::WrapUp { .. }));
    assert!(changes(&out, "a").iter().all(|c| c.1 == pending));
    let out = rig.advance(secs(10));
    let paused = AgentState::Paused { reason: brk() };
    assert_eq!(
        changes(&out, "a"),
        vec![(paused, None, ChangeReason::Pause)]
    );
    assert!(
        offers(&out).is_empty(),
        "a paused agent is not offered call 2"
    );
}

#[test]
fn unpause_during_a_call_takes_back_the_pending_pause() {
    let mut rig = on_call();
    rig.input(AcdInput::AgentPause("a".into(), brk()));
    let out = rig.input(AcdInput::AgentUnpause("a".into()));
    let on_call = AgentState::OnCall { call: CallKey(1) };
    assert_eq!(
        changes(&out, "a"),
        vec![(on_call, None, ChangeReason::PendingCleared)]
    );
    rig.input(AcdInput::CallEnded { call: CallKey(1) });
    rig.advance(secs(10));
    assert_eq!(rig.state("a"), AgentState::Available);
}

#[test]
fn logout_during_a_call_applies_when_the_call_ends_without_wrap_up() {
    let mut rig = on_call();
    rig.advance(secs(30));
    let out = rig.input(AcdInput::AgentLogout("a".into()));
    assert_eq!(changes(&out, "a")[0].1, Some(Pending::Logout));
    let out = rig.input(AcdInput::CallEnded { call: CallKey(1) });
    let last = changes(&out, "a").pop();
    assert_eq!(
        last,
        Some((AgentState::LoggedOut, None, ChangeReason::Logout))
    );
    assert_eq!(rig.stats("137").aht, Some(secs(30)));
}

#[test]
fn logging_in_again_during_the_call_cancels_the_pending_logout() {
    let mut rig = on_call();
    rig.input(AcdInput::AgentLogout("a".into()));
    rig.login("a");
    assert_eq!(rig.view("a").and_then(|v| v.pending), None);
}

#[test]
fn logout_in_wrap_up_ends_it_at_once_and_counts_the_handle_time() {
    let mut rig = on_call();
    rig.advance(secs(20));
    rig.input(AcdInput::CallEnded { call: CallKey(1) });
    rig.advance(secs(4));
    let out = rig.input(AcdInput::AgentLogout("a".into()));
    assert_eq!(
        log_kinds(&out),
        vec![QueueEventKind::WrapUpEnd, QueueEventKind::Logout]
    );
    assert_eq!(rig.stats("137").aht, Some(secs(24)));
    assert_eq!(rig.acd.poll_timeout(), None, "no orphaned wrap-up timer");
}

#[test]
fn end_wrap_up_early_frees_the_agent_for_the_next_call() {
    let mut rig = on_call();
    rig.input(AcdInput::CallEnded { call: CallKey(1) });
    rig.arrive(2, "137", 0);
    let out = rig.input(AcdInput::AgentEndWrapUp("a".into()));
    assert_eq!(offers(&out), vec![offer(2, "a")]);
}

#[test]
fn pausing_while_ringing_withdraws_the_offer_without_a_miss() {
    let agents = vec![agent("a", &[("137", 0)]), agent("b", &[("137", 0)])];
    let mut rig = Rig::new(vec![QueueConfig::new("137")], agents);
    rig.login("a");
    rig.advance(secs(1));
    rig.login("b");
    rig.arrive(1, "137", 0);
    let out = rig.input(AcdInput::AgentPause("a".into(), brk()));
    assert_eq!(
        cancels(&out),
        vec![(1, "a".into(), CancelReason::AgentPaused)]
    );
    assert_eq!(offers(&out), vec![offer(1, "b")]);
    assert_eq!(rig.view("a").map(|v| v.missed_in_row), Some(0));
}

#[test]
fn an_unreachable_phone_logs_the_agent_out() {
    let mut rig = one_agent();
    rig.login("a");
    rig.input(AcdInput::AgentPause("a".into(), brk()));
    rig.arrive(1, "137", 0);
    let out = rig.input(AcdInput::AgentUnreachable("a".into()));
    let gone = (AgentState::LoggedOut, None, ChangeReason::Unreachable);
    assert_eq!(changes(&out, "a"), vec![gone]);
    assert!(out.contains(&AcdOutput::Overflow {
        call: CallKey(1),
        reason: OverflowReason::NoAgents
    }));
    // During a call the logout waits for the call's end.
    let mut rig = on_call();
    rig.input(AcdInput::AgentUnreachable("a".into()));
    assert_eq!(rig.view("a").and_then(|v| v.pending), Some(Pending::Logout));
}

#[test]
fn removing_an_agent_on_a_call_waits_for_the_call() {
    let mut rig = on_call();
    rig.input(AcdInput::AgentRemoved("a".into()));
    assert_eq!(rig.view("a").and_then(|v| v.pending), Some(Pending::Remove));
    let out = rig.input(AcdInput::CallEnded { call: CallKey(1) });
    let last = changes(&out, "a").pop();
    assert_eq!(
        last,
        Some((AgentState::LoggedOut, None, ChangeReason::Removed))
    );
    assert!(rig.view("a").is_none());
    assert_eq!(rig.stats("137").agents.total(), 0);
}

#[test]
fn a_new_agent_is_announced_logged_out() {
    let mut rig = one_agent();
    let out = rig.input(AcdInput::AgentConfigured(agent("n", &[("137", 1)])));
    let fresh = (AgentState::LoggedOut, None, ChangeReason::Configured);
    assert_eq!(changes(&out, "n"), vec![fresh]);
    assert_eq!(rig.stats("137").agents.logged_out, 2);
}

#[test]
fn restore_rules_keep_what_the_agent_chose_and_drop_calls() {
    let snap = |state, pending| AgentSnapshot {
        id: "a".into(),
        state,
        pending,
    };
    let paused = AgentState::Paused { reason: brk() };
    let cases = [
        (snap(AgentState::LoggedOut, None), AgentState::LoggedOut),
        (snap(paused.clone(), None), paused.clone()),
        (snap(AgentState::Available, None), AgentState::Available),
        (
            snap(AgentState::Offered { call: CallKey(7) }, None),
            AgentState::Available,
        ),
        (
            snap(AgentState::OnCall { call: CallKey(7) }, None),
            AgentState::Available,
        ),
        (
            snap(AgentState::WrapUp { until: secs(9) }, None),
            AgentState::Available,
        ),
        (
            snap(
                AgentState::OnCall { call: CallKey(7) },
                Some(Pending::Pause(brk())),
            ),
            paused,
        ),
        (
            snap(
                AgentState::OnCall { call: CallKey(7) },
                Some(Pending::Logout),
            ),
            AgentState::LoggedOut,
        ),
    ];
    for (saved, expected) in cases {
        assert_eq!(restored_state(&saved), expected, "{saved:?}");
        let mut rig = one_agent();
        assert_eq!(rig.acd.restore_agent(&saved, rig.now), Ok(expected.clone()));
        rig.drain();
        assert_eq!(rig.state("a"), expected);
    }
}

#[test]
fn a_snapshot_survives_a_restart_and_busy_agents_are_not_overwritten() {
    let mut rig = on_call();
    rig.input(AcdInput::AgentPause("a".into(), brk()));
    let saved = rig.acd.agent_snapshot();
    assert_eq!(saved[0].pending, Some(Pending::Pause(brk())));
    assert_eq!(
        rig.acd.restore_agent(&saved[0], rig.now),
        Err(AcdError::AgentBusy("a".into()))
    );
    let mut restarted = one_agent();
    for s in &saved {
        assert!(restarted.acd.restore_agent(s, restarted.now).is_ok());
    }
    restarted.drain();
    assert_eq!(restarted.state("a"), AgentState::Paused { reason: brk() });
    let ghost = AgentSnapshot {
        id: "ghost".into(),
        ..saved[0].clone()
    };
    let unknown = restarted.acd.restore_agent(&ghost, restarted.now);
    assert_eq!(unknown, Err(AcdError::UnknownAgent("ghost".into())));
}

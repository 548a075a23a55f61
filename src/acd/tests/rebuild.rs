//! Today's figures rebuilt from the queue log after a restart: replaying the rows a running
//! machine wrote gives a fresh machine the same counters.

use super::support::*;
use crate::acd::*;

/// One queue-log row as the store keeps it.
struct Row {
    queue: Option<String>,
    /// As `call_ref`: a text identity.
    call: Option<String>,
    agent: Option<String>,
    kind: String,
    detail: String,
}

fn row(queue: Option<&str>, agent: Option<&str>, kind: &str, detail: &str) -> Row {
    Row {
        queue: queue.map(Into::into),
        call: None,
        agent: agent.map(Into::into),
        kind: kind.into(),
        detail: detail.into(),
    }
}

/// The queue-log rows in `out`, as the store would give them back.
fn logged(out: &[AcdOutput]) -> Vec<Row> {
    out.iter()
        .filter_map(|o| match o {
            AcdOutput::QueueLog(e) => Some(Row {
                queue: e.queue.clone(),
                call: e.call.map(|c| format!("ref-{}", c.0)),
                agent: e.agent.clone(),
                kind: e.kind.as_str().to_owned(),
                detail: e.detail.clone(),
            }),
            _ => None,
        })
        .collect()
}

fn replay(acd: &mut Acd, rows: &[Row]) {
    acd.rebuild_today(rows.iter().map(|r| LoggedEvent {
        queue: r.queue.as_deref(),
        call: r.call.as_deref(),
        agent: r.agent.as_deref(),
        kind: &r.kind,
        detail: &r.detail,
    }));
}

/// The day's figures, without what belongs to the moment (waiting calls, agents' states).
fn day_figures(s: &QueueStats) -> QueueStats {
    QueueStats {
        waiting: 0,
        ringing: 0,
        longest_wait: secs(0),
        agents: AgentCounts::default(),
        ..s.clone()
    }
}

fn one_agent_two_queues() -> Rig {
    let agents = vec![agent("a", &[("137", 0), ("1888", 0)])];
    Rig::new(
        vec![QueueConfig::new("137"), QueueConfig::new("1888")],
        agents,
    )
}

#[test]
fn a_restart_rebuilds_every_figure_of_the_day_from_the_queue_log() {
    let mut rig = one_agent_two_queues();
    let mut out = rig.login("a");
    out.extend(rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    )));
    for call in 1..=5 {
        out.extend(rig.arrive(call, "137", 0));
    }
    out.extend(rig.arrive(6, "1888", 0));
    out.extend(rig.advance(secs(3)));
    out.extend(rig.input(AcdInput::CallAbandoned(CallKey(4)))); // within the grace
    out.extend(rig.advance(secs(7)));
    out.extend(rig.input(AcdInput::CallExited(CallKey(5))));
    out.extend(rig.input(AcdInput::AgentUnpause("a".into()))); // offers call 1 at 10 s
    out.extend(rig.accept(1, "a"));
    out.extend(rig.advance(secs(30)));
    out.extend(rig.input(AcdInput::CallAbandoned(CallKey(3)))); // after the grace
    out.extend(rig.input(AcdInput::CallEnded { call: CallKey(1) }));
    out.extend(rig.advance(secs(10))); // wrap-up ends on its timer; call 2 rings
    out.extend(rig.accept(2, "a"));
    out.extend(rig.advance(secs(20)));
    out.extend(rig.input(AcdInput::CallEnded { call: CallKey(2) }));
    out.extend(rig.advance(secs(10)));
    out.extend(rig.accept(6, "a"));
    out.extend(rig.advance(secs(400))); // the 1888 call talks on; nobody waits
    let before: Vec<QueueStats> = rig.acd.stats(rig.now).iter().map(day_figures).collect();
    assert_eq!(before[0].offered_today, 5);
    assert_eq!(before[0].completed_today, 2);

    let mut restarted = one_agent_two_queues();
    replay(&mut restarted.acd, &logged(&out));
    let after: Vec<QueueStats> = restarted
        .acd
        .stats(secs(0))
        .iter()
        .map(day_figures)
        .collect();
    // Call 6 was being answered when the engine stopped: answered, not completed, the same as
    // the running machine showed.
    assert_eq!(after, before);
    assert_eq!(restarted.view("a").map(|v| v.answered_today), Some(3));
}

#[test]
fn a_call_cut_off_while_waiting_counts_as_abandoned_and_a_carried_over_one_as_offered() {
    let mut rig = one_agent_two_queues();
    let mut out = rig.login("a");
    out.extend(rig.input(AcdInput::AgentPause(
        "a".into(),
        PauseReason::new(1, "break"),
    )));
    out.extend(rig.arrive(1, "137", 0));
    out.extend(rig.arrive(2, "137", 0));
    let yesterday = logged(&out);
    rig.acd.reset_daily();
    out.clear();
    out.extend(rig.advance(secs(30)));
    out.extend(rig.input(AcdInput::CallExited(CallKey(1))));
    out.extend(rig.arrive(3, "137", 0));
    // The engine dies here: calls 2 and 3 wait with no outcome written.
    let today = logged(&out);
    assert!(!yesterday.is_empty());

    let mut restarted = one_agent_two_queues();
    replay(&mut restarted.acd, &today);
    let s = restarted.stats("137");
    // Today: call 1 (carried over, then exited) and call 3 (entered, then cut off). Call 2
    // entered yesterday and has no row today: it belongs to yesterday.
    assert_eq!(
        (
            s.offered_today,
            s.exited_today,
            s.abandoned_today,
            s.abandoned_in_grace_today
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(
        s.offered_today,
        s.answered_today + s.abandoned_today + s.exited_today + s.overflowed_today
    );
}

#[test]
fn rows_of_other_queues_agents_or_unknown_kinds_change_nothing() {
    let mut restarted = one_agent_two_queues();
    let rows = vec![
        Row {
            call: Some("r1".into()),
            ..row(Some("gone"), None, "enter", "")
        },
        row(None, Some("a"), "login", ""),
        row(Some("137"), None, "no_such_kind", ""),
        row(Some("137"), None, "answer", "wait_ms=oops"),
    ];
    replay(&mut restarted.acd, &rows);
    let s = restarted.stats("137");
    // An answer with an unreadable wait still counts, as within the threshold (wait 0).
    assert_eq!((s.offered_today, s.answered_today), (0, 1));
    assert_eq!(restarted.stats("1888").offered_today, 0);
}

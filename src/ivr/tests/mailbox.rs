//! The managers' mailbox tree (`ivr-flows/mailbox.yaml`) through the simulator: every path of
//! its scenarios, and a hang-up at every step of each, checking the staff-flow rules: no
//! message is ever filed, and every reply take is either sent or discarded.

use super::scenarios::{on, Scenario};
use super::{real_flows, transcript};

/// The mailbox's scenarios (the demo mailbox 501, PIN 5011, holds two messages).
pub(super) fn scenarios() -> Vec<Scenario> {
    let m = |name: &str, keys: &str, expect: &[&str]| on("mailbox", name, keys, "none", expect);
    vec![
        m(
            "a full session: reply, listen, send; mark the second handled",
            "501# 5011# 1 # 3 1 9",
            &[
                "node login (mailbox_login)",
                "play mailbox/enter_mailbox",
                "caller keys 501#",
                "play mailbox/enter_pin",
                "caller keys 5011#",
                "verify manager: mailbox 501: accepted, 2 messages",
                "node messages (mailbox)",
                "play mailbox/you_have",
                "play num/1",
                "play mailbox/new_messages",
                "audit: listened to 00000072",
                "play mailbox/message_of",
                "play ord/",
                "play mailbox/line_1888",
                "play mailbox/kind_complaint",
                "(recording demo-citizen-7)",
                "play mailbox/item_menu",
                "play mailbox/reply_instructions",
                "play beep",
                "record reply: max 180 s",
                "take saved as sim-rec-1",
                "play mailbox/reply_review",
                "caller keys 3",
                "(recording sim-rec-1)",
                "caller keys 1",
                "send reply sim-rec-1 to",
                "play mailbox/reply_sent",
                "play mailbox/line_137",
                "play mailbox/kind_urban_problem",
                "(recording demo-citizen-8)",
                "caller keys 9",
                "handled: saved",
                "play mailbox/marked_handled",
                "play mailbox/no_more_messages",
                "node goodbye (hangup)",
                "flow hangs up",
            ],
        )
        .absent(&["discard recording"]),
        m(
            "three wrong PINs say goodbye",
            "501# 1111# 501# 2222# 501# 3333#",
            &[
                "verify manager: mailbox 501: wrong",
                "play mailbox/login_wrong",
                "play mailbox/enter_mailbox",
                "verify manager: mailbox 501: wrong",
                "verify manager: mailbox 501: wrong",
                "play mailbox/login_wrong",
                "node goodbye (hangup)",
            ],
        )
        .absent(&["node messages"]),
        m(
            "silence at the login spends the tries",
            "",
            &[
                "timeout first_digit at login",
                "play ivr/no_input",
                "timeout first_digit at login",
                "timeout first_digit at login",
                "node goodbye (hangup)",
            ],
        ),
        m(
            "re-record discards the first take; the store fails once, then saves",
            "501# 5011# 1 # 2 # 1 save:fail 1",
            &[
                "take saved as sim-rec-1",
                "caller keys 2",
                "discard recording",
                "play mailbox/reply_instructions",
                "take saved as sim-rec-2",
                "send reply sim-rec-2 to 00000072: not saved",
                "play mailbox/not_saved",
                "play mailbox/reply_review",
                "send reply sim-rec-2 to 00000072: saved",
                "play mailbox/reply_sent",
            ],
        ),
        m(
            "next, previous, repeat and a wrong key",
            "501# 5011# 2 4 3 7 2 2",
            &[
                "(recording demo-citizen-7)",
                "caller keys 2",
                "(recording demo-citizen-8)",
                "caller keys 4",
                "(recording demo-citizen-7)",
                "caller keys 3",
                "(recording demo-citizen-7)",
                "caller keys 7",
                "play ivr/invalid_key",
                "caller keys 2",
                "(recording demo-citizen-8)",
                "play mailbox/no_more_messages",
            ],
        ),
        m(
            "a silent item menu says goodbye after two re-prompts",
            "501# 5011#",
            &[
                "timeout no_input at messages",
                "play ivr/no_input",
                "timeout no_input at messages",
                "timeout no_input at messages",
                "node goodbye (hangup)",
            ],
        ),
        m(
            "hanging up while recording a reply discards it",
            "501# 5011# 1 hangup",
            &[
                "record reply",
                "caller hangs up while recording",
                "discard recording",
            ],
        ),
        m(
            "an empty reply take is discarded",
            "501# 5011# 1 ~ 2",
            &[
                "caller says nothing",
                "discard recording",
                "play ivr/record_empty",
                "play mailbox/item_menu",
            ],
        ),
        m(
            "a silent review discards the unsent reply",
            "501# 5011# 1 #",
            &[
                "play mailbox/reply_review",
                "timeout no_input at messages",
                "timeout no_input at messages",
                "timeout no_input at messages",
                "node goodbye (hangup)",
                "discard recording",
                "flow hangs up",
            ],
        ),
    ]
}

fn count(log: &[String], needle: &str) -> usize {
    log.iter().filter(|l| l.contains(needle)).count()
}

/// The staff-flow rules: nothing filed, the call ends, and every reply take saved is either
/// sent (saved by the store) or discarded, never left behind.
fn staff_rules(log: &[String]) -> Result<(), String> {
    if log.iter().any(|l| l.starts_with("file:")) {
        return Err("a mailbox call filed a message".into());
    }
    if log.last().map(String::as_str) != Some("call finished") {
        return Err("the call did not finish".into());
    }
    // Every reply recorder started yields one take (saved, or cut off by a hang-up).
    let takes = count(log, "record reply:");
    let sent = log
        .iter()
        .filter(|l| l.starts_with("send reply") && l.ends_with(": saved"))
        .count();
    let discarded = count(log, "discard recording");
    // A reply handed to the store when the caller hung up is the store's: it may be committing
    // it, so the run leaves it alone (a file the store did not keep is start-up recovery's).
    let in_flight = log
        .windows(2)
        .filter(|w| w[0].starts_with("send reply") && w[1].starts_with("caller hangs up"))
        .filter(|w| !w[0].ends_with(": saved"))
        .count();
    if takes != sent + discarded + in_flight {
        return Err(format!(
            "{takes} reply takes, {sent} sent and {discarded} discarded"
        ));
    }
    Ok(())
}

#[test]
fn every_mailbox_scenario_follows_its_path_and_files_nothing() {
    let flows = real_flows();
    let mut failures = Vec::new();
    for s in scenarios() {
        let log = transcript(&flows, &s, None);
        let show = || {
            format!(
                "scenario `{}` ({:?}):\n  {}",
                s.name,
                s.keys,
                log.join("\n  ")
            )
        };
        if let Err(e) = staff_rules(&log) {
            failures.push(format!("{e}; {}", show()));
            continue;
        }
        let mut lines = log.iter();
        if let Some(missing) = s
            .expect
            .iter()
            .find(|e| !lines.any(|l| l.contains(e.as_str())))
        {
            failures.push(format!("missing (in order) `{missing}`; {}", show()));
        }
        if let Some(present) = s
            .absent
            .iter()
            .find(|a| log.iter().any(|l| l.contains(a.as_str())))
        {
            failures.push(format!("unexpected `{present}`; {}", show()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_hang_up_at_any_step_of_the_mailbox_files_nothing_and_leaves_no_reply_take() {
    let flows = real_flows();
    let mut failures = Vec::new();
    for s in scenarios() {
        for step in 0..1_000 {
            let log = transcript(&flows, &s, Some(step));
            if !log.iter().any(|l| l.starts_with("caller hangs up at step")) {
                break;
            }
            if let Err(e) = staff_rules(&log) {
                failures.push(format!(
                    "`{}` hang-up at step {step}: {e}:\n  {}",
                    s.name,
                    log.join("\n  ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

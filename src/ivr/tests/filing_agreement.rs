//! `flows simulate` and the engine agree on tracking codes: for every golden path, and a
//! hang-up at every step of each, the simulator prints a code exactly when the engine's filing
//! stages (`engine::filings::Filings`) and the real store give the message one.

use super::scenarios::scenarios;
use super::{filed_kind, real_flows, transcript};
use crate::engine::filings::Filings;
use crate::engine::{CallKey, FilingStage, NewMessage};
use crate::store::test_support::TempDir;
use crate::store::Store;

/// The filings the engine makes for a call whose transcript is `log`: the opening as it enters
/// its first queue, then the flow's one message, with the stages `Filings` decides.
fn engine_filings(call: u64, log: &[String]) -> Vec<NewMessage> {
    let key = CallKey(call);
    let kind = filed_kind(log).unwrap_or_default();
    let message = |kind: &str, stage| NewMessage {
        call_ref: format!("call-{call}"),
        call_id: format!("sim-{call}"),
        line: "1888".into(),
        kind: kind.to_owned(),
        district: None,
        category: None,
        case_number: None,
        caller: "09121234567".into(),
        recording: None,
        created_at: 0,
        stage,
    };
    let mut filings = Filings::default();
    let mut sent = Vec::new();
    if log.iter().any(|l| l.starts_with("enqueue ")) {
        // As `engine::app::queue`: the first queue opens the message, which the store saves.
        if filings.stage(key) == Some(FilingStage::Whole) {
            sent.push(message(&kind, FilingStage::Open));
            filings.opening_sent(key);
            filings.opened(key, true, None);
        }
    }
    if let Some(stage) = filings.stage(key) {
        sent.push(message(&kind, stage));
    }
    sent
}

fn simulator_gave_code(log: &[String]) -> Option<bool> {
    log.iter().find_map(|l| {
        if l.starts_with("filed: tracking code ") {
            Some(true)
        } else if l == "filed: no tracking code" {
            Some(false)
        } else {
            None
        }
    })
}

#[tokio::test]
async fn the_simulator_prints_a_tracking_code_exactly_when_the_engine_gives_one() {
    let flows = real_flows();
    let mut runs = Vec::new();
    for s in scenarios() {
        runs.push((
            format!("`{}` on {}", s.name, s.line),
            transcript(&flows, &s, None),
        ));
        for step in 0..1_000 {
            let log = transcript(&flows, &s, Some(step));
            if !log.iter().any(|l| l.starts_with("caller hangs up at step")) {
                break;
            }
            runs.push((
                format!("`{}` on {}, hang-up at step {step}", s.name, s.line),
                log,
            ));
        }
    }
    let dir = TempDir::new("simulate-agrees");
    let store = match Store::open(dir.path()).await {
        Ok(store) => store,
        Err(error) => panic!("cannot open the store: {error}"),
    };
    // Every call's filings in one transaction: the store answers each with its code, the last
    // answer of a call being its message's.
    let mut batch = Vec::new();
    let mut last_of_call = Vec::new();
    for (call, (_, log)) in runs.iter().enumerate() {
        batch.extend(engine_filings(call as u64, log));
        last_of_call.push(batch.len() - 1);
    }
    let codes = match store.file_messages(&batch).await {
        Ok(codes) => codes,
        Err(error) => panic!("cannot file: {error}"),
    };
    store.close().await;
    let mut failures = Vec::new();
    let (mut with_code, mut without) = (0, 0);
    for ((name, log), last) in runs.iter().zip(last_of_call) {
        let engine = codes.get(last).is_some_and(Option::is_some);
        if engine {
            with_code += 1;
        } else {
            without += 1;
        }
        // A caller is never read a code the message does not have.
        let code_read = log
            .iter()
            .skip_while(|l| !l.starts_with("filed:"))
            .any(|l| l.contains("ivr/tracking_code_is"));
        if code_read && !engine {
            failures.push(format!(
                "{name}: a code is read out but the message has none"
            ));
        }
        if simulator_gave_code(log) != Some(engine) {
            failures.push(format!(
                "{name}: the engine gives {}; the simulator says:\n  {}",
                if engine { "a code" } else { "no code" },
                log.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Both outcomes occur, so the comparison is not trivially one-sided.
    assert!(
        with_code > 0 && without > 0,
        "{with_code} with, {without} without"
    );
}

//! `ivr_flow`: bytes as a flow file, through `ivr::flow::load_flow` (YAML, node reading,
//! hours, and the whole-flow checks).
//!
//! Why: flow files are written by hand by the municipality's staff and loaded at start-up and by
//! `pasokh flows check`; a typo must come back as a numbered error, never a panic at start-up.
//! Half the prompts are said to exist, so the loader's prompt checks run both ways. Invariants: a
//! flow that loads has its start node among its nodes; every error names a line inside the file
//! (or 0 for the file as a whole).

use crate::ivr::load_flow;

pub fn ivr_flow(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let prompt_exists = |name: &str| name.len().is_multiple_of(2);
    let queues = ["complaints".to_string(), "general".to_string()];
    for exists in [&prompt_exists as &dyn Fn(&str) -> bool, &|_: &str| true] {
        match load_flow("fuzz.yaml", text, exists, &queues) {
            Ok(flow) => assert!(
                flow.node(&flow.start).is_some(),
                "a flow loaded with a start node it does not have"
            ),
            Err(errors) => {
                assert!(!errors.is_empty(), "a flow refused without an error");
                let lines = text.lines().count() + 1;
                for error in &errors {
                    assert!(
                        error.line <= lines,
                        "an error names line {} of a {lines}-line file: {error:?}",
                        error.line
                    );
                }
            }
        }
    }
}

//! Which call-takers may see a message: the engine names the agent it connected to a call's
//! message, so the store can limit an agent's token to the messages of its own calls.

use super::acd::{acd_harness, answer, caller_in_queue, invites_to_agents};
use crate::engine::*;

fn links(h: &tests::Harness) -> Vec<(String, String)> {
    h.store
        .iter()
        .filter_map(|c| match c {
            StoreCommand::Write(StoreWrite::AgentConnected {
                tracking_code,
                agent,
                ..
            }) => Some((tracking_code.clone(), agent.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_agent_connected_to_a_call_is_linked_to_its_message_and_only_then() {
    let mut h = acd_harness(&["2001", "2002"]);
    caller_in_queue(&mut h);
    let offers = invites_to_agents(&h);
    assert!(!offers.is_empty(), "the call is offered");
    assert_eq!(links(&h), vec![], "ringing links nothing");
    let offer = &offers[0];
    let agent = offer
        .uri
        .strip_prefix("sip:")
        .and_then(|rest| rest.split('@').next())
        .unwrap_or_default()
        .to_string();
    let code = offer
        .headers
        .get("X-Pasokh-Tracking-Code")
        .unwrap_or_default()
        .to_string();
    answer(&mut h, offer, 200);
    assert_eq!(links(&h), vec![(code, agent)]);
}

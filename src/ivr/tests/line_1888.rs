//! Golden scenarios of the 1888 tree's own nodes: leaving a message (to a call-taker, in and
//! out of hours, as a voice message), the call-taker key, and the recording review.

use super::scenarios::{on, Scenario};

pub(super) fn scenarios_1888() -> Vec<Scenario> {
    let mut s =
        vec![
        on(
            "1888",
            "criticism to a call-taker",
            "1 1",
            "criticism",
            &[
                "node message_kind",
                "menu message_kind: key 1",
                "node message_hours",
                "node message_agent",
                "enqueue 1888: Answered",
                "node to_agent",
                "file: line 1888 kind criticism district - category - case - recording -",
            ],
        ),
        on(
            "1888",
            "suggestion out of hours: voice message kept",
            "1 2 # 1",
            "suggestion",
            &[
                "node message_closed",
                "play ivr/office_closed",
                "node voice_message",
                "play ivr/record_instructions",
                "play beep",
                "record: max 180 s, silence 5 s, end key #",
                "caller speaks, then keys #",
                "stop recording",
                "take saved as sim-rec-1",
                "play ivr/record_review",
                "caller keys 1",
                "node voice_file",
                "file: line 1888 kind suggestion district - category - case - recording sim-rec-1",
                "filed: tracking code",
                "node voice_code",
                "play ivr/message_saved",
                "play ivr/tracking_code_is",
                "play digit/",
                "play ivr/repeat_code",
                "play digit/",
                "play ivr/keep_code",
                // The test caller's number is a mobile one: the result is promised by text.
                "play ivr/result_by_sms",
                "node goodbye",
                "play ivr/goodbye",
                "flow hangs up",
            ],
        )
        .closed(),
        on(
            "1888",
            "complaint, queue full, re-recorded",
            "1 3 q:overflow # 2 _ 1",
            "complaint",
            &[
                "enqueue 1888: Overflow",
                "node message_busy",
                "play ivr/agents_busy_message",
                "caller speaks, then keys #",
                "take saved as sim-rec-1",
                "caller keys 2",
                "discard recording",
                "play ivr/record_instructions",
                "caller speaks, then falls silent",
                "take saved as sim-rec-2",
                "recording sim-rec-2",
            ],
        ),
        on(
            "1888",
            "appreciation, no call-takers, silence keeps the message",
            "1 4 q:no_agents #",
            "appreciation",
            &[
                "enqueue 1888: NoAgents",
                "take saved as sim-rec-1",
                "timeout no_input at voice_message",
                "play ivr/no_input",
                "timeout no_input at voice_message",
                "timeout no_input at voice_message",
                "recording sim-rec-1",
                "flow hangs up",
            ],
        ),
        on(
            "1888",
            "leaving the queue for a voice message",
            "1 1 q:exit",
            "criticism",
            &[
                "enqueue 1888: Exit",
                "node message_busy",
                "caller speaks, then falls silent",
                "take saved as sim-rec-1",
                "recording sim-rec-1",
            ],
        ),
        on(
            "1888",
            "kind menu back to the main menu",
            "1 9 0",
            "guidance",
            &[
                "menu message_kind: key 9",
                "node main_menu",
                "menu main_menu: key 0",
                "node agent",
                "file: line 1888 kind guidance",
            ],
        ),
        on(
            "1888",
            "kind menu: wrong key, silence, then a call-taker",
            "1 7 _ _",
            "guidance",
            &[
                "caller keys 7",
                "play ivr/invalid_key",
                "play ivr/menu_message_kind",
                "timeout no_input at message_kind",
                "play ivr/no_input",
                "timeout no_input at message_kind",
                "node agent",
                "file: line 1888 kind guidance",
            ],
        ),
        on(
            "1888",
            "star repeats the main menu",
            "* 0",
            "guidance",
            &[
                "play ivr/menu_main_1888",
                "caller keys *",
                "play ivr/menu_main_1888",
                "node agent",
            ],
        ),
        on(
            "1888",
            "silence at the main menu reaches a call-taker",
            "",
            "guidance",
            &[
                "timeout no_input at main_menu",
                "play ivr/no_input",
                "timeout no_input at main_menu",
                "timeout no_input at main_menu",
                "node agent",
                "enqueue 1888: Answered",
            ],
        )
        .absent(&["play ivr/goodbye_no_input"]),
        on(
            "1888",
            "hang-up while recording keeps the take",
            "0 q:no_agents 3 hangup",
            "complaint",
            &[
                "node agent_busy",
                "node busy_kind",
                "menu busy_kind: key 3",
                "node voice_message",
                "caller hangs up while recording",
                "file: line 1888 kind complaint district - category - case - recording - (pending)",
            ],
        )
        .absent(&["flow hangs up", "take saved as"]),
        on(
            "1888",
            "busy: back to the main menu",
            "0 q:overflow 9 0",
            "guidance",
            &[
                "menu busy_kind: key 9",
                "node main_menu",
                "node agent",
                "enqueue 1888: Answered",
            ],
        ),
        on(
            "1888",
            "busy and silent: polite goodbye",
            "0 q:overflow",
            "unusable",
            &[
                "timeout no_input at busy_kind",
                "play ivr/agents_busy_call_later",
                "file: line 1888 kind unusable",
                "flow hangs up",
            ],
        ),
        on(
            "1888",
            "three empty takes: polite goodbye",
            "1 1 q:overflow ~ ~ ~",
            "criticism",
            &[
                "caller says nothing",
                "discard recording",
                "play ivr/record_empty",
                "caller says nothing",
                "caller says nothing",
                "play ivr/no_message_goodbye",
                "file: line 1888 kind criticism district - category - case - recording -",
                "flow hangs up",
            ],
        ),
        on(
            "1888",
            "review: wrong key, then keep",
            "1 1 q:overflow # 5 1",
            "criticism",
            &[
                "caller keys 5",
                "play ivr/invalid_key",
                "play ivr/record_review",
                "recording sim-rec-1",
            ],
        ),
        on(
            "1888",
            "review: star repeats",
            "1 1 q:overflow # * 1",
            "criticism",
            &["caller keys *", "play ivr/record_review", "recording sim-rec-1"],
        ),
        on(
            "1888",
            "third take is kept even on 2",
            "1 1 q:overflow # 2 # 2 # 2",
            "criticism",
            &[
                "discard recording",
                "discard recording",
                "caller keys 2",
                "recording sim-rec-3",
            ],
        ),
    ];
    for (key, kind) in [
        ("1", "criticism"),
        ("2", "suggestion"),
        ("4", "appreciation"),
    ] {
        let keys = format!("0 q:overflow {key} #");
        let expect = format!("file: line 1888 kind {kind}");
        s.push(on(
            "1888",
            "busy: voice message of a kind",
            &keys,
            kind,
            &["node busy_kind", &expect],
        ));
    }
    s
}

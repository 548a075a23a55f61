//! Golden scenarios of the nodes both trees share (key 2, follow-up; key 4, cases), run on
//! each tree.

use super::scenarios::{bad_code, both, code, Scenario};

pub(super) fn scenarios_follow_up() -> Vec<Scenario> {
    let (c42, c43) = (code(42), code(43));
    let bad = bad_code(42);
    let mut s = Vec::new();
    s.extend(both(
        "follow-up with the manager's voice reply",
        &format!("2 {c42}#"),
        "follow_up",
        &[
            "node follow_code",
            &format!("lookup message {c42}: found, status answered"),
            "play ivr/message_status_is",
            "play status/answered",
            "play ivr/manager_reply_follows",
            "play recording:rec-77: (recording rec-77)",
            "node follow_after",
            "timeout no_input at follow_after",
            "node goodbye",
            "file: line {line} kind follow_up",
            "flow hangs up",
        ],
    ));
    let s2 = both(
        "wrong check digit, then a good code",
        &format!("2 {bad}# {c43}#"),
        "follow_up",
        &[
            "play ivr/code_invalid",
            "play ivr/enter_tracking_code",
            &format!("lookup message {c43}: found, status in_progress"),
            "play status/in_progress",
        ],
    );
    s.extend(
        s2.into_iter()
            .map(|sc| sc.absent(&["ivr/manager_reply_follows", "recording:"])),
    );
    s.extend(both(
        "three wrong codes: a call-taker",
        &format!("2 {bad}# 1234# {bad}#"),
        "guidance",
        &[
            "play ivr/code_invalid",
            "play ivr/code_invalid",
            "node follow_code_failed",
            "play ivr/code_failed",
            "node agent",
            "file: line {line} kind guidance",
        ],
    ));
    s.extend(follow_up_menus());
    s
}

/// After a found or unknown code: the menus that follow.
fn follow_up_menus() -> Vec<Scenario> {
    let (c42, c43, c99) = (code(42), code(43), code(99));
    let mut s = Vec::new();
    s.extend(both(
        "unknown code, again, then a call-taker",
        &format!("2 {c99}# 1 {c42}# 0"),
        "follow_up",
        &[
            &format!("lookup message {c99}: not found"),
            "node follow_not_found",
            "play ivr/message_not_found",
            "menu follow_not_found: key 1",
            "node follow_code",
            "found, status answered",
            "menu follow_after: key 0",
            "node agent",
            "file: line {line} kind follow_up",
        ],
    ));
    s.extend(both(
        "after a status: again, another, main menu",
        &format!("2 {c42}# 1 2 {c43}# 9 0"),
        "follow_up",
        &[
            "menu follow_after: key 1",
            "node follow_status",
            "menu follow_after: key 2",
            "node follow_code",
            "status in_progress",
            "menu follow_after: key 9",
            "node main_menu",
            "node agent",
        ],
    ));
    s.extend(both(
        "unknown code: main menu",
        &format!("2 {c99}# 9 0"),
        "follow_up",
        &["menu follow_not_found: key 9", "node main_menu"],
    ));
    s.extend(both(
        "unknown code: a call-taker",
        &format!("2 {c99}# 0"),
        "follow_up",
        &["menu follow_not_found: key 0", "node agent"],
    ));
    let unknown: Vec<String> = (90..96).map(code).collect();
    s.extend(both(
        "five unknown codes: follow-up by code waits, a call-taker takes over",
        &format!("2 {}#", unknown.join("# 1 ")),
        "follow_up",
        &[
            &format!("lookup message {}: not found", unknown[4]),
            &format!("lookup message {}: refused (5 codes not found)", unknown[5]),
            "node follow_limited",
            "play ivr/followup_limited",
            "node agent",
        ],
    ));
    s.extend(both(
        "unknown code and silence: goodbye",
        &format!("2 {c99}#"),
        "follow_up",
        &[
            "timeout no_input at follow_not_found",
            "node goodbye",
            "flow hangs up",
        ],
    ));
    s
}

pub(super) fn scenarios_cases() -> Vec<Scenario> {
    let mut s = Vec::new();
    let zoning = both(
        "zoning file read back",
        "4 1 12345#",
        "case_inquiry",
        &[
            "menu case_kind_menu: key 1",
            "node case_number",
            "caller keys 12345#",
            "lookup case zoning 12345: found, stage permit_issued",
            "node case_report",
            "play ivr/case_number_is",
            "play digit/1",
            "play digit/2",
            "play digit/3",
            "play digit/4",
            "play digit/5",
            "play ivr/case_stage_is",
            "play stage/zoning/permit_issued",
            "play ivr/case_last_step_on",
            "play ord/20",
            "play month/4",
            "play ivr/case_next_step_is",
            "play stage/zoning/under_construction",
            "node case_after",
            "node goodbye",
            "file: line {line} kind case_inquiry district 6 category - case 12345",
            "flow hangs up",
        ],
    );
    let no_verdict = [
        "verdict/",
        "ivr/case_session_on",
        "ivr/case_days_to_object_before",
    ];
    s.extend(zoning.into_iter().map(|sc| sc.absent(&no_verdict)));
    s.extend(both(
        "Article 100: served verdict, fine and days to object",
        "4 2 22001840320#",
        "case_inquiry",
        &[
            "lookup case article100 22001840320: found, stage verdict_served",
            "play stage/article100/verdict_served",
            "play ivr/case_next_step_is",
            "play stage/article100/objection_filed",
            "play ivr/case_verdict_is",
            "play verdict/fine",
            "play ivr/case_fine_is",
            "play unit/rial",
            "play ivr/case_days_to_object_before",
            "play num/7",
            "play ivr/case_days_to_object_after",
            "node case_after",
        ],
    ));
    let session = both(
        "Article 100: pending session",
        "4 2 9001#",
        "case_inquiry",
        &[
            "play stage/article100/referred",
            "play ivr/case_next_step_is",
            "play stage/article100/first_verdict",
            "play ivr/case_session_on",
            "play ord/1",
            "play month/6",
            "play ivr/case_session_held",
        ],
    );
    s.extend(session.into_iter().map(|sc| sc.absent(&["verdict/"])));
    let past = both(
        "Article 100: past session not announced",
        "4 2 9002#",
        "case_inquiry",
        &["play stage/article100/referred", "node case_after"],
    );
    let quiet = ["ivr/case_session_on", "ivr/case_next_step_is", "verdict/"];
    s.extend(past.into_iter().map(|sc| sc.absent(&quiet)));
    s.extend(both(
        "unknown number, then found",
        "4 1 555# 12345#",
        "case_inquiry",
        &[
            "lookup case zoning 555: not found",
            "node case_not_found",
            "play ivr/case_not_found_retry",
            "node case_number_again",
            "lookup case zoning 12345: found",
            "node case_report",
        ],
    ));
    s.extend(both(
        "unknown twice: the zoning desk",
        "4 2 555# 556#",
        "case_inquiry",
        &[
            "node case_lookup_again",
            "lookup case article100 556: not found",
            "node case_not_found_agent",
            "play ivr/case_not_found_agent",
            "node case_agent",
            "enqueue zoning: Answered",
            "node to_agent",
            "file: line {line} kind case_inquiry",
        ],
    ));
    s.extend(both(
        "after a case: again, another, main menu",
        "4 1 12345# 1 2 2 22001840320# 9 0",
        "case_inquiry",
        &[
            "menu case_after: key 1",
            "node case_report",
            "menu case_after: key 2",
            "node case_kind_menu",
            "menu case_kind_menu: key 2",
            "found, stage verdict_served",
            "menu case_after: key 9",
            "node main_menu",
            "node agent",
        ],
    ));
    s.extend(both(
        "zoning desk busy: a voice message instead",
        "4 1 12345# 0 q:no_agents # 1",
        "case_inquiry",
        &[
            "menu case_after: key 0",
            "node case_agent",
            "enqueue zoning: NoAgents",
            "node case_agent_busy",
            "play ivr/agents_busy_message",
            "node voice_message",
            "take saved as sim-rec-1",
            "file: line {line} kind case_inquiry",
            "flow hangs up",
        ],
    ));
    s.extend(both(
        "case menu: main menu, then silence",
        "4 9 4",
        "guidance",
        &[
            "menu case_kind_menu: key 9",
            "node main_menu",
            "node case_kind_menu",
            "timeout no_input at case_kind_menu",
            "node case_agent",
            "enqueue zoning: Answered",
        ],
    ));
    s.extend(both(
        "no case number: the zoning desk",
        "4 1",
        "guidance",
        &["timeout first_digit at case_number", "node case_agent"],
    ));
    s.extend(both(
        "no second number: the zoning desk",
        "4 1 555#",
        "case_inquiry",
        &[
            "node case_number_again",
            "timeout first_digit at case_number_again",
            "node case_agent",
        ],
    ));
    s
}

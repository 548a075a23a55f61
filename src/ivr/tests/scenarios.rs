//! The golden scenarios: one per path through the real trees, with the transcript lines each
//! must show in order, lines it must not show, and the kind of message it files.

use crate::ivr::tracking::make_tracking_code;

pub(in crate::ivr) struct Scenario {
    pub name: String,
    pub line: &'static str,
    pub keys: String,
    /// Within the call-takers' hours (10:00) or outside them (22:00).
    pub open: bool,
    pub kind: &'static str,
    /// Other kinds a hang-up part-way may file (besides `unusable` and `kind`).
    pub also: &'static [&'static str],
    pub expect: Vec<String>,
    pub absent: Vec<String>,
}

pub(super) fn on(
    line: &'static str,
    name: &str,
    keys: &str,
    kind: &'static str,
    expect: &[&str],
) -> Scenario {
    Scenario {
        name: name.to_owned(),
        line,
        keys: keys.to_owned(),
        open: true,
        kind,
        also: &[],
        expect: expect.iter().map(|s| (*s).to_owned()).collect(),
        absent: Vec::new(),
    }
}

impl Scenario {
    pub(super) fn closed(mut self) -> Self {
        self.open = false;
        self
    }

    pub(super) fn absent(mut self, absent: &[&str]) -> Self {
        self.absent = absent.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

/// The same scenario on both trees (the shared key-2 and key-4 nodes), with `{line}` in the
/// expectations replaced by the line.
pub(super) fn both(name: &str, keys: &str, kind: &'static str, expect: &[&str]) -> Vec<Scenario> {
    ["137", "1888"]
        .into_iter()
        .map(|line| {
            let expect: Vec<String> = expect.iter().map(|e| e.replace("{line}", line)).collect();
            let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
            on(line, name, keys, kind, &expect)
        })
        .collect()
}

pub(super) fn code(serial: u64) -> String {
    make_tracking_code(serial)
}

/// `code` with its last digit changed: the check digit no longer matches.
pub(super) fn bad_code(serial: u64) -> String {
    let mut c = code(serial);
    let last = c.pop().and_then(|d| d.to_digit(10)).unwrap_or(0);
    c.push(char::from_digit((last + 1) % 10, 10).unwrap_or('0'));
    c
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut all = super::line_1888::scenarios_1888();
    all.extend(scenarios_137());
    all.extend(super::shared_nodes::scenarios_follow_up());
    all.extend(super::shared_nodes::scenarios_cases());
    all.push(on(
        "bench",
        "bench: one prompt, then hang up",
        "",
        "unusable",
        &[
            "node hello",
            "play ivr/bench",
            "node bye",
            "file: line bench kind unusable",
            "flow hangs up",
        ],
    ));
    all
}

fn scenarios_137() -> Vec<Scenario> {
    let categories = [
        "asphalt",
        "sidewalk",
        "gutters",
        "green_space",
        "garbage",
        "lighting",
        "illegal_construction",
        "other",
    ];
    let mut s: Vec<Scenario> = categories
        .iter()
        .zip(1..)
        .map(|(category, key)| {
            let keys = format!("1 {key}# {key}");
            let expect =
                format!("file: line 137 kind urban_problem district {key} category {category}");
            let choice = format!("menu report_category: key {key}");
            // The `#` after a full two-digit district is swallowed, not an invalid key.
            on(
                "137",
                "report by district and subject",
                &keys,
                "urban_problem",
                &[
                    "node report (set)",
                    "node report_district",
                    "node report_category",
                    &choice,
                    "node report_agent",
                    "enqueue 137: Answered",
                    "node to_agent",
                    &expect,
                ],
            )
            .absent(&["ivr/invalid_key", "ivr/no_input"])
        })
        .collect();
    s.extend([
        on("137", "district: two wrong, then a pause ends the number", "1 0# 23# 5 _ 3",
            "urban_problem", &[
            "play ivr/district_invalid", "play ivr/district_invalid",
            "timeout inter_digit at report_district",
            "file: line 137 kind urban_problem district 5 category gutters",
        ]),
        on("137", "no district: go on without it", "1 _ _ _ 8", "urban_problem", &[
            "timeout first_digit at report_district", "node report_category",
            "file: line 137 kind urban_problem district - category other",
        ]),
        on("137", "no subject: a call-taker asks", "1 5#", "urban_problem", &[
            "timeout no_input at report_category", "node report_agent",
            "file: line 137 kind urban_problem district 5 category -",
        ]),
        on("137", "report as a voice message when the queue is full", "1 7# 7 q:overflow # 1",
            "urban_problem", &[
            "enqueue 137: Overflow", "node report_busy", "node voice_message",
            "file: line 137 kind urban_problem district 7 category illegal_construction case - recording sim-rec-1",
            "node voice_code", "flow hangs up",
        ]),
        on("137", "a call-taker", "0", "guidance", &["node agent", "enqueue 137: Answered"]),
        on("137", "no call-taker: voice message", "0 q:no_agents #", "urban_problem", &[
            "node agent_busy", "node report_busy", "node voice_message", "take saved as sim-rec-1",
            "file: line 137 kind urban_problem district - category - case - recording sim-rec-1",
        ]),
        on("137", "star repeats the main menu", "* 0", "guidance", &[
            "play ivr/menu_main_137", "caller keys *", "play ivr/menu_main_137", "node agent",
        ]),
        on("137", "silence reaches a call-taker", "", "guidance", &[
            "timeout no_input at main_menu", "node agent",
        ]),
    ]);
    s
}

//! `pasokh load day`, short: 600 calls in one minute over every path of both trees, with real
//! media (SIPp playing each caller's keys and speech from pcaps) and SIPp call-takers. A
//! correctness test, not a speed test: no call may fail, every answered call must receive the
//! engine's audio, and the messages filed and recordings saved must match the calls exactly,
//! path by path.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{require, run_bounded};

#[test]
fn a_short_day_files_exactly_what_its_calls_should_have_filed() {
    require("sipp");
    let report = common::temp_dir("load-day-report");
    let mut command = Command::new(env!("CARGO_BIN_EXE_pasokh"));
    command.args([
        "load",
        "day",
        "--calls",
        "600",
        "--minutes",
        "1",
        "--agents",
        "30",
        "--json",
    ]);
    command.arg("--report").arg(&report);
    let output = run_bounded(command, Duration::from_secs(900));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "load day was not clean:\n{stdout}\n{stderr}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the report's last line is not JSON ({e}):\n{stdout}"));
    assert_eq!(json["calls"], 600);
    assert_eq!(json["attempted"], 600, "{stdout}");
    assert_eq!(json["completed"], 600, "{stdout}");
    assert_eq!(json["failed"], 0, "{stdout}");
    assert_eq!(json["calls_without_engine_rtp"], 0, "{stdout}");
    assert_eq!(
        json["messages_filed"], json["messages_expected"],
        "{stdout}"
    );
    assert_eq!(
        json["recordings_saved"], json["recordings_expected"],
        "{stdout}"
    );
    assert_eq!(json["stray_messages"], 0, "{stdout}");
    assert_eq!(json["exact_match"], true, "{stdout}");
    // Every path ran, and each matched on its own.
    let paths = json["paths"].as_array().cloned().unwrap_or_default();
    assert!(paths.len() >= 19, "every path of both trees: {paths:?}");
    let mut with_recordings = 0;
    for path in &paths {
        let name = &path["path"];
        assert!(path["attempted"].as_u64() > Some(0), "{name} made calls");
        assert_eq!(path["failed"], 0, "{name}");
        assert_eq!(path["messages_filed"], path["messages_expected"], "{name}");
        assert_eq!(
            path["recordings_saved"], path["recordings_expected"],
            "{name}"
        );
        assert_eq!(path["mismatched"], 0, "{name}");
        assert_eq!(path["missing"], 0, "{name}");
        if path["recordings_expected"].as_u64() > Some(0) {
            with_recordings += 1;
        }
    }
    assert!(
        with_recordings >= 4,
        "voice-message paths recorded: {paths:?}"
    );
    let expected = json["messages_expected"].as_u64().unwrap_or(0);
    assert!(
        expected >= 580,
        "every call but the echo tests files a message: {expected}"
    );
    for field in [
        "cps",
        "peak_concurrent",
        "answer_p50_ms",
        "answer_p99_ms",
        "engine_cpu_s",
        "engine_peak_rss_kb",
    ] {
        assert!(json[field].is_number(), "{field} in {json}");
    }
    // --report wrote the same JSON and a page with its charts.
    let written = std::fs::read_to_string(report.join("report.json")).unwrap_or_default();
    assert_eq!(written.trim(), last.trim());
    let html = std::fs::read_to_string(report.join("report.html")).unwrap_or_default();
    assert_eq!(html.matches("<svg").count(), 5, "five charts");
    assert!(html.contains("exact match"), "the figures are on the page");
}

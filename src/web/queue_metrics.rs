//! The supervisors' live queue figures as Prometheus gauges, appended to `/metrics`.
//!
//! They are rendered from the same snapshot that `/api/queues` and the wallboard show, so a
//! Grafana panel and the wall screen never disagree. "Today" figures reset at Tehran midnight,
//! hence gauges rather than counters. Only queue names and numbers: no caller, no agent name.

use std::fmt::Write as _;

use crate::engine::live::{LiveSnapshot, QueueLive};

/// One family: name, help, type, and the value (if any) of each queue.
struct Family {
    name: &'static str,
    help: &'static str,
    value: fn(&QueueLive) -> Option<f64>,
}

const FAMILIES: [Family; 11] = [
    Family {
        name: "pasokh_queue_waiting",
        help: "Calls in the queue not yet answered (ringing ones included)",
        value: |q| Some(q.waiting as f64),
    },
    Family {
        name: "pasokh_queue_longest_wait_seconds",
        help: "Wait of the oldest unanswered call",
        value: |q| Some(q.longest_wait_s),
    },
    Family {
        name: "pasokh_queue_offered_today",
        help: "Calls that entered the queue today",
        value: |q| Some(q.offered_today as f64),
    },
    Family {
        name: "pasokh_queue_answered_today",
        help: "Calls answered by an agent today",
        value: |q| Some(q.answered_today as f64),
    },
    Family {
        name: "pasokh_queue_abandoned_today",
        help: "Calls hung up while waiting today",
        value: |q| Some(q.abandoned_today as f64),
    },
    Family {
        name: "pasokh_queue_exited_today",
        help: "Calls that left with the exit key today",
        value: |q| Some(q.exited_today as f64),
    },
    Family {
        name: "pasokh_queue_overflowed_today",
        help: "Calls sent to a voice message at the wait limit or with no agent today",
        value: |q| Some(q.overflowed_today as f64),
    },
    Family {
        name: "pasokh_queue_service_level_ratio",
        help: "Answered within the threshold over answered plus abandoned after the grace",
        value: |q| q.service_level,
    },
    Family {
        name: "pasokh_queue_service_level_threshold_seconds",
        help: "The service level's answer threshold",
        value: |q| Some(q.service_level_threshold_s),
    },
    Family {
        name: "pasokh_queue_asa_seconds",
        help: "Average speed of answer of today's answered calls",
        value: |q| q.asa_s,
    },
    Family {
        name: "pasokh_queue_aht_seconds",
        help: "Average handle time (talk plus wrap-up) of today's completed calls",
        value: |q| q.aht_s,
    },
];

/// Prometheus text for every queue of the snapshot.
pub fn render(snapshot: &LiveSnapshot) -> String {
    let mut out = String::new();
    for family in &FAMILIES {
        let _ = writeln!(
            out,
            "# HELP {0} {1}\n# TYPE {0} gauge",
            family.name, family.help
        );
        for queue in &snapshot.queues {
            // A figure with no calls behind it yet (service level, averages) is left out.
            if let Some(value) = (family.value)(queue) {
                let label = escape(&queue.name);
                let _ = writeln!(out, "{}{{queue=\"{label}\"}} {value}", family.name);
            }
        }
    }
    render_agents(snapshot, &mut out);
    out
}

fn render_agents(snapshot: &LiveSnapshot, out: &mut String) {
    let name = "pasokh_queue_agents";
    let _ = writeln!(
        out,
        "# HELP {name} Members of the queue in each agent state\n# TYPE {name} gauge"
    );
    for queue in &snapshot.queues {
        let label = escape(&queue.name);
        let a = &queue.agents;
        let states = [
            ("logged_out", a.logged_out),
            ("available", a.available),
            ("ringing", a.ringing),
            ("on_call", a.on_call),
            ("wrap_up", a.wrap_up),
            ("paused", a.paused),
            ("busy_elsewhere", a.busy_elsewhere),
        ];
        for (state, count) in states {
            let _ = writeln!(out, "{name}{{queue=\"{label}\",state=\"{state}\"}} {count}");
        }
    }
}

/// A label value as the exposition format wants it: `\`, `"` and line feeds escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::live::AgentCounts;

    fn queue(name: &str) -> QueueLive {
        QueueLive {
            name: name.into(),
            waiting: 3,
            longest_wait_s: 12.5,
            agents: AgentCounts {
                available: 2,
                on_call: 4,
                wrap_up: 1,
                paused: 1,
                ..AgentCounts::default()
            },
            offered_today: 40,
            answered_today: 30,
            abandoned_today: 5,
            exited_today: 1,
            overflowed_today: 1,
            service_level: Some(0.8),
            service_level_threshold_s: 20.0,
            asa_s: Some(9.25),
            aht_s: None,
        }
    }

    #[test]
    fn every_queue_figure_is_a_labelled_gauge() {
        let snapshot = LiveSnapshot {
            queues: vec![queue("137"), queue("zoning")],
            ..LiveSnapshot::default()
        };
        let text = render(&snapshot);
        for line in [
            "# TYPE pasokh_queue_waiting gauge",
            "pasokh_queue_waiting{queue=\"137\"} 3",
            "pasokh_queue_longest_wait_seconds{queue=\"zoning\"} 12.5",
            "pasokh_queue_answered_today{queue=\"137\"} 30",
            "pasokh_queue_abandoned_today{queue=\"137\"} 5",
            "pasokh_queue_service_level_ratio{queue=\"137\"} 0.8",
            "pasokh_queue_service_level_threshold_seconds{queue=\"137\"} 20",
            "pasokh_queue_asa_seconds{queue=\"zoning\"} 9.25",
            "pasokh_queue_agents{queue=\"137\",state=\"on_call\"} 4",
            "pasokh_queue_agents{queue=\"zoning\",state=\"logged_out\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // No calls completed yet: no average handle time rather than a made-up zero.
        assert!(!text.contains("pasokh_queue_aht_seconds{"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let snapshot = LiveSnapshot {
            queues: vec![queue("a\"b\\c\nd")],
            ..LiveSnapshot::default()
        };
        let text = render(&snapshot);
        assert!(
            text.contains("pasokh_queue_waiting{queue=\"a\\\"b\\\\c\\nd\"} 3"),
            "{text}"
        );
    }
}

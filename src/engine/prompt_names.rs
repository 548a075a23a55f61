//! The prompts the engine plays by name (outside any flow): the echo test, the queue's
//! announcements, the agents' feature-code confirmations, hold music, and every word the IVR's
//! `say` may speak. Start-up checks each against `prompts/` so a missing file is an error naming
//! it, not silence on a live call.

use crate::ivr::words::every_word_prompt;
use crate::media::prompts::MUSIC;

pub const ECHO_INTRO: &str = "echo/intro";
pub const BEEP: &str = "beep";
pub const QUEUE_ALL_BUSY: &str = "queue/all_busy";
pub const QUEUE_YOUR_POSITION: &str = "queue/your_position";
pub const QUEUE_IN_LINE: &str = "queue/in_line";
pub const QUEUE_ESTIMATED_WAIT: &str = "queue/estimated_wait";
pub const QUEUE_PRESS1_VOICEMAIL: &str = "queue/press1_voicemail";
pub const AGENT_LOGGED_IN: &str = "agent/logged_in";
pub const AGENT_LOGGED_OUT: &str = "agent/logged_out";
pub const AGENT_PAUSED: &str = "agent/paused";
pub const AGENT_UNPAUSED: &str = "agent/unpaused";
pub const AGENT_REFUSED: &str = "agent/refused";

/// Every prompt id the engine's own code may ask the media engine to play, with what plays it.
pub fn engine_prompts() -> Vec<(String, &'static str)> {
    let mut named: Vec<(String, &'static str)> = [
        (ECHO_INTRO, "the echo test (*43)"),
        (BEEP, "the echo test (*43)"),
        (QUEUE_ALL_BUSY, "the queue"),
        (QUEUE_YOUR_POSITION, "the queue's announcements"),
        (QUEUE_IN_LINE, "the queue's announcements"),
        (QUEUE_ESTIMATED_WAIT, "the queue's announcements"),
        (QUEUE_PRESS1_VOICEMAIL, "the queue's announcements"),
        (AGENT_LOGGED_IN, "the agents' feature codes"),
        (AGENT_LOGGED_OUT, "the agents' feature codes"),
        (AGENT_PAUSED, "the agents' feature codes"),
        (AGENT_UNPAUSED, "the agents' feature codes"),
        (AGENT_REFUSED, "the agents' feature codes"),
        (
            super::browser_phone::AGENT_CONNECTION_LOST,
            "a call whose call-taker's browser went away",
        ),
        (MUSIC, "music on hold"),
        (
            super::shutdown::SERVICE_STOPPING,
            "calls still up when the engine stops",
        ),
    ]
    .into_iter()
    .map(|(id, by)| (id.to_string(), by))
    .collect();
    named.extend(
        every_word_prompt()
            .into_iter()
            .map(|id| (id, "numbers, dates and tracking codes read aloud")),
    );
    named
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_each_prompt_once() {
        let prompts = engine_prompts();
        let mut ids: Vec<&str> = prompts.iter().map(|(id, _)| id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "no prompt listed twice");
        for id in [
            "queue/all_busy",
            "moh/music",
            "digit/0",
            "num/900",
            "ord/31",
            "month/12",
        ] {
            assert!(ids.contains(&id), "{id} is listed");
        }
    }
}

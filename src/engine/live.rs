//! What supervisors see live: per-queue statistics, agents by state, waiting calls. The engine
//! builds a `LiveSnapshot` from the ACD; the driver publishes it (about twice a second) to the web
//! layer, which serves it as `GET /api/queues`, the `GET /api/events` stream and the wallboard.
//! Definitions (standard, see README "Live statistics"): service level = answered within the
//! threshold / (answered + abandoned after the grace period); ASA = mean wait of answered calls;
//! AHT = mean talk plus wrap-up of completed calls.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveSnapshot {
    /// Unix milliseconds when the snapshot was taken.
    pub at_ms: i64,
    pub queues: Vec<QueueLive>,
    pub agents: Vec<AgentLive>,
    pub waiting: Vec<WaitingLive>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentCounts {
    pub logged_out: usize,
    pub available: usize,
    pub ringing: usize,
    pub on_call: usize,
    pub wrap_up: usize,
    pub paused: usize,
    /// Ringing, talking or in wrap-up for a call of another of their queues: one call is
    /// counted in its own queue only, never once per queue the agent serves.
    pub busy_elsewhere: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueLive {
    pub name: String,
    pub waiting: usize,
    pub longest_wait_s: f64,
    pub agents: AgentCounts,
    pub offered_today: u64,
    pub answered_today: u64,
    pub abandoned_today: u64,
    pub exited_today: u64,
    pub overflowed_today: u64,
    /// Fraction 0–1; `null` before any call counts.
    pub service_level: Option<f64>,
    pub service_level_threshold_s: f64,
    pub asa_s: Option<f64>,
    pub aht_s: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentLive {
    pub id: String,
    pub name: String,
    /// `logged_out`, `available`, `ringing`, `on_call`, `wrap_up`, `paused`.
    pub state: String,
    /// The pause reason's label, when paused.
    pub reason: Option<String>,
    /// A pause or logout waiting for the current call or wrap-up to end.
    pub pending: Option<String>,
    /// Seconds in the current state.
    pub since_s: f64,
    pub queues: Vec<String>,
    pub answered_today: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WaitingLive {
    /// The engine's call number (not personal data).
    pub call: u64,
    pub queue: String,
    /// The caller's number, masked for the wall (e.g. `0912***4567`).
    pub caller: String,
    pub waited_s: f64,
    pub position: usize,
    /// Agents whose phones ring for this call.
    pub ringing: Vec<String>,
}

/// A request to change an agent's state (REST `POST /api/agents/{id}/state` or feature codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAction {
    Login,
    Logout,
    /// Pause with a reason code (1 break, 2 lunch, 3 training, 4 meeting, 9 no answer).
    Pause(u16),
    Unpause,
}

/// Masks a phone number for the log (the SMS log sender, call and registration lines): the first
/// four and last three characters, enough for an operator to match a complaint, not to collect
/// numbers from the log; anything shorter than 8 is hidden whole.
pub fn mask_number_for_log(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() < 8 {
        return "***".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}****{tail}")
}

/// Masks a phone number for display on a wall screen: keeps the first four and last four digits.
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}***{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_masked_for_the_wall() {
        assert_eq!(super::mask_number("09121234567"), "0912***4567");
        assert_eq!(super::mask_number("137"), "***");
    }

    #[test]
    fn numbers_are_masked_for_the_log() {
        assert_eq!(super::mask_number_for_log("09121234567"), "0912****567");
        assert_eq!(super::mask_number_for_log("137"), "***");
    }
}

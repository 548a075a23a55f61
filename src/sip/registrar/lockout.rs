//! Password-guessing lockout per (source address, user), like Kamailio's
//! htable-based auth failure counters: after `max_failures` refused
//! credentials for one user from one address, every request for that user
//! from that address is refused for `lockout_ms`, the right password
//! included, so guessing from one address gets a handful of tries per
//! lockout period instead of thousands a second.
//!
//! Why per pair and not per user: a lockout per user alone would let anyone
//! lock a call-taker out of their own phone from anywhere; per address
//! alone, one guesser would lock out everyone behind the same NAT. With the
//! pair, the agent's own phone (another address) keeps registering while
//! the guesser is locked out. Why per pair and not per address: fail2ban
//! does that from the log (docs/security.md), with the firewall's strength.
//!
//! States of a pair: absent (no recent failure) → counting (1 to
//! `max_failures - 1` failures, each within `lockout_ms` of the one before,
//! else counting restarts) → locked (until `lockout_ms` after the failure
//! that locked it; attempts meanwhile neither unlock nor extend it) → absent
//! again. A success while counting forgets the pair.
//!
//! Memory is bounded: past `max_tracked` pairs the table first drops pairs
//! whose state has run out, then, if still above 7/8 of the cap, the pairs
//! that matter least (counting before locked, oldest first) down to 7/8.
//! Why 7/8: each full sweep frees an eighth of the table, so a spray of new
//! pairs costs one sweep per cap/8 inserts, never one per insert. Locked
//! pairs go last, so spraying new user names cannot flush one's own lockout
//! until locked pairs alone fill the table.
//!
//! Sans-IO: time is `now_ms`, milliseconds from the caller's origin.

use std::collections::HashMap;
use std::net::IpAddr;

/// Refused credentials from one address for one user before the lockout.
pub const DEFAULT_MAX_FAILURES: u32 = 5;
/// How long a lockout lasts: 5 minutes (`auth_lockout_s`).
pub const DEFAULT_LOCKOUT_MS: u64 = 300_000;
/// At most this many (address, user) pairs are tracked at once (a few MB).
const MAX_TRACKED_PAIRS: usize = 65_536;
/// A user name is kept to this many bytes: longer names from the network
/// must not make an entry bigger (they share the entry of their prefix).
const MAX_USER_BYTES: usize = 64;

/// When to lock out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lockout_ms: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: DEFAULT_MAX_FAILURES,
            lockout_ms: DEFAULT_LOCKOUT_MS,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure_ms: u64,
    /// Set once `failures` reached the policy's limit.
    locked_until_ms: Option<u64>,
}

impl Entry {
    fn is_locked(&self, now_ms: u64) -> bool {
        self.locked_until_ms.is_some_and(|until| now_ms < until)
    }

    /// Still worth keeping: locked, or counting with a recent failure.
    fn is_live(&self, now_ms: u64, lockout_ms: u64) -> bool {
        match self.locked_until_ms {
            Some(until) => now_ms < until,
            None => now_ms.saturating_sub(self.last_failure_ms) < lockout_ms,
        }
    }
}

type Key = (IpAddr, String);

pub struct LockoutTable {
    policy: LockoutPolicy,
    entries: HashMap<Key, Entry>,
    /// Cap on `entries`; a field (not only the constant) so tests can reach it.
    pub(super) max_tracked: usize,
}

impl LockoutTable {
    pub fn new(policy: LockoutPolicy) -> Self {
        LockoutTable {
            policy: LockoutPolicy {
                // One failure at least: 0 would lock out before any try.
                max_failures: policy.max_failures.max(1),
                lockout_ms: policy.lockout_ms,
            },
            entries: HashMap::new(),
            max_tracked: MAX_TRACKED_PAIRS,
        }
    }

    pub fn policy(&self) -> LockoutPolicy {
        self.policy
    }

    /// Pairs currently tracked.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.entries.len()
    }

    pub fn is_locked(&self, source: IpAddr, user: &str, now_ms: u64) -> bool {
        self.entries
            .get(&key(source, user))
            .is_some_and(|entry| entry.is_locked(now_ms))
    }

    /// Counts one refused credential; true when this failure starts a
    /// lockout. A failure while locked changes nothing.
    pub fn record_failure(&mut self, source: IpAddr, user: &str, now_ms: u64) -> bool {
        let key = key(source, user);
        let policy = self.policy;
        if !self.entries.contains_key(&key) {
            self.make_room(now_ms);
        }
        let entry = self.entries.entry(key).or_insert(Entry {
            failures: 0,
            last_failure_ms: now_ms,
            locked_until_ms: None,
        });
        if entry.is_locked(now_ms) {
            return false;
        }
        if !entry.is_live(now_ms, policy.lockout_ms) {
            // A lockout that ended, or failures too long ago: start afresh.
            *entry = Entry {
                failures: 0,
                last_failure_ms: now_ms,
                locked_until_ms: None,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last_failure_ms = now_ms;
        if entry.failures >= policy.max_failures {
            entry.locked_until_ms = Some(now_ms.saturating_add(policy.lockout_ms));
            return true;
        }
        false
    }

    /// Good credentials (accepted, so not locked): earlier typos are forgotten.
    pub fn record_success(&mut self, source: IpAddr, user: &str) {
        self.entries.remove(&key(source, user));
    }

    /// Keeps the table under its cap before a new pair goes in.
    fn make_room(&mut self, now_ms: u64) {
        if self.entries.len() < self.max_tracked {
            return;
        }
        let lockout_ms = self.policy.lockout_ms;
        self.entries
            .retain(|_, entry| entry.is_live(now_ms, lockout_ms));
        // 7/8 of the cap, and always at least one free slot for the new pair.
        let target =
            (self.max_tracked - self.max_tracked / 8).min(self.max_tracked.saturating_sub(1));
        if self.entries.len() <= target {
            return;
        }
        let mut order: Vec<(bool, u64, Key)> = self
            .entries
            .iter()
            .map(|(key, entry)| {
                let locked = entry.locked_until_ms.is_some();
                let when = entry.locked_until_ms.unwrap_or(entry.last_failure_ms);
                (locked, when, key.clone())
            })
            .collect();
        order.sort_unstable();
        let excess = self.entries.len() - target;
        for (_, _, key) in order.into_iter().take(excess) {
            self.entries.remove(&key);
        }
    }
}

fn key(source: IpAddr, user: &str) -> Key {
    let mut end = user.len().min(MAX_USER_BYTES);
    while !user.is_char_boundary(end) {
        end -= 1;
    }
    (source, user[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCKOUT_MS: u64 = 60_000;

    fn table() -> LockoutTable {
        LockoutTable::new(LockoutPolicy {
            max_failures: 5,
            lockout_ms: LOCKOUT_MS,
        })
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn the_fifth_failure_locks_the_pair_for_the_lockout_time() {
        let mut t = table();
        for at in 0..4 {
            assert!(!t.record_failure(ip(1), "2001", at * 1_000));
            assert!(!t.is_locked(ip(1), "2001", at * 1_000));
        }
        assert!(t.record_failure(ip(1), "2001", 4_000), "5th failure locks");
        assert!(t.is_locked(ip(1), "2001", 4_000));
        // Only this pair: the same user elsewhere, another user here, are free.
        assert!(!t.is_locked(ip(2), "2001", 4_000));
        assert!(!t.is_locked(ip(1), "2002", 4_000));
        // Tries while locked neither extend the lockout nor start another.
        assert!(!t.record_failure(ip(1), "2001", 30_000));
        assert!(t.is_locked(ip(1), "2001", 4_000 + LOCKOUT_MS - 1));
        assert!(!t.is_locked(ip(1), "2001", 4_000 + LOCKOUT_MS));
        // After it, counting starts again from zero.
        for at in 0..4 {
            assert!(!t.record_failure(ip(1), "2001", 70_000 + at));
        }
        assert!(t.record_failure(ip(1), "2001", 70_010));
    }

    #[test]
    fn old_failures_are_forgotten_and_a_success_clears_the_count() {
        let mut t = table();
        for at in 0..4 {
            t.record_failure(ip(1), "2001", at);
        }
        // The next failure comes more than a lockout time after the last one.
        assert!(!t.record_failure(ip(1), "2001", 3 + LOCKOUT_MS));
        for at in 0..3 {
            assert!(!t.record_failure(ip(1), "2001", LOCKOUT_MS + 10 + at));
        }
        assert!(t.record_failure(ip(1), "2001", LOCKOUT_MS + 20));

        let mut t = table();
        for at in 0..4 {
            t.record_failure(ip(3), "2003", at);
        }
        t.record_success(ip(3), "2003");
        assert_eq!(t.tracked(), 0);
        for at in 0..4 {
            assert!(!t.record_failure(ip(3), "2003", 10 + at));
        }
    }

    #[test]
    fn memory_is_capped_and_locked_pairs_are_kept_longest() {
        let mut t = table();
        t.max_tracked = 64;
        for at in 0..5 {
            t.record_failure(ip(9), "victim", at);
        }
        assert!(t.is_locked(ip(9), "victim", 5));
        // A spray of new user names from the locked address: one failure each.
        for n in 0..10_000u64 {
            t.record_failure(ip(9), &format!("u{n}"), 10 + n);
            assert!(t.tracked() <= 64, "{} pairs tracked", t.tracked());
        }
        assert!(
            t.is_locked(ip(9), "victim", 20_000),
            "the spray flushed the lockout"
        );
        // Long user names share one bounded entry.
        let long = "9".repeat(10_000);
        t.record_failure(ip(8), &long, 20_000);
        t.record_failure(ip(8), &format!("{long}x"), 20_001);
        assert!(t.entries.keys().all(|(_, user)| user.len() <= 64));
        // Pairs whose time ran out go first, before any live one: once everything above has
        // run out, the first sweep leaves only the pairs added since.
        let later = 20_001 + LOCKOUT_MS;
        let mut added = 0u8;
        let mut before = t.tracked();
        loop {
            added += 1;
            t.record_failure(ip(7), &format!("fresh{added}"), later);
            if t.tracked() < before {
                break;
            }
            before = t.tracked();
            assert!(added < 100, "no sweep");
        }
        assert_eq!(t.tracked(), usize::from(added));
    }

    #[test]
    fn zero_failures_allowed_is_read_as_one() {
        let mut t = LockoutTable::new(LockoutPolicy {
            max_failures: 0,
            lockout_ms: 1_000,
        });
        assert!(t.record_failure(ip(1), "a", 0));
        assert!(t.is_locked(ip(1), "a", 999));
    }
}

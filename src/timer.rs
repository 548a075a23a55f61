//! Timers are data (docs/architecture.md, rule 3): a table of named deadlines per owner, and a heap
//! that orders them. Setting a timer again replaces it; cancelling removes it from the table and
//! the heap entry is skipped lazily when it surfaces. Nothing here reads a clock: `now` is always
//! passed in, so a test can run minutes of SIP timers in microseconds.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::time::Duration;

/// Named deadlines for keys of type `K` (a transaction, a call…) and names of type `N`.
#[derive(Debug)]
pub struct TimerTable<K, N> {
    armed: HashMap<(K, N), Duration>,
    heap: BinaryHeap<Reverse<(Duration, u64, K, N)>>,
    sequence: u64,
}

impl<K, N> Default for TimerTable<K, N>
where
    K: Clone + Eq + Hash + Ord,
    N: Copy + Eq + Hash + Ord,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<K, N> TimerTable<K, N>
where
    K: Clone + Eq + Hash + Ord,
    N: Copy + Eq + Hash + Ord,
{
    pub fn new() -> Self {
        TimerTable {
            armed: HashMap::new(),
            heap: BinaryHeap::new(),
            sequence: 0,
        }
    }

    /// Arms (or re-arms) timer `name` of `key` to fire at `at`.
    pub fn set(&mut self, key: K, name: N, at: Duration) {
        self.armed.insert((key.clone(), name), at);
        self.sequence += 1;
        self.heap.push(Reverse((at, self.sequence, key, name)));
        self.compact_if_bloated();
    }

    pub fn cancel(&mut self, key: &K, name: N) {
        self.armed.remove(&(key.clone(), name));
    }

    /// Cancels every timer of `key` with one of the given names.
    pub fn cancel_all(&mut self, key: &K, names: &[N]) {
        for name in names {
            self.cancel(key, *name);
        }
    }

    pub fn is_armed(&self, key: &K, name: N) -> bool {
        self.armed.contains_key(&(key.clone(), name))
    }

    /// The earliest armed deadline.
    pub fn next_deadline(&mut self) -> Option<Duration> {
        self.drop_stale_top();
        self.heap.peek().map(|Reverse((at, ..))| *at)
    }

    /// Removes and returns one timer due at `now`, earliest first.
    pub fn pop_due(&mut self, now: Duration) -> Option<(K, N)> {
        self.drop_stale_top();
        let Reverse((at, ..)) = self.heap.peek()?;
        if *at > now {
            return None;
        }
        let Reverse((_, _, key, name)) = self.heap.pop()?;
        self.armed.remove(&(key.clone(), name));
        Some((key, name))
    }

    pub fn len(&self) -> usize {
        self.armed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    fn is_live(&self, at: Duration, key: &K, name: N) -> bool {
        self.armed.get(&(key.clone(), name)) == Some(&at)
    }

    fn drop_stale_top(&mut self) {
        while let Some(Reverse((at, _, key, name))) = self.heap.peek() {
            if self.is_live(*at, key, *name) {
                return;
            }
            self.heap.pop();
        }
    }

    /// Lazily cancelled entries pile up under churn (every call re-arms timers); rebuild the heap
    /// from the live table when it is mostly garbage, so memory stays proportional to live timers.
    fn compact_if_bloated(&mut self) {
        if self.heap.len() > 1024 && self.heap.len() > 4 * self.armed.len() {
            let live: Vec<_> = self
                .armed
                .iter()
                .map(|((k, n), at)| (*at, k.clone(), *n))
                .collect();
            self.heap.clear();
            for (at, key, name) in live {
                self.sequence += 1;
                self.heap.push(Reverse((at, self.sequence, key, name)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn fires_in_deadline_order_and_only_when_due() {
        let mut t: TimerTable<u32, u8> = TimerTable::new();
        t.set(1, 0, ms(300));
        t.set(2, 0, ms(100));
        assert_eq!(t.next_deadline(), Some(ms(100)));
        assert_eq!(t.pop_due(ms(99)), None);
        assert_eq!(t.pop_due(ms(100)), Some((2, 0)));
        assert_eq!(t.pop_due(ms(1000)), Some((1, 0)));
        assert_eq!(t.pop_due(ms(1000)), None);
    }

    #[test]
    fn rearming_replaces_and_cancelling_removes() {
        let mut t: TimerTable<u32, u8> = TimerTable::new();
        t.set(1, 7, ms(100));
        t.set(1, 7, ms(500));
        assert_eq!(t.pop_due(ms(200)), None);
        assert_eq!(t.next_deadline(), Some(ms(500)));
        t.cancel(&1, 7);
        assert_eq!(t.next_deadline(), None);
        assert!(t.is_empty());
    }

    #[test]
    fn heap_stays_bounded_under_churn() {
        let mut t: TimerTable<u32, u8> = TimerTable::new();
        for i in 0..100_000u64 {
            t.set((i % 10) as u32, 0, ms(i));
        }
        assert_eq!(t.len(), 10);
        assert!(t.heap.len() <= 4 * 1024 + 10);
    }
}

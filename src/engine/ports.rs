//! The RTP port pool: even ports of the configured range (the odd neighbour is RTCP's by
//! convention).
//!
//! Why it is shaped so:
//! - Ports are chosen at random among the free ones (from the engine's RNG, seeded from the OS
//!   in production): handed out in order, one probe call told an attacker the next call's port.
//! - A freed port cools down before it can be chosen again (it waits behind the last quarter of
//!   the pool's frees), so stray packets of a finished call do not land in the next one.
//! - A port another process holds is set aside for a while (`set_aside`), so the retry that
//!   follows picks another one and the pool comes back to it later.

use std::collections::VecDeque;
use std::time::Duration;

use rand::Rng;

/// How long a port found taken by another process stays out of the pool.
pub const ASIDE_FOR: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct PortPool {
    free: Vec<u16>,
    cooling: VecDeque<u16>,
    /// Freed ports that wait before they are chosen again.
    cool_len: usize,
    /// Ports another process held, and when they may be tried again.
    aside: VecDeque<(u16, Duration)>,
    total: usize,
}

impl PortPool {
    pub fn new(low: u16, high: u16) -> Self {
        let first = low.saturating_add(low % 2);
        let free: Vec<u16> = (first..=high).step_by(2).collect();
        let total = free.len();
        PortPool {
            free,
            cooling: VecDeque::new(),
            cool_len: total / 4,
            aside: VecDeque::new(),
            total,
        }
    }

    /// A free port chosen at random (a cooling one only when no other is left).
    pub fn take(&mut self, rng: &mut impl Rng, now: Duration) -> Option<u16> {
        while let Some(&(port, until)) = self.aside.front() {
            if until > now {
                break;
            }
            self.aside.pop_front();
            self.free.push(port);
        }
        if self.free.is_empty() {
            return self.cooling.pop_front();
        }
        let index = rng.gen_range(0..self.free.len());
        Some(self.free.swap_remove(index))
    }

    /// A port its call or leg no longer uses. A port set aside is not given back: it returns to
    /// the pool when its time aside is over, and giving it back too would put it in the pool
    /// twice (two calls on one port). That happens when a leg whose port was found taken ends
    /// before another port was bound for it.
    pub fn give_back(&mut self, port: u16) {
        if self.aside.iter().any(|&(aside, _)| aside == port) {
            return;
        }
        self.cooling.push_back(port);
        while self.cooling.len() > self.cool_len {
            match self.cooling.pop_front() {
                Some(cooled) => self.free.push(cooled),
                None => break,
            }
        }
    }

    /// A port another process holds: kept out of the pool for `ASIDE_FOR`.
    pub fn set_aside(&mut self, port: u16, now: Duration) {
        self.aside.push_back((port, now + ASIDE_FOR));
    }

    pub fn available(&self) -> usize {
        self.free.len() + self.cooling.len()
    }

    /// Every port of the range, in use or not.
    pub fn total(&self) -> usize {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const NOW: Duration = Duration::ZERO;

    #[test]
    fn a_port_set_aside_and_given_back_returns_to_the_pool_once() {
        let mut pool = PortPool::new(30000, 30006);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let Some(port) = pool.take(&mut rng, NOW) else {
            panic!("a fresh pool has ports");
        };
        // Found taken by another process, then its call ends with no other port bound.
        pool.set_aside(port, NOW);
        pool.give_back(port);
        let later = NOW + ASIDE_FOR;
        let mut handed = Vec::new();
        while let Some(p) = pool.take(&mut rng, later) {
            handed.push(p);
        }
        handed.sort_unstable();
        assert_eq!(handed, [30000, 30002, 30004, 30006], "each port once");
    }

    #[test]
    fn hands_out_every_even_port_once_and_not_in_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut pool = PortPool::new(20001, 20199);
        assert_eq!((pool.available(), pool.total()), (99, 99));
        let taken: Vec<u16> = std::iter::from_fn(|| pool.take(&mut rng, NOW)).collect();
        let mut sorted = taken.clone();
        sorted.sort_unstable();
        let expected: Vec<u16> = (20002..=20198).step_by(2).collect();
        assert_eq!(sorted, expected);
        // Knowing one port says nothing about the next: in order, every step would be +2.
        let steps_of_two = taken.windows(2).filter(|w| w[1] == w[0] + 2).count();
        assert!(steps_of_two < 5, "{steps_of_two} of 98 steps were +2");
    }

    #[test]
    fn a_freed_port_cools_down_before_it_is_chosen_again() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut pool = PortPool::new(20000, 20015); // 8 ports, 2 of them cooling
        let first = pool.take(&mut rng, NOW).unwrap_or_default();
        pool.give_back(first);
        let next_six: Vec<u16> = (0..6).filter_map(|_| pool.take(&mut rng, NOW)).collect();
        assert!(!next_six.contains(&first), "{first} reused at once");
        // With nothing else left, the cooling port is still handed out.
        assert_eq!(pool.take(&mut rng, NOW).map(|_| ()), Some(()));
        assert_eq!(pool.take(&mut rng, NOW), Some(first));
        assert_eq!(pool.take(&mut rng, NOW), None);
    }

    #[test]
    fn a_port_set_aside_comes_back_after_a_while() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut pool = PortPool::new(20000, 20003); // 20000 and 20002
        let taken = pool.take(&mut rng, NOW).unwrap_or_default();
        pool.set_aside(taken, NOW);
        let other = pool.take(&mut rng, NOW).unwrap_or_default();
        assert_ne!(other, taken);
        assert_eq!(pool.take(&mut rng, NOW), None);
        assert_eq!(pool.take(&mut rng, ASIDE_FOR), Some(taken));
    }
}

//! Per-source flood control, before a message is parsed: each source address gets a steady rate
//! of SIP messages with a burst above it. A source over its rate is answered less (its requests
//! get a stateless 503 with Retry-After and no call, transaction or registration is made for
//! them); a source that keeps going after `strikes` refusals is ignored entirely (its packets are
//! dropped unread) for `block`. Clean sources never share a bucket with a flooding one.
//!
//! Why it is shaped so: a public number meets scanners and floods from single addresses every
//! day (Kamailio's pike module does the same before routing). Parsing and answering costs more
//! than counting; dropping unread costs least. Trusted sources (the operator's own proxy or a
//! carrier's trunk, loopback by default) are not limited here: a proxy in front carries every
//! caller from one address and limits per caller itself. Memory is bounded: at most
//! `MAX_TRACKED` sources are remembered; when the table is full, sources that have been quiet
//! long enough to refill their bucket are forgotten first, and a new source beyond that shares
//! one bucket for every untracked source (which under a spoofed-address flood limits the flood,
//! not the known sources).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// How many sources the guard remembers at most.
pub const MAX_TRACKED: usize = 65_536;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloodLimits {
    /// Messages a second one source may send, sustained (0: no flood control).
    pub rate_per_s: u32,
    /// Messages one source may send at once above its rate.
    pub burst: u32,
    /// Refusals (over-rate messages) after which the source is ignored.
    pub strikes: u32,
    /// How long an ignored source stays ignored.
    pub block: Duration,
    /// Sources never limited here.
    pub trusted: Vec<IpAddr>,
}

impl Default for FloodLimits {
    fn default() -> Self {
        FloodLimits {
            rate_per_s: 100,
            burst: 400,
            strikes: 200,
            block: Duration::from_secs(60),
            trusted: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1]),
            ],
        }
    }
}

/// What to do with one message from a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within its rate: handle it.
    Pass,
    /// Over its rate: answer a request 503 without making any state, drop anything else.
    Refuse,
    /// Ignored for a while: drop it unread.
    Drop,
    /// Over its rate for the `strikes`-th time: from now on ignored (drop this one too). The
    /// engine logs the security event once, here.
    Block,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Thousandths of a message, so the refill needs no floating point.
    milli_tokens: u64,
    last_ms: u64,
    strikes: u32,
    blocked_until_ms: Option<u64>,
}

#[derive(Debug)]
pub struct FloodGuard {
    limits: FloodLimits,
    sources: HashMap<IpAddr, Bucket>,
    /// The bucket every source shares once the table is full.
    overflow: Option<Bucket>,
    /// When the full table was last swept for quiet sources: at most once a second, so a flood
    /// of new addresses never costs a sweep per packet.
    swept_ms: Option<u64>,
}

impl FloodGuard {
    pub fn new(limits: FloodLimits) -> Self {
        FloodGuard {
            limits,
            sources: HashMap::new(),
            overflow: None,
            swept_ms: None,
        }
    }

    pub fn tracked(&self) -> usize {
        self.sources.len()
    }

    /// Sources being ignored right now.
    pub fn blocked(&self, now: Duration) -> usize {
        let now_ms = now.as_millis() as u64;
        self.sources
            .values()
            .filter(|b| b.blocked_until_ms.is_some_and(|until| until > now_ms))
            .count()
    }

    fn full(&self) -> u64 {
        u64::from(self.limits.burst.max(1)) * 1000
    }

    /// The verdict on one message from `source` at `now`.
    pub fn check(&mut self, source: IpAddr, now: Duration) -> Verdict {
        if self.limits.rate_per_s == 0 || self.limits.trusted.contains(&source) {
            return Verdict::Pass;
        }
        let now_ms = now.as_millis() as u64;
        if !self.sources.contains_key(&source)
            && self.sources.len() >= MAX_TRACKED
            && self.swept_ms.is_none_or(|at| now_ms >= at + 1000)
        {
            self.swept_ms = Some(now_ms);
            self.forget_quiet(now_ms);
        }
        let full = self.full();
        // Field by field, so the limits are borrowed beside the bucket, not copied per packet.
        let bucket = if self.sources.len() < MAX_TRACKED || self.sources.contains_key(&source) {
            self.sources.entry(source).or_insert(Bucket {
                milli_tokens: full,
                last_ms: now_ms,
                strikes: 0,
                blocked_until_ms: None,
            })
        } else {
            self.overflow.get_or_insert(Bucket {
                milli_tokens: full,
                last_ms: now_ms,
                strikes: 0,
                blocked_until_ms: None,
            })
        };
        judge(bucket, &self.limits, full, now_ms)
    }

    /// Forgets the sources whose bucket is full again and which are not blocked.
    fn forget_quiet(&mut self, now_ms: u64) {
        let full = self.full();
        let rate = u64::from(self.limits.rate_per_s);
        self.sources.retain(|_, b| {
            let refilled = b.milli_tokens + now_ms.saturating_sub(b.last_ms) * rate;
            refilled < full || b.blocked_until_ms.is_some_and(|until| until > now_ms)
        });
    }
}

/// Refills `bucket` to `now_ms` and takes one message from it.
fn judge(bucket: &mut Bucket, limits: &FloodLimits, full: u64, now_ms: u64) -> Verdict {
    if let Some(until) = bucket.blocked_until_ms {
        if now_ms < until {
            return Verdict::Drop;
        }
        // Served its time: it starts again with an empty bucket and no strikes.
        bucket.blocked_until_ms = None;
        bucket.strikes = 0;
        bucket.milli_tokens = 0;
        bucket.last_ms = until;
    }
    // One message a second is 1000 milli-tokens; `rate` messages a second refill `rate` per ms.
    let elapsed = now_ms.saturating_sub(bucket.last_ms);
    bucket.milli_tokens = (bucket.milli_tokens + elapsed * u64::from(limits.rate_per_s)).min(full);
    bucket.last_ms = now_ms;
    if bucket.milli_tokens >= 1000 {
        bucket.milli_tokens -= 1000;
        if bucket.milli_tokens == full - 1000 {
            // Back to a full bucket: the source calmed down, its strikes are forgiven.
            bucket.strikes = 0;
        }
        return Verdict::Pass;
    }
    bucket.strikes += 1;
    if bucket.strikes >= limits.strikes.max(1) {
        bucket.blocked_until_ms = Some(now_ms + limits.block.as_millis() as u64);
        return Verdict::Block;
    }
    Verdict::Refuse
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> FloodLimits {
        FloodLimits {
            rate_per_s: 10,
            burst: 20,
            strikes: 5,
            block: Duration::from_secs(30),
            trusted: vec![IpAddr::from([10, 0, 0, 1])],
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let mut guard = FloodGuard::new(limits());
        for _ in 0..20 {
            assert_eq!(guard.check(ip(1), ms(0)), Verdict::Pass);
        }
        assert_eq!(guard.check(ip(1), ms(0)), Verdict::Refuse);
        // 10 a second: one every 100 ms passes.
        assert_eq!(guard.check(ip(1), ms(100)), Verdict::Pass);
        assert_eq!(guard.check(ip(1), ms(150)), Verdict::Refuse);
        assert_eq!(guard.check(ip(1), ms(200)), Verdict::Pass);
    }

    #[test]
    fn a_source_that_keeps_going_is_ignored_then_let_back() {
        let mut guard = FloodGuard::new(limits());
        for _ in 0..20 {
            guard.check(ip(1), ms(0));
        }
        let verdicts: Vec<Verdict> = (0..5).map(|_| guard.check(ip(1), ms(0))).collect();
        assert_eq!(verdicts[..4], [Verdict::Refuse; 4]);
        assert_eq!(verdicts[4], Verdict::Block);
        assert_eq!(guard.blocked(ms(0)), 1);
        // Ignored for 30 s, even at a polite pace.
        assert_eq!(guard.check(ip(1), ms(10_000)), Verdict::Drop);
        assert_eq!(guard.check(ip(1), ms(29_999)), Verdict::Drop);
        // Then back, at its rate (an empty bucket refilling), with no strikes.
        assert_eq!(guard.check(ip(1), ms(30_100)), Verdict::Pass);
        assert_eq!(guard.blocked(ms(30_100)), 0);
    }

    #[test]
    fn other_sources_and_trusted_ones_are_not_touched() {
        let mut guard = FloodGuard::new(limits());
        for _ in 0..100 {
            guard.check(ip(1), ms(0));
        }
        assert_eq!(guard.check(ip(1), ms(0)), Verdict::Drop);
        assert_eq!(guard.check(ip(2), ms(0)), Verdict::Pass);
        for _ in 0..10_000 {
            assert_eq!(
                guard.check(IpAddr::from([10, 0, 0, 1]), ms(0)),
                Verdict::Pass
            );
        }
    }

    #[test]
    fn a_calm_source_is_forgiven_its_strikes() {
        let mut guard = FloodGuard::new(limits());
        for _ in 0..24 {
            guard.check(ip(1), ms(0)); // 20 pass, 4 strikes
        }
        // Quiet long enough to refill: the strikes are forgotten.
        assert_eq!(guard.check(ip(1), ms(5_000)), Verdict::Pass);
        for _ in 0..19 {
            guard.check(ip(1), ms(5_000));
        }
        for _ in 0..4 {
            assert_eq!(guard.check(ip(1), ms(5_000)), Verdict::Refuse);
        }
    }

    #[test]
    fn no_limit_when_the_rate_is_zero() {
        let mut guard = FloodGuard::new(FloodLimits {
            rate_per_s: 0,
            ..limits()
        });
        for _ in 0..10_000 {
            assert_eq!(guard.check(ip(1), ms(0)), Verdict::Pass);
        }
        assert_eq!(guard.tracked(), 0);
    }

    #[test]
    fn the_table_is_bounded_under_spoofed_sources() {
        let mut guard = FloodGuard::new(limits());
        for n in 0..(MAX_TRACKED as u32 + 5_000) {
            let source = IpAddr::from(n.wrapping_add(0x0a00_0000).to_be_bytes());
            guard.check(source, ms(0));
        }
        assert!(guard.tracked() <= MAX_TRACKED);
        // The untracked share one bucket: the 5,000 beyond the table are limited together.
        let refused = (0..100)
            .filter(|n| {
                let source = IpAddr::from((0x0b00_0000u32 + n).to_be_bytes());
                guard.check(source, ms(0)) != Verdict::Pass
            })
            .count();
        assert_eq!(refused, 100);
    }
}

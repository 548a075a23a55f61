//! What one source (the IP address an INVITE came from) may hold at once: a limit on its
//! unconfirmed calls (ringing, or answered and waiting for the ACK) and a share of the RTP ports.
//!
//! Why it is shaped so: every answered INVITE holds an RTP port until its ACK or Timer H (32 s).
//! 500 INVITEs that were never ACKed took the whole pool and every real caller got 503 for
//! 32 s. A caller's phone ACKs within a round trip, so a source with many calls unconfirmed at
//! once is broken or hostile; and no source may crowd the others out of the pool. Beyond either
//! limit the INVITE is answered 503 with Retry-After (the server, not the callee, is busy) and
//! counted. A carrier's trunk brings every call from one address: raise the share for it.

use std::collections::HashMap;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceLimits {
    /// Calls of one source that may be ringing or waiting for their ACK at once.
    pub max_unconfirmed: usize,
    /// Percent of the RTP ports one source's calls may hold (1–100).
    pub max_port_share_percent: u8,
}

impl Default for SourceLimits {
    fn default() -> Self {
        SourceLimits {
            max_unconfirmed: 100,
            max_port_share_percent: 50,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyUnconfirmed,
    PortShare,
}

#[derive(Debug, Default, Clone, Copy)]
struct Load {
    unconfirmed: usize,
    ports: usize,
}

#[derive(Debug)]
pub struct Admission {
    max_unconfirmed: usize,
    max_ports: usize,
    by_source: HashMap<IpAddr, Load>,
}

impl Admission {
    pub fn new(limits: SourceLimits, pool_size: usize) -> Self {
        let percent = usize::from(limits.max_port_share_percent.clamp(1, 100));
        Admission {
            max_unconfirmed: limits.max_unconfirmed.max(1),
            max_ports: (pool_size * percent).div_ceil(100).max(1),
            by_source: HashMap::new(),
        }
    }

    /// Whether one more call from `source` is within its limits.
    pub fn check(&self, source: IpAddr) -> Result<(), Refusal> {
        let load = self.by_source.get(&source).copied().unwrap_or_default();
        if load.unconfirmed >= self.max_unconfirmed {
            return Err(Refusal::TooManyUnconfirmed);
        }
        if load.ports >= self.max_ports {
            return Err(Refusal::PortShare);
        }
        Ok(())
    }

    /// A call from `source` took a port and is not confirmed yet.
    pub fn started(&mut self, source: IpAddr) {
        let load = self.by_source.entry(source).or_default();
        load.unconfirmed += 1;
        load.ports += 1;
    }

    /// The call's ACK came: it holds its port but is no longer unconfirmed.
    pub fn confirmed(&mut self, source: IpAddr) {
        if let Some(load) = self.by_source.get_mut(&source) {
            load.unconfirmed = load.unconfirmed.saturating_sub(1);
        }
    }

    /// The call ended and gave its port back.
    pub fn ended(&mut self, source: IpAddr, was_confirmed: bool) {
        if let Some(load) = self.by_source.get_mut(&source) {
            if !was_confirmed {
                load.unconfirmed = load.unconfirmed.saturating_sub(1);
            }
            load.ports = load.ports.saturating_sub(1);
            if load.ports == 0 && load.unconfirmed == 0 {
                self.by_source.remove(&source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn unconfirmed_calls_are_limited_per_source_and_confirmed_ones_are_not() {
        let limits = SourceLimits {
            max_unconfirmed: 2,
            max_port_share_percent: 100,
        };
        let mut admission = Admission::new(limits, 100);
        admission.started(ip(1));
        admission.started(ip(1));
        assert_eq!(admission.check(ip(1)), Err(Refusal::TooManyUnconfirmed));
        assert_eq!(admission.check(ip(2)), Ok(()));
        admission.confirmed(ip(1));
        assert_eq!(admission.check(ip(1)), Ok(()));
        admission.ended(ip(1), false);
        admission.ended(ip(1), true);
        assert!(admission.by_source.is_empty());
    }

    #[test]
    fn one_source_holds_at_most_its_share_of_the_ports() {
        let limits = SourceLimits {
            max_unconfirmed: 1000,
            max_port_share_percent: 25,
        };
        let mut admission = Admission::new(limits, 10); // 25% of 10 ports: 3
        for _ in 0..3 {
            assert_eq!(admission.check(ip(1)), Ok(()));
            admission.started(ip(1));
            admission.confirmed(ip(1));
        }
        assert_eq!(admission.check(ip(1)), Err(Refusal::PortShare));
        admission.ended(ip(1), true);
        assert_eq!(admission.check(ip(1)), Ok(()));
    }
}

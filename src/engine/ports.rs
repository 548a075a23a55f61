//! The RTP port pool: even ports of the configured range (the odd neighbour is RTCP's by
//! convention). Freed ports go to the back of the queue so a port is reused as late as possible,
//! and stray packets of a finished call do not land in the next one.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct PortPool {
    free: VecDeque<u16>,
}

impl PortPool {
    pub fn new(low: u16, high: u16) -> Self {
        let first = low + (low % 2);
        let free = (first..=high).step_by(2).collect();
        PortPool { free }
    }

    pub fn take(&mut self) -> Option<u16> {
        self.free.pop_front()
    }

    pub fn give_back(&mut self, port: u16) {
        self.free.push_back(port);
    }

    pub fn available(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_even_ports_and_reuses_the_oldest_freed_last() {
        let mut pool = PortPool::new(20001, 20007);
        assert_eq!(pool.available(), 3);
        assert_eq!(pool.take(), Some(20002));
        assert_eq!(pool.take(), Some(20004));
        pool.give_back(20002);
        assert_eq!(pool.take(), Some(20006));
        assert_eq!(pool.take(), Some(20002));
        assert_eq!(pool.take(), None);
    }
}

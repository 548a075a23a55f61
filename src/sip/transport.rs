//! Where a message came from and goes back to. The drivers own the sockets; the core only names
//! them: UDP (one shared socket) or a TCP connection by the driver's connection number.

use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Udp,
    Tcp(u64),
}

/// A remote SIP endpoint as seen by the transport: responses go back to the source of the request
/// (symmetric response routing, RFC 3581), which also works through NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl Peer {
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer {
            transport: Transport::Udp,
            addr,
        }
    }

    /// Reliable transports need no retransmissions (RFC 3261 §17: timers A, E, G unused).
    pub fn is_reliable(&self) -> bool {
        matches!(self.transport, Transport::Tcp(_))
    }

    /// The Via transport token for this peer.
    pub fn via_token(&self) -> &'static str {
        match self.transport {
            Transport::Udp => "UDP",
            Transport::Tcp(_) => "TCP",
        }
    }
}

//! What reached the callers: every RTP packet the engine sends to the callers' media ports,
//! seen on loopback with the kernel's receive time, counted per stream (the engine's port and
//! SSRC) with the spacing between consecutive packets.
//!
//! Why it is shaped so: SIPp plays each caller's audio but cannot say whether the engine's audio
//! came back, nor when. A packet socket with a kernel filter (incoming IPv4 UDP to the callers'
//! port range only) sees exactly those packets at a cost of one system call each, without a
//! capture file that a 10-minute day would grow to gigabytes. It needs CAP_NET_RAW, which
//! SIPp's own `play_pcap_audio` needs too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::LoadError;

/// Spacing histogram: 0.1 ms buckets up to 1 s.
const BUCKETS: usize = 10_000;

#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub packets: u64,
    last_ns: u64,
}

/// What the capture saw.
#[derive(Debug)]
pub struct Seen {
    /// (callers' port, engine's port, SSRC) → stream.
    pub streams: HashMap<(u16, u16, u32), Stream>,
    pub spacing: Vec<u64>,
    pub packets: u64,
    /// Packets the kernel dropped before the capture read them.
    pub dropped: u64,
}

impl Seen {
    /// The spacing (ms) below which `share` of all gaps fall.
    pub fn spacing_percentile(&self, share: f64) -> f64 {
        let total: u64 = self.spacing.iter().sum();
        if total == 0 {
            return f64::NAN;
        }
        let target = (total as f64 * share).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.spacing.iter().enumerate() {
            seen += n;
            if seen >= target {
                return i as f64 / 10.0;
            }
        }
        BUCKETS as f64 / 10.0
    }
}

pub struct Capture {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Seen>,
}

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS: u16 = 0x20;
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const LDX_B_MSH: u16 = 0xb1;
const LD_H_IND: u16 = 0x48;
const JEQ_K: u16 = 0x15;
const JGT_K: u16 = 0x25;
const JGE_K: u16 = 0x35;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;
/// SKF_AD_OFF + SKF_AD_PKTTYPE: the packet's direction.
const AD_PKTTYPE: u32 = 0xffff_f004;
const PACKET_OUTGOING: u32 = 4;

fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Incoming (not the loopback's outgoing copy) IPv4 UDP, first fragment, to ports lo..=hi.
fn filter(lo: u16, hi: u16) -> Vec<libc::sock_filter> {
    vec![
        op(LD_W_ABS, 0, 0, AD_PKTTYPE),
        op(JEQ_K, 9, 0, PACKET_OUTGOING),
        op(LD_B_ABS, 0, 0, 9),
        op(JEQ_K, 0, 7, 17),
        op(LD_H_ABS, 0, 0, 6),
        op(JSET_K, 5, 0, 0x1fff),
        op(LDX_B_MSH, 0, 0, 0),
        op(LD_H_IND, 0, 0, 2),
        op(JGE_K, 0, 2, u32::from(lo)),
        op(JGT_K, 1, 0, u32::from(hi)),
        op(RET_K, 0, 0, 128),
        op(RET_K, 0, 0, 0),
    ]
}

fn last_os_error(what: &str) -> LoadError {
    let error = std::io::Error::last_os_error();
    let hint = if error.raw_os_error() == Some(libc::EPERM) {
        " (the load needs CAP_NET_RAW: run it as root, as SIPp's pcap play needs too)"
    } else {
        ""
    };
    LoadError::Setup(format!("capture: {what}: {error}{hint}"))
}

impl Capture {
    /// Starts seeing the engine's packets to callers' ports `lo..=hi`.
    pub fn start(lo: u16, hi: u16) -> Result<Capture, LoadError> {
        let protocol = (libc::ETH_P_IP as u16).to_be() as i32;
        // SAFETY: plain socket(2)/setsockopt(2)/bind(2) calls with valid, sized arguments.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, protocol) };
        if fd < 0 {
            return Err(last_os_error("packet socket"));
        }
        let program = filter(lo, hi);
        let fprog = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_ptr() as *mut libc::sock_filter,
        };
        let set = |level: i32, name: i32, value: *const libc::c_void, len: usize| unsafe {
            libc::setsockopt(fd, level, name, value, len as libc::socklen_t)
        };
        let buffer: libc::c_int = 64 << 20;
        let on: libc::c_int = 1;
        let timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 200_000,
        };
        let ok = set(
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &fprog as *const _ as *const _,
            std::mem::size_of_val(&fprog),
        ) == 0
            && set(
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                &on as *const _ as *const _,
                4,
            ) == 0
            && set(
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &timeout as *const _ as *const _,
                std::mem::size_of_val(&timeout),
            ) == 0;
        if !ok {
            let error = last_os_error("socket options");
            unsafe { libc::close(fd) };
            return Err(error);
        }
        // A large buffer (beyond rmem_max when allowed) rides out the busiest seconds.
        if set(
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &buffer as *const _ as *const _,
            4,
        ) != 0
        {
            set(
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                &buffer as *const _ as *const _,
                4,
            );
        }
        let index = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = protocol as u16;
        address.sll_ifindex = index as i32;
        let bound = unsafe {
            libc::bind(
                fd,
                &address as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if bound != 0 {
            let error = last_os_error("bind to lo");
            unsafe { libc::close(fd) };
            return Err(error);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("load-capture".into())
            .spawn(move || read_loop(fd, &flag))
            .map_err(|e| LoadError::Setup(e.to_string()))?;
        Ok(Capture { stop, thread })
    }

    pub fn finish(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(Seen {
            streams: HashMap::new(),
            spacing: vec![0; BUCKETS],
            packets: 0,
            dropped: 0,
        })
    }
}

fn read_loop(fd: i32, stop: &AtomicBool) -> Seen {
    let mut seen = Seen {
        streams: HashMap::new(),
        spacing: vec![0; BUCKETS],
        packets: 0,
        dropped: 0,
    };
    let mut buf = [0u8; 128];
    let mut control = [0u8; 128];
    while !stop.load(Ordering::Relaxed) {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut _,
            iov_len: buf.len(),
        };
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut _;
        msg.msg_controllen = control.len() as _;
        // SAFETY: recvmsg into our own buffers, sized above.
        let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_TRUNC) };
        if n < 0 {
            continue; // the 200 ms timeout: look at the stop flag
        }
        let mut at_ns = 0u64;
        // SAFETY: walking the control messages the kernel wrote into `control`.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET
                    && (*cmsg).cmsg_type == libc::SO_TIMESTAMPNS
                {
                    let ts =
                        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::timespec);
                    at_ns = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        let len = (n as usize).min(buf.len());
        let packet = &buf[..len];
        let Some(header) = packet.first().map(|b| usize::from(b & 0x0f) * 4) else {
            continue;
        };
        let Some(udp) = packet.get(header..header + 8) else {
            continue;
        };
        let src = u16::from_be_bytes([udp[0], udp[1]]);
        let dst = u16::from_be_bytes([udp[2], udp[3]]);
        let Some(rtp) = packet.get(header + 8..header + 20) else {
            continue;
        };
        if rtp[0] >> 6 != 2 {
            continue;
        }
        let ssrc = u32::from_be_bytes([rtp[8], rtp[9], rtp[10], rtp[11]]);
        seen.packets += 1;
        let stream = seen.streams.entry((dst, src, ssrc)).or_default();
        if stream.packets > 0 && at_ns > stream.last_ns {
            let bucket = ((at_ns - stream.last_ns) / 100_000) as usize;
            seen.spacing[bucket.min(BUCKETS - 1)] += 1;
        }
        stream.packets += 1;
        stream.last_ns = at_ns;
    }
    let mut stats: libc::tpacket_stats = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: getsockopt into a sized struct; close our own descriptor.
    unsafe {
        if libc::getsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            &mut stats as *mut _ as *mut _,
            &mut len,
        ) == 0
        {
            seen.dropped = u64::from(stats.tp_drops);
        }
        libc::close(fd);
    }
    seen
}

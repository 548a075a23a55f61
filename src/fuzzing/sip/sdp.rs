//! `sdp`: bytes as an SDP body, through `sip::sdp::parse` and then offer/answer negotiation.
//!
//! Why: the SDP of every INVITE, re-INVITE and 200 comes from the peer. The parser and
//! `negotiate` must refuse anything odd with an error (the engine answers 488), never panic;
//! `parse_answer` is the path of an agent phone's answer. A negotiated result must name a codec we
//! speak, and the answer we would send (which echoes the offer's other lines) must parse.

use crate::sip::sdp::{answer, negotiate, parse, parse_answer, Codec};

pub fn sdp(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let prefer = [Codec::Pcma, Codec::Pcmu];
    if let Ok(offer) = parse(body) {
        if let Ok(negotiated) = negotiate(&offer, &prefer) {
            assert!(
                prefer.contains(&negotiated.codec),
                "negotiated a codec we do not speak"
            );
            let ip = std::net::IpAddr::from([192, 0, 2, 1]);
            let ours = answer(ip, 20000, 1, 1, &negotiated);
            if let Err(e) = parse(&ours) {
                panic!("our answer does not parse: {e}\n{ours}");
            }
        }
    }
    let _ = parse_answer(body, &prefer);
}

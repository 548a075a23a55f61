//! Out-of-dialog answers: OPTIONS, unknown methods, malformed requests, and the common headers the
//! engine puts on what it sends.

use std::time::Duration;

use crate::engine::{Engine, Output};
use crate::sip::msg::{response_to, Headers, Request, Response};
use crate::sip::transport::Peer;
use crate::sip::txn::TxnKey;

pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO";
pub const SERVER: &str = "Pasokh/0.1";

impl Engine {
    /// Our Contact URI.
    pub(crate) fn contact(&self) -> String {
        format!("<sip:pasokh@{}>", self.config.sip_addr)
    }

    /// Answers a request with a final response carrying only the standard headers.
    pub(crate) fn reply(&mut self, req: &Request, key: &TxnKey, status: u16, now: Duration) {
        self.reply_with(req, key, status, &[], now);
    }

    /// As `reply`, with extra headers (420's Unsupported, for example).
    pub(crate) fn reply_with(
        &mut self,
        req: &Request,
        key: &TxnKey,
        status: u16,
        extra: &[(&str, String)],
        now: Duration,
    ) {
        let tag = self.new_tag();
        let mut resp = response_to(req, status, Some(&tag));
        resp.headers.push("Server", SERVER);
        if status == 405 || status == 501 {
            resp.headers.push("Allow", ALLOW);
        }
        if status == 415 || status == 406 {
            // RFC 3261 §21.4.13: a 415 lists what is accepted.
            resp.headers.push("Accept", "application/sdp");
        }
        for (name, value) in extra {
            resp.headers.push(name, value.as_str());
        }
        self.send_response(key, &resp, now);
    }

    pub(crate) fn on_options(&mut self, req: &Request, key: &TxnKey, now: Duration) {
        let tag = self.new_tag();
        let mut resp = response_to(req, 200, Some(&tag));
        resp.headers.push("Contact", self.contact());
        resp.headers.push("Allow", ALLOW);
        resp.headers.push("Accept", "application/sdp");
        resp.headers.push("Supported", "");
        resp.headers.push("Server", SERVER);
        self.send_response(key, &resp, now);
    }

    /// A message that does not parse: a request with enough headers to address a response gets
    /// `status` (400, 416 or 505; sent statelessly: there is no transaction for it); anything else
    /// is dropped. Both are counted. Nothing with a control byte is copied into the answer: a
    /// response must never carry back what made the request malformed.
    pub(crate) fn on_malformed(&mut self, bytes: &[u8], peer: Peer, why: &str, status: u16) {
        self.counters.sip_malformed += 1;
        tracing::debug!(%why, from = %peer.addr, "malformed SIP message");
        let Some(headers) = lenient_request_headers(bytes) else {
            return;
        };
        if headers.get("Via").is_none() {
            return;
        }
        let mut resp = Response {
            status,
            reason: crate::sip::msg::reason_phrase(status).into(),
            headers: Headers::new(),
            body: Vec::new(),
        };
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            for value in headers.get_all(name) {
                resp.headers.push(name, value);
            }
        }
        resp.headers.push("Server", SERVER);
        self.outputs.push_back(Output::Transmit {
            peer,
            bytes: resp.to_bytes(),
        });
    }
}

/// Best-effort header lines of something that looks like a request (not a response, never
/// answered). Lines that do not split at a colon are skipped.
fn lenient_request_headers(bytes: &[u8]) -> Option<Headers> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let start = lines.find(|l| !l.is_empty())?;
    // A request line ends in a SIP version (any: a SIP/7.0 request is answered 505).
    if start.starts_with("SIP/") || !start.contains(" SIP/") {
        return None;
    }
    let mut headers = Headers::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':') {
            if value.chars().any(|c| c.is_control() && c != '\t') || value.contains('\u{fffd}') {
                continue; // raw control bytes or broken UTF-8 are never echoed
            }
            let name = match name.trim() {
                "v" => "Via",
                "f" => "From",
                "t" => "To",
                "i" => "Call-ID",
                other => other,
            };
            headers.push(name, value.trim());
        }
    }
    Some(headers)
}

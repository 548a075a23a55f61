//! The project's own SIP message types.
//!
//! Every module speaks these types; `sip::parse` builds them from bytes and checks them, so the
//! parser can change without touching the transaction layer, the dialogs or the engine. Headers are kept as canonical-name/value pairs in arrival order: that is what a UA needs
//! (copying Via/From/To/Call-ID/CSeq into responses) and it prints back without loss.

use std::fmt::Write as _;

use super::header;

/// A SIP method. Unknown extension methods are kept by name so they can be answered `501`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Other(String),
}

impl Method {
    pub fn from_token(token: &str) -> Method {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other(name) => name,
        }
    }
}

/// Header fields in arrival order, names in canonical (long, capitalised) form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), value.into()));
    }

    /// The first value of a header (case-insensitive name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header line of that name, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every comma-separated element of every header line of that name (Via, Contact, Route…).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get_all(name)
            .flat_map(header::split_list)
            .map(|s| s.to_string())
            .collect()
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.push(name, value);
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    fn write_to(&self, out: &mut String) {
        for (name, value) in &self.0 {
            if name.eq_ignore_ascii_case("Content-Length") {
                continue; // always recomputed from the body when printing
            }
            let _ = write!(out, "{name}: {value}\r\n");
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

impl Message {
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

fn finish(mut head: String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    headers.write_to(&mut head);
    let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

impl Request {
    pub fn to_bytes(&self) -> Vec<u8> {
        let head = format!("{} {} SIP/2.0\r\n", self.method.as_str(), self.uri);
        finish(head, &self.headers, &self.body)
    }

    pub fn call_id(&self) -> Option<&str> {
        self.headers.get("Call-ID")
    }

    /// The CSeq number and method.
    pub fn cseq(&self) -> Option<(u32, Method)> {
        header::parse_cseq(self.headers.get("CSeq")?)
    }

    /// The topmost Via element.
    pub fn top_via(&self) -> Option<String> {
        self.headers.list("Via").into_iter().next()
    }

    pub fn branch(&self) -> Option<String> {
        header::param(&self.top_via()?, "branch").map(|b| b.to_string())
    }

    pub fn from_tag(&self) -> Option<&str> {
        header::param(self.headers.get("From")?, "tag")
    }

    pub fn to_tag(&self) -> Option<&str> {
        header::param(self.headers.get("To")?, "tag")
    }

    /// The user part of the Request-URI as written (escapes kept).
    pub fn uri_user(&self) -> Option<&str> {
        header::uri_user(&self.uri)
    }

    /// The dialled number: the Request-URI's user with its `%XX` escapes decoded (RFC 3261
    /// §19.1.4: `sip:%31%33%37@h` is `sip:137@h`, RFC 4475 esc01).
    pub fn dialled_number(&self) -> Option<String> {
        self.uri_user().map(header::percent_decode)
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        let head = format!("SIP/2.0 {} {}\r\n", self.status, self.reason);
        finish(head, &self.headers, &self.body)
    }

    pub fn cseq(&self) -> Option<(u32, Method)> {
        header::parse_cseq(self.headers.get("CSeq")?)
    }

    pub fn branch(&self) -> Option<String> {
        let via = self.headers.list("Via").into_iter().next()?;
        header::param(&via, "branch").map(|b| b.to_string())
    }

    pub fn to_tag(&self) -> Option<&str> {
        header::param(self.headers.get("To")?, "tag")
    }

    pub fn call_id(&self) -> Option<&str> {
        self.headers.get("Call-ID")
    }
}

/// The standard reason phrase for the codes this engine sends.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        _ => "Unknown",
    }
}

/// Builds a response to `req` per RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq copied; a To tag
/// added when the UAS creates one (never on 100).
pub fn response_to(req: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let mut headers = Headers::new();
    for via in req.headers.get_all("Via") {
        headers.push("Via", via);
    }
    if let Some(from) = req.headers.get("From") {
        headers.push("From", from);
    }
    if let Some(to) = req.headers.get("To") {
        let to = match to_tag {
            Some(tag) if status != 100 && header::param(to, "tag").is_none() => {
                format!("{to};tag={tag}")
            }
            _ => to.to_string(),
        };
        headers.push("To", to);
    }
    if let Some(call_id) = req.headers.get("Call-ID") {
        headers.push("Call-ID", call_id);
    }
    if let Some(cseq) = req.headers.get("CSeq") {
        headers.push("CSeq", cseq);
    }
    Response {
        status,
        reason: reason_phrase(status).to_string(),
        headers,
        body: Vec::new(),
    }
}

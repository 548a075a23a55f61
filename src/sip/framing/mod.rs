//! Framing SIP messages on a stream transport (RFC 3261 §18.3): a message is its header up to the
//! first empty line, then Content-Length bytes of body. The framer is fed the bytes as they
//! arrive and examines each byte of a header once, however the stream is cut into segments: a
//! header sent one byte per segment costs what it costs in one segment.

/// A single SIP message larger than this cannot be framed (nothing legitimate is this big).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The stream cannot be split into SIP messages (bad Content-Length, or a message too large).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unframeable;

const HEADER_END: &[u8; 4] = b"\r\n\r\n";

/// Splits one connection's byte stream into messages.
#[derive(Debug, Default)]
pub struct Framer {
    buffer: Vec<u8>,
    /// Where the message being framed starts in `buffer` (what is before it is handed out).
    start: usize,
    /// The next byte of the header to examine.
    scan: usize,
    /// How much of `HEADER_END` the bytes just before `scan` match.
    matched: usize,
    /// Where the message ends, once its header is complete.
    end: Option<usize>,
    /// Bytes examined so far (header scan and Content-Length parse), for the cost tests.
    examined: u64,
}

/// A buffer this much larger than what it holds is given back to the allocator.
const KEEP_CAPACITY: usize = 16 * 1024;

impl Framer {
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Adds bytes read from the stream; returns every message they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, Unframeable> {
        self.buffer.extend_from_slice(bytes);
        let mut messages = Vec::new();
        loop {
            if let Some(end) = self.end {
                if self.buffer.len() < end {
                    break;
                }
                messages.push(self.buffer[self.start..end].to_vec());
                self.start = end;
                self.scan = end;
                self.matched = 0;
                self.end = None;
                continue;
            }
            if !self.scan_header()? {
                break;
            }
        }
        self.compact();
        Ok(messages)
    }

    /// True while part of a message has arrived and the rest has not (keep-alive CRLFs between
    /// messages do not count).
    pub fn is_mid_message(&self) -> bool {
        self.buffer.len() > self.start
    }

    /// Bytes examined since the framer was made.
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// Looks for the end of the current message's header in the bytes not yet examined. True
    /// when found (and `end` is set).
    fn scan_header(&mut self) -> Result<bool, Unframeable> {
        // Keep-alive CRLFs between messages are skipped.
        if self.scan == self.start {
            while let Some(&byte) = self.buffer.get(self.scan) {
                if byte != b'\r' && byte != b'\n' {
                    break;
                }
                self.examined += 1;
                self.scan += 1;
                self.start += 1;
            }
        }
        // Resume where the last push stopped: no byte of a header is examined twice.
        while self.matched < HEADER_END.len() {
            let Some(&byte) = self.buffer.get(self.scan) else {
                break;
            };
            self.examined += 1;
            self.scan += 1;
            self.matched = next_match(self.matched, byte);
        }
        if self.matched < HEADER_END.len() {
            return if self.buffer.len() - self.start > MAX_MESSAGE {
                Err(Unframeable)
            } else {
                Ok(false)
            };
        }
        let head = &self.buffer[self.start..self.scan - HEADER_END.len()];
        self.examined += head.len() as u64;
        let body_len = content_length(head).ok_or(Unframeable)?;
        let end = self.scan + body_len;
        if end - self.start > MAX_MESSAGE {
            return Err(Unframeable);
        }
        self.end = Some(end);
        Ok(true)
    }

    /// Drops what has been handed out, so the buffer holds only the message being framed.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.buffer.drain(..self.start);
        self.scan -= self.start;
        self.end = self.end.map(|end| end - self.start);
        self.start = 0;
        if self.buffer.capacity() > self.buffer.len() + KEEP_CAPACITY {
            self.buffer
                .shrink_to(self.buffer.len().max(KEEP_CAPACITY / 4));
        }
    }
}

/// How much of `HEADER_END` is matched after `byte`, given `matched` before it.
fn next_match(matched: usize, byte: u8) -> usize {
    if byte == HEADER_END[matched] {
        matched + 1
    } else if byte == b'\r' {
        1
    } else {
        0
    }
}

/// Content-Length (or its compact form `l`) of a head; absent means 0. A bad value is an error,
/// and so are two different values (RFC 4475 mcl01): either could be the truth, so where the
/// next message starts is unknowable.
fn content_length(head: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(head).ok()?;
    let mut found: Option<usize> = None;
    for line in text.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("l") {
            let value = value.trim();
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let length = value.parse().ok()?;
            if found.is_some_and(|earlier| earlier != length) {
                return None;
            }
            found = Some(length);
        }
    }
    Some(found.unwrap_or(0))
}

#[cfg(test)]
mod tests;

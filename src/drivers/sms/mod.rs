//! Sends the SMS outbox (`store::outbox`): every few seconds, the texts that are due go to the
//! configured sender, and each attempt is recorded.
//!
//! Two senders: `log` writes each text to the log and counts it as sent (a centre without a
//! gateway, and tests), and `webhook` POSTs it as JSON to an HTTP gateway, where a 2xx answer
//! acknowledges it. A text the gateway refused or could not be reached for is tried again with
//! a growing pause (10 s doubling to an hour, 12 attempts); one acknowledged is never sent again.
//!
//! Why a hand-written HTTP/1.1 POST instead of an HTTP client crate: one request per text, a
//! status line to read, plain HTTP to a gateway on the operator's network (an `https` gateway is
//! reached through a local TLS relay). That is a few dozen lines, against a client library and
//! its TLS stack in every build.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::SmsSender;
use crate::store::{unix_ms_now, OutboxRow, Store};

/// How often the outbox is looked at.
const POLL: Duration = Duration::from_secs(2);
/// Texts sent per look, at most.
const BATCH: u32 = 50;
/// A gateway that has not answered within this time has failed this attempt.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of the gateway's answer read, at most (only the status line matters).
const MAX_ANSWER: usize = 16 * 1024;

/// Sends due texts until the process stops.
pub async fn run(store: Store, sender: SmsSender) {
    loop {
        send_due(&store, &sender).await;
        tokio::time::sleep(POLL).await;
    }
}

/// One pass over the due texts. Returns how many were acknowledged.
pub async fn send_due(store: &Store, sender: &SmsSender) -> usize {
    let due = match store.due_texts(unix_ms_now(), BATCH).await {
        Ok(due) => due,
        Err(error) => {
            tracing::error!(%error, "cannot read the SMS outbox");
            return 0;
        }
    };
    let mut sent = 0;
    for text in due {
        let outcome = send(sender, &text).await;
        let detail = match &outcome {
            Ok(detail) | Err(detail) => detail.clone(),
        };
        match store
            .record_text_attempt(text.id, outcome.is_ok(), &detail)
            .await
        {
            Ok(gave_up) => {
                if outcome.is_ok() {
                    sent += 1;
                    tracing::info!(outbox = text.id, reason = %text.reason, "text sent");
                } else if gave_up {
                    tracing::error!(outbox = text.id, %detail, "text given up after its last attempt");
                } else {
                    tracing::warn!(outbox = text.id, %detail, "text not sent; will try again");
                }
            }
            // The gateway may have it while the table does not say so: it will be offered again
            // with the same idempotency key, which the gateway can use to drop the repeat.
            Err(error) => tracing::error!(outbox = text.id, %error, "text attempt not recorded"),
        }
    }
    sent
}

async fn send(sender: &SmsSender, text: &OutboxRow) -> Result<String, String> {
    match sender {
        SmsSender::Log => {
            tracing::info!(
                outbox = text.id,
                to = %mask(&text.recipient),
                body = %text.body,
                "text (log sender: not sent to a phone)"
            );
            Ok("logged".into())
        }
        SmsSender::Webhook { url, token } => {
            match tokio::time::timeout(REQUEST_TIMEOUT, post(url, token.as_deref(), text)).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())),
            }
        }
    }
}

/// The number with its middle hidden, as in every log line that names a number.
fn mask(number: &str) -> String {
    crate::engine::live::mask_number_for_log(number)
}

/// `http://HOST[:PORT][/PATH]` → (host, port, path).
fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("webhook URL {url:?} is not http://"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| format!("bad port in webhook URL {url:?}"))?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("no host in webhook URL {url:?}"));
    }
    Ok((host.to_string(), port, path.to_string()))
}

async fn post(url: &str, token: Option<&str>, text: &OutboxRow) -> Result<String, String> {
    let (host, port, path) = split_url(url)?;
    let body = serde_json::json!({
        "id": text.id,
        "idempotency_key": format!("pasokh-outbox-{}", text.id),
        "to": text.recipient,
        "text": text.body,
        "reason": text.reason,
    })
    .to_string();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nIdempotency-Key: pasokh-outbox-{}\r\nConnection: close\r\n",
        body.len(),
        text.id
    );
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|error| format!("cannot reach {host}:{port}: {error}"))?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| format!("cannot send to {host}:{port}: {error}"))?;
    let mut answer = Vec::new();
    let mut chunk = [0_u8; 2048];
    while !answer.windows(2).any(|w| w == b"\r\n") && answer.len() < MAX_ANSWER {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|error| format!("no answer from {host}:{port}: {error}"))?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    let status = status_code(&answer)
        .ok_or_else(|| format!("{host}:{port} did not answer with an HTTP status line"))?;
    if (200..300).contains(&status) {
        Ok(format!("HTTP {status}"))
    } else {
        Err(format!("HTTP {status}"))
    }
}

/// The status code of `HTTP/1.x NNN ...`.
fn status_code(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    (code.len() == 3).then(|| code.parse().ok()).flatten()
}

#[cfg(test)]
mod tests;

//! What can be wrong with a configuration, said so that the operator knows where to look (the
//! file and line, or the flag) and what to write instead.

use std::fmt;
use std::path::PathBuf;

/// Where a setting was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The TOML file, at this line when the parser told us.
    File { path: PathBuf, line: Option<usize> },
    /// A command-line flag, e.g. `--rtp-ports`.
    Flag(&'static str),
    /// An environment variable, e.g. `PASOKH_LOG_FORMAT`.
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "config {}:{line}", path.display()),
            Origin::File { path, line: None } => write!(f, "config {}", path.display()),
            Origin::Flag(flag) => f.write_str(flag),
            Origin::Env(variable) => write!(f, "environment variable {variable}"),
        }
    }
}

/// A configuration that cannot be used; `pasokh` prints it and exits with status 2.
#[derive(Debug)]
pub enum ConfigError {
    /// The file given with `--config` cannot be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, or a value of the wrong type. `detail` is the parser's message,
    /// which quotes the line and marks the column.
    Syntax {
        path: PathBuf,
        line: Option<usize>,
        detail: String,
    },
    /// A value of the right type that is not allowed.
    Invalid {
        at: Origin,
        /// The `[queues.NAME]` table the key is in, if any.
        queue: Option<String>,
        /// The TOML key (the flag, if given on the command line, is in `at`).
        key: &'static str,
        problem: Problem,
    },
}

/// Why a value is refused; each says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    PortRange(PortRangeError),
    /// Zero is refused; `why` says what it would mean, where that helps.
    BelowOne {
        why: Option<&'static str>,
    },
    /// Must be 1 to 100.
    NotPercent,
    /// A queue name must be 1 to 32 characters.
    QueueName {
        name: String,
    },
    /// A distribution strategy the ACD does not have.
    UnknownStrategy {
        given: String,
    },
    /// A mailbox number in `[mailboxes.LINE]` that is not 2 to 8 digits.
    Mailbox {
        given: String,
    },
    /// A key in `[mailboxes.LINE]` that is neither a district (1-22) nor `default`.
    District {
        given: String,
    },
    /// `[sms] sender` other than `log` or `webhook`.
    UnknownSender {
        given: String,
    },
    /// `sender = "webhook"` needs `webhook_url = "http://…"`.
    WebhookUrl,
    /// `log_format` other than `text` or `json`.
    UnknownLogFormat {
        given: String,
    },
    /// An entry of `trusted_sources` that is not an IP address.
    IpAddress {
        given: String,
    },
    /// `tls_cert` without `tls_key`, or the reverse.
    TlsHalf {
        missing: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, source } => {
                write!(f, "cannot read config {}: {source}", path.display())
            }
            ConfigError::Syntax { path, detail, .. } => {
                write!(f, "config {}: {detail}", path.display())
            }
            ConfigError::Invalid {
                at,
                queue,
                key,
                problem,
            } => {
                write!(f, "{at}: ")?;
                if let Some(queue) = queue {
                    write!(f, "queue {queue:?}: ")?;
                }
                match problem {
                    Problem::PortRange(error) => write!(f, "{error}"),
                    Problem::BelowOne { why: None } => write!(f, "{key} must be at least 1"),
                    Problem::BelowOne { why: Some(why) } => {
                        write!(f, "{key} must be at least 1: {why}")
                    }
                    Problem::NotPercent => write!(f, "{key} is a percent, 1 to 100"),
                    Problem::QueueName { name } => {
                        write!(f, "queue name {name:?} must be 1 to 32 characters")
                    }
                    Problem::UnknownStrategy { given } => write!(
                        f,
                        "{key} {given:?} is not one of longest-idle, ring-all, round-robin, \
                         fewest-calls"
                    ),
                    Problem::Mailbox { given } => write!(
                        f,
                        "mailbox {given:?} must be 2 to 8 digits (a manager's mailbox number)"
                    ),
                    Problem::District { given } => write!(
                        f,
                        "{given:?} is not a district: keys of [mailboxes.LINE] are district \
                         numbers 1 to 22 or `default`"
                    ),
                    Problem::UnknownSender { given } => {
                        write!(f, "{key} {given:?} is not one of log, webhook")
                    }
                    Problem::UnknownLogFormat { given } => {
                        write!(f, "{key} {given:?} is not one of text, json")
                    }
                    Problem::TlsHalf { missing } => write!(
                        f,
                        "{key} is given without {missing}: HTTPS needs both the certificate \
                         (--tls-cert) and its private key (--tls-key); give neither to serve \
                         plain HTTP (behind a reverse proxy that ends TLS)"
                    ),
                    Problem::IpAddress { given } => write!(
                        f,
                        "{key}: {given:?} is not an IP address (write each as \"192.0.2.10\" or \"::1\")"
                    ),
                    Problem::WebhookUrl => write!(
                        f,
                        "sender \"webhook\" needs {key} = \"http://HOST:PORT/PATH\" (plain \
                         HTTP; put a TLS relay in front of an https gateway)"
                    ),
                }
            }
        }
    }
}

/// The cause's text is already in the message (an operator reads one line), so `source` is not
/// given as well: a reporter walking the chain would print it twice.
impl std::error::Error for ConfigError {}

/// An RTP port range that is not `LOW-HIGH` with `0 < LOW < HIGH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRangeError {
    /// As given.
    pub text: String,
    pub problem: PortRangeProblem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRangeProblem {
    NoDash,
    BadLow,
    BadHigh,
    Order,
}

impl fmt::Display for PortRangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = &self.text;
        match self.problem {
            PortRangeProblem::NoDash => write!(f, "port range {text:?} is not LOW-HIGH"),
            PortRangeProblem::BadLow => write!(f, "bad low port in {text:?}"),
            PortRangeProblem::BadHigh => write!(f, "bad high port in {text:?}"),
            PortRangeProblem::Order => {
                write!(
                    f,
                    "port range {text:?} must be LOW-HIGH with 0 < LOW < HIGH"
                )
            }
        }
    }
}

impl std::error::Error for PortRangeError {}

//! Why a command failed, said for the operator running it: what was being done, with which file,
//! address or id, and, where it is not obvious, what to do about it. `pasokh` prints the error
//! after `pasokh: ` and exits with status 1.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::drivers::media::PromptError;
use crate::store::{InvalidRole, StoreError};

#[derive(Debug)]
pub enum CliError {
    /// The async runtime could not start (no threads or file descriptors left).
    Runtime(io::Error),
    /// The database could not be opened, or a statement failed.
    Store(StoreError),
    /// A `--queue` that is not `QUEUE` or `QUEUE:PENALTY`.
    QueueFlag {
        given: String,
    },
    /// `--queue` names a queue the configuration does not have.
    NoSuchQueue {
        given: String,
        known: Vec<String>,
    },
    EmptyPassword,
    Role(InvalidRole),
    /// A token for an agent id nobody has.
    NoSuchAgent {
        id: String,
    },
    /// A token for a manager whose mailbox does not exist.
    NoManagerMailbox {
        id: String,
    },
    /// `pasokh load` could not set up or run, or its day did not reconcile.
    Load(String),
    NoSuchToken {
        id: i64,
    },
    /// A file named on the command line cannot be read.
    ReadFile {
        path: PathBuf,
        source: io::Error,
    },
    /// A cases CSV that cannot be imported at all (empty, or a wrong header).
    CasesFile {
        path: PathBuf,
        reason: String,
    },
    /// Some rows of a cases CSV were bad; they were reported one per line before this.
    RowsNotImported {
        path: PathBuf,
        count: usize,
    },
    /// The IVR flows folder cannot be listed, or one of its files read.
    FlowsFolder {
        path: PathBuf,
        source: io::Error,
    },
    /// The flows do not validate: one line per error, each naming the file, line and node.
    /// (Kept as text: the flow errors' own type belongs to the IVR and may move.)
    Flows {
        errors: Vec<String>,
    },
    /// Prompts the engine plays by name that have no file.
    MissingPrompts {
        missing: Vec<MissingPrompt>,
    },
    /// A prompt file cannot be read or decoded.
    Prompts(PromptError),
    /// An address cannot be bound (`what`: "SIP UDP", "SIP TCP", "HTTP").
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: io::Error,
    },
    /// The SIP UDP socket cannot be created or set up.
    UdpSocket(io::Error),
    /// `--tls-cert`/`--tls-key` cannot be used (the text names the file and what is wrong).
    Tls(crate::web::tls::TlsError),
    MediaWorkers(io::Error),
    /// Another engine holds the data folder's lock.
    DataFolderInUse {
        path: PathBuf,
        pid: Option<u32>,
    },
    /// The data folder's lock file cannot be made or opened.
    DataLock {
        path: PathBuf,
        detail: String,
    },
}

/// A prompt file the engine needs and cannot find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPrompt {
    /// The `.wav` path it looked for first.
    pub file: PathBuf,
    /// What plays it.
    pub played_by: String,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Runtime(error) => write!(f, "cannot start the runtime: {error}"),
            CliError::Store(error) => write!(f, "{error}"),
            CliError::NoSuchQueue { given, known } => write!(
                f,
                "no queue {given:?}: the queues are {} (add one with [queues.NAME] in the \
                 config file)",
                known.join(", ")
            ),
            CliError::QueueFlag { given } => write!(
                f,
                "bad penalty in --queue {given:?}: give QUEUE or QUEUE:PENALTY, PENALTY a \
                 whole number (lower penalty first)"
            ),
            CliError::EmptyPassword => write!(f, "the password must not be empty"),
            CliError::Role(error) => write!(f, "{error}"),
            CliError::NoSuchAgent { id } => {
                write!(f, "no agent {id}: add it first with `pasokh agent add`")
            }
            CliError::NoManagerMailbox { id } => {
                write!(f, "no mailbox {id}: add it first with `pasokh manager add`")
            }
            CliError::NoSuchToken { id } => {
                write!(f, "no token {id}: `pasokh token list` shows the ids")
            }
            CliError::Load(text) => write!(f, "load: {text}"),
            CliError::ReadFile { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            CliError::CasesFile { path, reason } => write!(f, "{}: {reason}", path.display()),
            CliError::RowsNotImported { count, .. } => {
                write!(f, "{count} rows were not imported (see above)")
            }
            CliError::FlowsFolder { path, source } => {
                write!(
                    f,
                    "cannot read the flows folder {}: {source}",
                    path.display()
                )
            }
            CliError::Flows { errors } => {
                write!(f, "the IVR flows have errors:\n{}", errors.join("\n"))
            }
            CliError::MissingPrompts { missing } => {
                write!(f, "prompt files are missing:")?;
                for prompt in missing {
                    write!(
                        f,
                        "\n  {} (or .mp3/.ogg), played by {}",
                        prompt.file.display(),
                        prompt.played_by
                    )?;
                }
                Ok(())
            }
            CliError::Prompts(error) => write!(f, "{error}"),
            CliError::Bind { what, addr, source } => {
                write!(f, "cannot bind {what} {addr}: {source}")
            }
            CliError::UdpSocket(error) => write!(f, "cannot set up the SIP UDP socket: {error}"),
            CliError::Tls(error) => write!(f, "cannot serve HTTPS: {error}"),
            CliError::MediaWorkers(error) => write!(f, "cannot start the media workers: {error}"),
            CliError::DataFolderInUse { path, pid } => {
                write!(
                    f,
                    "another pasokh is running on the data folder {}",
                    path.display()
                )?;
                if let Some(pid) = pid {
                    write!(f, " (process {pid})")?;
                }
                write!(
                    f,
                    ": stop it first, or give this one its own folder with --data"
                )
            }
            CliError::DataLock { path, detail } => write!(
                f,
                "cannot lock the data folder {}: {detail}",
                path.display()
            ),
        }
    }
}

/// The cause's text is already in the message (an operator reads one line), so `source` is not
/// given as well: a reporter walking the chain would print it twice.
impl std::error::Error for CliError {}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> CliError {
        CliError::Store(error)
    }
}

impl From<InvalidRole> for CliError {
    fn from(error: InvalidRole) -> CliError {
        CliError::Role(error)
    }
}

impl From<PromptError> for CliError {
    fn from(error: PromptError) -> CliError {
        CliError::Prompts(error)
    }
}

/// The single-threaded runtime the management commands run their database work on.
pub(super) fn current_thread_runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_and_where() {
        let missing = CliError::MissingPrompts {
            missing: vec![
                MissingPrompt {
                    file: PathBuf::from("prompts/fa/queue/in_line.wav"),
                    played_by: "the ACD".into(),
                },
                MissingPrompt {
                    file: PathBuf::from("prompts/fa/ivr/goodbye.wav"),
                    played_by: "every flow's hang-up".into(),
                },
            ],
        };
        assert_eq!(
            missing.to_string(),
            "prompt files are missing:\n  prompts/fa/queue/in_line.wav (or .mp3/.ogg), played by \
             the ACD\n  prompts/fa/ivr/goodbye.wav (or .mp3/.ogg), played by every flow's hang-up"
        );
        let bind = CliError::Bind {
            what: "HTTP",
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert!(
            bind.to_string()
                .starts_with("cannot bind HTTP 127.0.0.1:8080: "),
            "{bind}"
        );
        let flows = CliError::Flows {
            errors: vec!["a.yaml:3: node x: one".into(), "b.yaml:9: two".into()],
        };
        assert_eq!(
            flows.to_string(),
            "the IVR flows have errors:\na.yaml:3: node x: one\nb.yaml:9: two"
        );
        assert_eq!(
            CliError::RowsNotImported {
                path: PathBuf::from("cases.csv"),
                count: 4
            }
            .to_string(),
            "4 rows were not imported (see above)"
        );
    }
}

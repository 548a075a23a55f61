//! The engine's log: which lines (`RUST_LOG`, `info` when unset), in which shape (text or JSON,
//! `Config::log_format`), and colour only for a person at a terminal: escape codes in a file,
//! the journal or a log shipper are noise that breaks searching.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the subscriber for `serve`; a second call (tests) leaves the first in place.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        // Fields at the top level (`"message"`, `"call_ref"`…), so a shipper indexes them
        // without unwrapping a nested object; no colour whatever the output is.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_ansi(false)
            .try_init(),
    };
}

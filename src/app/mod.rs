//! The commands behind the CLI: `serve` wires the drivers around the engine; `admin` holds the
//! management commands.

pub mod admin;
mod agents_sync;
pub mod bundled;
pub mod cases;
mod data_lock;
pub(crate) mod demo;
pub mod error;
pub mod flows;
pub mod load;
mod logging;
mod recovery;
pub mod serve;

pub use error::{CliError, MissingPrompt};

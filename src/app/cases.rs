//! `pasokh cases import FILE.csv`: validates every row, reports bad rows by line number, imports
//! the good rows in one transaction (a number imported again is updated).

use std::path::Path;

use super::error::{current_thread_runtime, CliError};
use crate::config::Config;
use crate::store::case_import::parse_csv;
use crate::store::Store;

pub fn import(config: &Config, file: &Path) -> Result<(), CliError> {
    let text = std::fs::read_to_string(file).map_err(|source| CliError::ReadFile {
        path: file.to_path_buf(),
        source,
    })?;
    let parsed = parse_csv(&text).map_err(|reason| CliError::CasesFile {
        path: file.to_path_buf(),
        reason,
    })?;
    for bad in &parsed.bad {
        eprintln!("{}:{}: {}", file.display(), bad.line, bad.reason);
    }
    current_thread_runtime()?.block_on(async {
        let store = Store::open(&config.data).await?;
        store.import_cases(&parsed.cases).await?;
        store.close().await;
        Ok::<(), CliError>(())
    })?;
    println!(
        "imported {} cases, {} bad rows",
        parsed.cases.len(),
        parsed.bad.len()
    );
    if parsed.bad.is_empty() {
        Ok(())
    } else {
        Err(CliError::RowsNotImported {
            path: file.to_path_buf(),
            count: parsed.bad.len(),
        })
    }
}

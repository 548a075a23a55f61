//! `pasokh cases import FILE.csv`: validates every row, reports bad rows by line number, imports
//! the good rows in one transaction (a number imported again is updated).

use std::path::Path;

use crate::config::Config;
use crate::store::case_import::parse_csv;
use crate::store::Store;

pub fn import(config: &Config, file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let parsed = parse_csv(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    for bad in &parsed.bad {
        eprintln!("{}:{}: {}", file.display(), bad.line, bad.reason);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let store = Store::open(&config.data).await.map_err(|e| e.to_string())?;
        store
            .import_cases(&parsed.cases)
            .await
            .map_err(|e| e.to_string())?;
        store.close().await;
        Ok::<(), String>(())
    })?;
    println!(
        "imported {} cases, {} bad rows",
        parsed.cases.len(),
        parsed.bad.len()
    );
    if parsed.bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} rows were not imported (see above)",
            parsed.bad.len()
        ))
    }
}

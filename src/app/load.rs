//! `pasokh load day | capacity | pcaps`: prints the load's report (and writes it with
//! `--report DIR`); the exit status says whether the day was clean.

use std::path::{Path, PathBuf};

use super::CliError;
use crate::config::Config;
use crate::load::{self, DayOptions};

fn failed(e: load::LoadError) -> CliError {
    CliError::Load(e.to_string())
}

fn write_report(dir: &Path, json: &serde_json::Value, html: &str) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::Load(format!("{}: {e}", dir.display())))?;
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text)
            .map_err(|e| CliError::Load(format!("{}: {e}", dir.join(name).display())))
    };
    write("report.json", &format!("{json}\n"))?;
    write("report.html", html)?;
    eprintln!("report written to {}", dir.join("report.html").display());
    Ok(())
}

pub fn day(
    config: &Config,
    options: &DayOptions,
    as_json: bool,
    report_dir: Option<&PathBuf>,
) -> Result<(), CliError> {
    let report = load::day(config, options).map_err(failed)?;
    print!("{}", report.text());
    let json = report.json();
    if as_json {
        println!("{json}");
    }
    if let Some(dir) = report_dir {
        write_report(dir, &json, &report.html())?;
    }
    if report.clean() {
        Ok(())
    } else {
        Err(CliError::Load(
            "the day was not clean: failed calls, callers who heard nothing, or messages that do not match their calls (above)".into(),
        ))
    }
}

pub fn capacity(
    config: &Config,
    as_json: bool,
    start_rate: f64,
    step_seconds: f64,
    agents: u32,
) -> Result<(), CliError> {
    let result = load::capacity(config, start_rate, step_seconds, agents).map_err(failed)?;
    print!("{}", result.text());
    if as_json {
        println!("{}", result.json());
    }
    Ok(())
}

pub fn pcaps(config: &Config, out: &Path) -> Result<(), CliError> {
    for file in load::write_pcaps(config, out).map_err(failed)? {
        println!("{}", file.display());
    }
    Ok(())
}

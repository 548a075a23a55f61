//! Loading the IVR flows and prompt manifests from their folders (shared by `serve` and the
//! `flows` commands), and the offline commands `pasokh flows check` / `flows simulate`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::{current_thread_runtime, CliError, MissingPrompt};
use crate::config::Config;
use crate::ivr::jalali::tehran_local;
use crate::ivr::{load_flows, CallContext, FlowSet};
use crate::store::Store;

/// The queues flows may send callers to.
pub const QUEUES: [&str; 3] = ["137", "1888", "zoning"];

/// Prompt id → Persian text, from every `*.tsv` manifest in the prompts folder.
pub fn read_manifests(prompts: &Path) -> HashMap<String, String> {
    let mut texts = HashMap::new();
    let Ok(entries) = std::fs::read_dir(prompts) else {
        return texts;
    };
    for entry in entries.flatten() {
        if entry.path().extension().is_some_and(|e| e == "tsv") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                if let Some((id, said)) = line.split_once('\t') {
                    texts.insert(id.trim().to_string(), said.trim().to_string());
                }
            }
        }
    }
    texts
}

fn prompt_file_exists(prompts: &Path, id: &str) -> bool {
    ["wav", "mp3", "ogg"]
        .iter()
        .any(|ext| prompts.join(format!("{id}.{ext}")).is_file())
}

/// Reads and validates every flow; an error names the file, line and node.
pub fn load_flow_set(config: &Config) -> Result<FlowSet, CliError> {
    let entries = std::fs::read_dir(&config.flows).map_err(|source| CliError::FlowsFolder {
        path: config.flows.clone(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let text = std::fs::read_to_string(&path).map_err(|source| CliError::ReadFile {
                path: path.clone(),
                source,
            })?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    let queues: Vec<String> = QUEUES.iter().map(|q| q.to_string()).collect();
    let exists = |id: &str| prompt_file_exists(&config.prompts, id);
    load_flows(&files, &exists, &queues).map_err(|errors| CliError::Flows {
        errors: errors.iter().map(|e| e.to_string()).collect(),
    })
}

/// Every prompt the engine plays by name must be a file in the prompts folder: a start-up
/// error naming each missing one, rather than silence on a live call.
pub fn check_engine_prompts(config: &Config) -> Result<(), CliError> {
    let missing: Vec<MissingPrompt> = crate::engine::prompt_names::engine_prompts()
        .into_iter()
        .filter(|(id, _)| !prompt_file_exists(&config.prompts, id))
        .map(|(id, by)| MissingPrompt {
            file: config.prompts.join(format!("{id}.wav")),
            played_by: by.to_string(),
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CliError::MissingPrompts { missing })
    }
}

pub fn check(config: &Config) -> Result<(), CliError> {
    check_engine_prompts(config)?;
    let flows = load_flow_set(config)?;
    let mut lines: Vec<&str> = flows.lines().collect();
    lines.sort();
    println!("flows ok: {}", lines.join(", "));
    Ok(())
}

/// Tehran's date and time now, as a call would see it.
pub fn context_now(line: &str, caller: &str) -> CallContext {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (today, weekday, minute_of_day) = tehran_local(seconds);
    CallContext {
        line: line.to_string(),
        caller: caller.to_string(),
        today,
        weekday,
        minute_of_day,
    }
}

pub fn simulate(config: &Config, line: &str, keys: &str) -> Result<(), CliError> {
    let flows = Arc::new(load_flow_set(config)?);
    let texts = read_manifests(&config.prompts);
    let runtime = current_thread_runtime()?;
    // Cases and messages come from the database when there is one, so a real file number works.
    // Without one (and without --demo, which seeds it) nothing is created: a simulation run in
    // any folder must not leave a `data/` behind.
    let has_database = config.data.join(crate::store::DATABASE_FILE).is_file();
    let store = if has_database || config.demo {
        let store = runtime.block_on(Store::open(&config.data))?;
        if config.demo {
            runtime.block_on(super::demo::seed(&store, config))?;
        }
        Some(store)
    } else {
        None
    };
    let cases = |kind, number: &str| {
        let store = store.as_ref()?;
        runtime
            .block_on(store.find_case(kind, number))
            .ok()
            .flatten()
    };
    let messages = |code: &str| {
        let store = store.as_ref()?;
        runtime.block_on(store.message_status(code)).ok().flatten()
    };
    let prompt_text = |id: &str| texts.get(id).cloned();
    let transcript = crate::ivr::simulate(
        &flows,
        line,
        keys,
        &cases,
        &messages,
        &prompt_text,
        context_now(line, "simulator"),
    );
    for step in transcript {
        println!("{step}");
    }
    if let Some(store) = &store {
        runtime.block_on(store.close());
    }
    Ok(())
}

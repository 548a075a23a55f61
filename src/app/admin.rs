//! Management commands. They open the same database as a running engine (SQLite in WAL mode with a
//! busy timeout lets both write); the engine notices new agents within a second.

use crate::config::Config;
use crate::sip::registrar::UserCredentials;
use crate::store::{Role, Store};

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// `QUEUE` or `QUEUE:PENALTY`.
fn parse_queue(text: &str) -> Result<(String, u32), String> {
    match text.split_once(':') {
        None => Ok((text.to_string(), 0)),
        Some((queue, penalty)) => penalty
            .parse()
            .map(|p| (queue.to_string(), p))
            .map_err(|_| format!("bad penalty in --queue {text:?}")),
    }
}

pub fn agent_add(
    config: &Config,
    id: &str,
    name: &str,
    password: &str,
    queues: &[String],
) -> Result<(), String> {
    if password.is_empty() {
        return Err("the password must not be empty".into());
    }
    let queues = queues
        .iter()
        .map(|q| parse_queue(q))
        .collect::<Result<Vec<_>, _>>()?;
    let credentials = UserCredentials::from_password(id, &config.realm, password);
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await.map_err(|e| e.to_string())?;
        store
            .add_agent(id, name, &credentials, &queues)
            .await
            .map_err(|e| e.to_string())?;
        store.close().await;
        println!("agent {id} saved");
        Ok(())
    })
}

pub fn agent_list(config: &Config) -> Result<(), String> {
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await.map_err(|e| e.to_string())?;
        let agents = store.list_agents().await.map_err(|e| e.to_string())?;
        println!("{:<10} {:<24} QUEUES", "ID", "NAME");
        for agent in agents {
            let queues: Vec<String> = agent
                .queues
                .iter()
                .map(|(q, p)| {
                    if *p == 0 {
                        q.clone()
                    } else {
                        format!("{q}:{p}")
                    }
                })
                .collect();
            println!("{:<10} {:<24} {}", agent.id, agent.name, queues.join(","));
        }
        store.close().await;
        Ok(())
    })
}

pub fn token_create(config: &Config, role: &str) -> Result<(), String> {
    let role = Role::parse(role).map_err(|e| e.to_string())?;
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await.map_err(|e| e.to_string())?;
        let token = store.create_token(&role).await.map_err(|e| e.to_string())?;
        store.close().await;
        println!("{token}");
        Ok(())
    })
}

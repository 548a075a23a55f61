//! Management commands. They open the same database as a running engine (SQLite in WAL mode with a
//! busy timeout lets both write); the engine notices new agents within a second.

use super::error::{current_thread_runtime as runtime, CliError};
use crate::config::Config;
use crate::sip::registrar::UserCredentials;
use crate::store::{Role, Store};

/// `QUEUE` or `QUEUE:PENALTY`.
fn parse_queue(text: &str) -> Result<(String, u32), CliError> {
    match text.split_once(':') {
        None => Ok((text.to_string(), 0)),
        Some((queue, penalty)) => penalty
            .parse()
            .map(|p| (queue.to_string(), p))
            .map_err(|_| CliError::QueueFlag {
                given: text.to_string(),
            }),
    }
}

pub fn agent_add(
    config: &Config,
    id: &str,
    name: &str,
    password: &str,
    queues: &[String],
) -> Result<(), CliError> {
    if password.is_empty() {
        return Err(CliError::EmptyPassword);
    }
    let queues = queues
        .iter()
        .map(|q| parse_queue(q))
        .collect::<Result<Vec<_>, _>>()?;
    let credentials = UserCredentials::from_password(id, &config.realm, password);
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await?;
        store.add_agent(id, name, &credentials, &queues).await?;
        store.close().await;
        println!("agent {id} saved");
        Ok(())
    })
}

pub fn agent_list(config: &Config) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await?;
        let agents = store.list_agents().await?;
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

pub fn manager_add(
    config: &Config,
    mailbox: &str,
    name: &str,
    pin: &str,
    password: &str,
) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await?;
        let saved = store.add_manager(mailbox, name, pin, password).await;
        store.close().await;
        saved?;
        println!("manager {mailbox} saved");
        Ok(())
    })
}

pub fn manager_list(config: &Config) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await?;
        let listed = async {
            let mut rows = Vec::new();
            for manager in store.list_managers().await? {
                let messages = store.mailbox_messages(&manager.mailbox).await?;
                let waiting = messages.iter().filter(|m| m.status == "referred").count();
                rows.push((manager, waiting, messages.len() - waiting));
            }
            Ok::<_, crate::store::StoreError>(rows)
        }
        .await;
        store.close().await;
        println!(
            "{:<9} {:<32} {:>7} {:>9}",
            "MAILBOX", "NAME", "WAITING", "ANSWERED"
        );
        for (manager, waiting, answered) in listed? {
            println!(
                "{:<9} {:<32} {waiting:>7} {answered:>9}",
                manager.mailbox, manager.name
            );
        }
        Ok(())
    })
}

/// Why a role may not have a token, if it may not: an agent or a manager must exist (the token
/// would otherwise open the messages of whoever is later added with that id).
async fn refusal(store: &Store, role: &Role) -> Result<Option<CliError>, CliError> {
    Ok(match role {
        Role::Agent(id) => {
            let exists = store.agent_exists(id).await?;
            (!exists).then(|| CliError::NoSuchAgent { id: id.clone() })
        }
        Role::Manager(id) => {
            let exists = store.manager_exists(id).await?;
            (!exists).then(|| CliError::NoManagerMailbox { id: id.clone() })
        }
        Role::Admin | Role::Supervisor | Role::Screener => None,
    })
}

pub fn token_create(config: &Config, role: &str) -> Result<(), CliError> {
    let role = Role::parse(role)?;
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await?;
        let outcome = match refusal(&store, &role).await {
            Ok(None) => store.create_token(&role).await.map_err(CliError::from),
            Ok(Some(reason)) => Err(reason),
            Err(error) => Err(error),
        };
        store.close().await;
        println!("{}", outcome?);
        Ok(())
    })
}

/// Lists tokens by id, role and creation time; the tokens themselves are not stored.
pub fn token_list(config: &Config) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await?;
        let tokens = store.list_tokens().await;
        store.close().await;
        println!("{:<6} {:<24} CREATED", "ID", "ROLE");
        for token in tokens? {
            let created = crate::web::iso8601_utc(token.created_at);
            println!("{:<6} {:<24} {created}", token.id, token.role);
        }
        Ok(())
    })
}

/// Deletes a token by the id `token list` shows; it stops working at once.
pub fn token_revoke(config: &Config, id: i64) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let store = Store::open(&config.data).await?;
        let revoked = store.revoke_token(id).await;
        store.close().await;
        if revoked? {
            println!("token {id} revoked");
            Ok(())
        } else {
            Err(CliError::NoSuchToken { id })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::TempDir;

    #[tokio::test]
    async fn tokens_are_refused_for_unknown_agents_and_managers() -> Result<(), CliError> {
        let dir = TempDir::new("token-refusal");
        let store = Store::open(dir.path()).await?;
        let credentials = UserCredentials::from_password("2001", "pasokh", "pw");
        store.add_agent("2001", "Sara", &credentials, &[]).await?;
        let text = |refused: Option<CliError>| refused.map(|r| r.to_string());
        assert_eq!(
            text(refusal(&store, &Role::Agent("2001".into())).await?),
            None
        );
        assert_eq!(text(refusal(&store, &Role::Screener).await?), None);
        let unknown = text(refusal(&store, &Role::Agent("9999".into())).await?);
        assert!(unknown.is_some_and(|r| r.contains("no agent 9999")));
        let manager = text(refusal(&store, &Role::Manager("77".into())).await?);
        assert!(manager.is_some_and(|r| r.contains("no mailbox 77")));
        store
            .add_manager("77", "Manager", "1234", "password")
            .await?;
        let manager = text(refusal(&store, &Role::Manager("77".into())).await?);
        assert_eq!(manager, None);
        store.close().await;
        Ok(())
    }
}

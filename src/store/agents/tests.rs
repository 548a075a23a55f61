use super::super::test_support::TempDir;
use super::*;

const REALM: &str = "pasokh";

fn queues(list: &[(&str, u32)]) -> Vec<(String, u32)> {
    list.iter().map(|(q, p)| (q.to_string(), *p)).collect()
}

#[tokio::test]
async fn an_added_agent_is_listed_with_queues_and_credentials() -> Result<(), StoreError> {
    let dir = TempDir::new("agents-add");
    let store = Store::open(dir.path()).await?;
    let creds = UserCredentials::from_password("2001", REALM, "secret-2001");
    let q = queues(&[("urban", 0), ("oversight", 5)]);
    store.add_agent("2001", "Maryam", &creds, &q).await?;
    store
        .add_agent(
            "1999",
            "Reza",
            &UserCredentials::from_password("1999", REALM, "x"),
            &[],
        )
        .await?;

    let before_listing = unix_ms_now();
    let listed = store.list_agents().await?;
    assert!(listed.iter().all(|a| a.created_at <= before_listing));
    let without_times: Vec<AgentRow> = listed
        .into_iter()
        .map(|a| AgentRow { created_at: 0, ..a })
        .collect();
    let row = |id: &str, name: &str, q: Vec<(String, u32)>| AgentRow {
        id: id.to_string(),
        name: name.to_string(),
        queues: q,
        created_at: 0,
    };
    assert_eq!(
        without_times,
        [
            row("1999", "Reza", vec![]),
            row("2001", "Maryam", queues(&[("oversight", 5), ("urban", 0)]))
        ]
    );
    let credentials = store.agent_credentials().await?;
    assert_eq!(
        credentials.get(1),
        Some(&("2001".to_string(), creds.clone()))
    );
    // RFC 2617 HA1 = MD5("2001:pasokh:secret-2001"): hex of 16 bytes, SHA-256 of 32.
    assert_eq!(creds.ha1_md5.len(), 32);
    assert_eq!(creds.ha1_sha256.len(), 64);
    Ok(())
}

#[tokio::test]
async fn re_adding_an_id_replaces_it_and_keeps_created_at() -> Result<(), StoreError> {
    let dir = TempDir::new("agents-update");
    let store = Store::open(dir.path()).await?;
    let old = UserCredentials::from_password("2001", REALM, "old");
    let new = UserCredentials::from_password("2001", REALM, "new");
    store
        .add_agent("2001", "Maryam", &old, &queues(&[("urban", 1), ("x", 2)]))
        .await?;
    let first = store.list_agents().await?;
    store
        .add_agent(
            "2001",
            "Maryam K.",
            &new,
            &queues(&[("urban", 3), ("urban", 4)]),
        )
        .await?;
    let second = store.list_agents().await?;
    assert_eq!(second.len(), 1);
    let (Some(before), Some(after)) = (first.first(), second.first()) else {
        panic!("agent missing: {first:?} / {second:?}");
    };
    assert_eq!(after.name, "Maryam K.");
    assert_eq!(after.queues, queues(&[("urban", 4)]));
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(
        store.agent_credentials().await?,
        [("2001".to_string(), new)]
    );
    Ok(())
}

#[tokio::test]
async fn the_version_moves_on_every_change_and_only_then() -> Result<(), StoreError> {
    let dir = TempDir::new("agents-version");
    let store = Store::open(dir.path()).await?;
    let creds = UserCredentials::from_password("2001", REALM, "pw");
    let v0 = store.agents_version().await?;
    assert_eq!(store.agents_version().await?, v0, "reading is not a change");
    store.add_agent("2001", "A", &creds, &[]).await?;
    let v1 = store.agents_version().await?;
    assert!(v1 > v0);
    store.list_agents().await?;
    assert_eq!(store.agents_version().await?, v1);
    store
        .add_agent("2001", "A", &creds, &queues(&[("urban", 0)]))
        .await?;
    assert!(store.agents_version().await? > v1);
    Ok(())
}

#[tokio::test]
async fn the_password_never_reaches_the_file() -> Result<(), StoreError> {
    let dir = TempDir::new("agents-no-password");
    let store = Store::open(dir.path()).await?;
    let password = "UniquePassword-7f3a";
    let creds = UserCredentials::from_password("2001", REALM, password);
    store.add_agent("2001", "A", &creds, &[]).await?;
    store.close().await;
    // Committed data may sit in the database file or its write-ahead log: search both.
    let mut bytes = std::fs::read(dir.path().join("pasokh.db")).unwrap_or_default();
    bytes.extend(std::fs::read(dir.path().join("pasokh.db-wal")).unwrap_or_default());
    let holds = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!holds(password.as_bytes()), "the password was saved");
    assert!(holds(creds.ha1_sha256.as_bytes()), "the HA1 was not saved");
    Ok(())
}

#[tokio::test]
async fn bad_ids_and_queue_names_are_refused_before_writing() -> Result<(), StoreError> {
    let dir = TempDir::new("agents-invalid");
    let store = Store::open(dir.path()).await?;
    let creds = UserCredentials::from_password("x", REALM, "pw");
    for id in ["", "20 01", "2001;drop", "a:b", &"9".repeat(65)] {
        let result = store.add_agent(id, "n", &creds, &[]).await;
        assert!(matches!(result, Err(StoreError::Invalid(_))), "{id:?}");
    }
    let result = store
        .add_agent("2001", "n", &creds, &queues(&[("ok", 0), ("", 1)]))
        .await;
    assert!(matches!(result, Err(StoreError::Invalid(_))));
    assert_eq!(store.list_agents().await?, []);
    Ok(())
}

#[tokio::test]
async fn an_agents_password_is_checked_against_its_ha1_and_unknown_ids_look_alike(
) -> Result<(), StoreError> {
    let dir = TempDir::new("agents-password");
    let store = Store::open(dir.path()).await?;
    let creds = UserCredentials::from_password("2001", REALM, "secret-2001");
    store.add_agent("2001", "Maryam", &creds, &[]).await?;
    assert!(
        store
            .verify_agent_password("2001", REALM, "secret-2001")
            .await?
    );
    assert!(
        !store
            .verify_agent_password("2001", REALM, "secret-2002")
            .await?
    );
    assert!(
        !store
            .verify_agent_password("2001", "other", "secret-2001")
            .await?
    );
    assert!(
        !store
            .verify_agent_password("2002", REALM, "secret-2001")
            .await?
    );
    assert!(!store.verify_agent_password("2002", REALM, "").await?);
    Ok(())
}

use super::super::test_support::TempDir;
use super::*;

#[test]
fn roles_parse_and_print_back() {
    let cases = [
        ("admin", Role::Admin),
        ("supervisor", Role::Supervisor),
        ("screener", Role::Screener),
        ("agent:2001", Role::Agent("2001".to_string())),
        (
            "manager:district-7",
            Role::Manager("district-7".to_string()),
        ),
    ];
    for (text, role) in cases {
        assert_eq!(Role::parse(text), Ok(role.clone()));
        assert_eq!(role.to_string(), text);
        assert_eq!(text.parse::<Role>(), Ok(role));
    }
}

#[test]
fn malformed_roles_are_refused() {
    for text in [
        "",
        "Admin",
        "root",
        "agent",
        "agent:",
        "agent:a b",
        "manager:x:y",
        "admin:1",
        ":2001",
        " admin",
    ] {
        assert_eq!(
            Role::parse(text),
            Err(InvalidRole(text.to_string())),
            "{text:?}"
        );
    }
}

#[test]
fn the_hash_is_sha256_hex() {
    // FIPS 180-2 appendix B.1 test vector.
    assert_eq!(
        token_hash("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[tokio::test]
async fn a_created_token_verifies_to_its_role() -> Result<(), StoreError> {
    let dir = TempDir::new("tokens-verify");
    let store = Store::open(dir.path()).await?;
    add_agent(&store, "2001").await?;
    let admin = store.create_token(&Role::Admin).await?;
    let agent = store.create_token(&Role::Agent("2001".to_string())).await?;
    assert_ne!(admin, agent);
    assert!(looks_like_token(&admin), "{admin}");
    assert_eq!(store.verify_token(&admin).await?, Some(Role::Admin));
    assert_eq!(
        store.verify_token(&agent).await?,
        Some(Role::Agent("2001".to_string()))
    );
    Ok(())
}

#[tokio::test]
async fn unknown_and_malformed_tokens_verify_to_nothing() -> Result<(), StoreError> {
    let dir = TempDir::new("tokens-unknown");
    let store = Store::open(dir.path()).await?;
    let real = store.create_token(&Role::Supervisor).await?;
    let mut altered = real.clone();
    let last = if altered.ends_with('0') { "1" } else { "0" };
    altered.replace_range(altered.len() - 1.., last);
    let unknown = format!("{TOKEN_PREFIX}{}", "0".repeat(40));
    let too_long = format!("{real}0");
    for token in [
        &altered,
        &unknown,
        &too_long,
        "",
        "psk_",
        "Bearer x",
        &real[4..],
    ] {
        assert_eq!(store.verify_token(token).await?, None, "{token:?}");
    }
    Ok(())
}

#[tokio::test]
async fn only_the_hash_is_stored() -> Result<(), StoreError> {
    let dir = TempDir::new("tokens-hash");
    let store = Store::open(dir.path()).await?;
    let token = store.create_token(&Role::Admin).await?;
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_sha256 FROM api_tokens")
        .fetch_all(store.pool())
        .await
        .map_err(store.error("read tokens"))?;
    assert_eq!(stored, [token_hash(&token)]);
    store.close().await;
    let file = database_bytes(store.path());
    let secret = &token.as_bytes()[TOKEN_PREFIX.len()..];
    assert!(!file.windows(secret.len()).any(|w| w == secret));
    let hash = token_hash(&token);
    assert!(file.windows(hash.len()).any(|w| w == hash.as_bytes()));
    Ok(())
}

/// The database and its write-ahead log together: committed data may sit in either.
fn database_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

async fn add_agent(store: &Store, id: &str) -> Result<(), StoreError> {
    let credentials = crate::sip::registrar::UserCredentials::from_password(id, "pasokh", "pw");
    store.add_agent(id, id, &credentials, &[]).await
}

#[tokio::test]
async fn an_agent_token_works_only_while_its_agent_exists() -> Result<(), StoreError> {
    let dir = TempDir::new("tokens-agent-gone");
    let store = Store::open(dir.path()).await?;
    let ghost = store.create_token(&Role::Agent("9999".to_string())).await?;
    assert_eq!(store.verify_token(&ghost).await?, None, "no such agent");
    add_agent(&store, "2002").await?;
    let agent = store.create_token(&Role::Agent("2002".to_string())).await?;
    assert_eq!(
        store.verify_token(&agent).await?,
        Some(Role::Agent("2002".to_string()))
    );
    sqlx::query("DELETE FROM agents WHERE id = '2002'")
        .execute(store.pool())
        .await
        .map_err(store.error("remove an agent"))?;
    assert_eq!(store.verify_token(&agent).await?, None, "agent removed");
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn tokens_are_listed_without_secrets_and_revoked_by_id() -> Result<(), StoreError> {
    let dir = TempDir::new("tokens-list");
    let store = Store::open(dir.path()).await?;
    let admin = store.create_token(&Role::Admin).await?;
    let screener = store.create_token(&Role::Screener).await?;
    let listed = store.list_tokens().await?;
    let roles: Vec<&str> = listed.iter().map(|t| t.role.as_str()).collect();
    assert_eq!(roles, ["admin", "screener"]);
    assert!(listed.iter().all(|t| t.created_at > 0));
    assert!(store.revoke_token(listed[0].id).await?);
    assert!(!store.revoke_token(listed[0].id).await?, "already gone");
    assert_eq!(store.verify_token(&admin).await?, None);
    assert_eq!(store.verify_token(&screener).await?, Some(Role::Screener));
    assert_eq!(store.list_tokens().await?.len(), 1);
    store.close().await;
    Ok(())
}

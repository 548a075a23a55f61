//! `--demo`: seeds what a newcomer needs to call in at once: call-takers 2001–2003 (password
//! `demo2001` etc.) on the 137, 1888 and zoning queues, managers' mailboxes 501–503, and a few
//! thousand synthetic cases (two of them with known numbers, listed in the README). Re-seeding is idempotent.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::Config;
use crate::ivr::case::{stage_names, VERDICTS};
use crate::ivr::jalali::JalaliDate;
use crate::ivr::{CaseInfo, CaseKind};
use crate::sip::registrar::UserCredentials;
use crate::store::{Store, StoreError};

pub const DEMO_AGENTS: [(&str, &str); 3] = [
    ("2001", "Maryam Ahmadi"),
    ("2002", "Reza Karimi"),
    ("2003", "Sara Hosseini"),
];

/// Managers' mailboxes of the demo: (mailbox, name, PIN, password). The demo's
/// `[mailboxes]` suggestions share the 22 districts between them (`MailboxRoutes::demo`).
pub const DEMO_MANAGERS: [(&str, &str, &str, &str); 3] = [
    ("501", "Districts 1-7 manager", "5011", "manager501"),
    ("502", "Districts 8-15 manager", "5022", "manager502"),
    ("503", "Districts 16-22 manager", "5033", "manager503"),
];

const DEMO_CASES: usize = 3000;

pub async fn seed(store: &Store, config: &Config) -> Result<(), StoreError> {
    let queues = vec![
        ("137".to_string(), 0),
        ("1888".to_string(), 0),
        ("zoning".to_string(), 1),
    ];
    for (id, name) in DEMO_AGENTS {
        let credentials = UserCredentials::from_password(id, &config.realm, &format!("demo{id}"));
        store.add_agent(id, name, &credentials, &queues).await?;
    }
    for (mailbox, name, pin, password) in DEMO_MANAGERS {
        store.add_manager(mailbox, name, pin, password).await?;
    }
    store.import_cases(&demo_cases()).await?;
    tracing::info!(
        "demo data seeded: agents 2001-2003 (passwords demo2001..), managers 501-503 \
         (PINs 5011, 5022, 5033; passwords manager501..), {DEMO_CASES} cases"
    );
    Ok(())
}

fn date(year: i32, month: u8, day: u8) -> JalaliDate {
    JalaliDate::new(year, month, day).unwrap_or(JalaliDate {
        year,
        month: 1,
        day: 1,
    })
}

/// Known cases for a first call, then deterministic synthetic ones.
pub fn demo_cases() -> Vec<CaseInfo> {
    let mut cases = vec![
        CaseInfo {
            kind: CaseKind::Zoning,
            number: "14031234".into(),
            district: Some(6),
            stage: "permit_issued".into(),
            last_step_date: date(1403, 5, 13),
            next_step: Some("under_construction".into()),
            session_date: None,
            verdict: None,
            fine_rials: None,
            served_date: None,
        },
        CaseInfo {
            kind: CaseKind::Article100,
            number: "22001840320".into(),
            district: Some(22),
            stage: "verdict_served".into(),
            last_step_date: date(1405, 8, 28),
            next_step: Some("objection_filed".into()),
            session_date: None,
            verdict: Some("fine".into()),
            fine_rials: Some(250_000_000),
            served_date: Some(date(1405, 8, 28)),
        },
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(137_1888);
    for n in 0..DEMO_CASES - cases.len() {
        let kind = if n % 2 == 0 {
            CaseKind::Zoning
        } else {
            CaseKind::Article100
        };
        let stages = stage_names(kind);
        let stage_index = rng.gen_range(0..stages.len());
        let article100 = kind == CaseKind::Article100 && stage_index >= 2;
        cases.push(CaseInfo {
            kind,
            number: format!("{}", 50_000_000 + n),
            district: Some(rng.gen_range(1..=22)),
            stage: stages[stage_index].into(),
            last_step_date: date(1403, rng.gen_range(1..=12), rng.gen_range(1..=29)),
            next_step: stages.get(stage_index + 1).map(|s| s.to_string()),
            session_date: (kind == CaseKind::Article100 && stage_index < 2)
                .then(|| date(1405, 10, rng.gen_range(1..=29))),
            verdict: article100.then(|| VERDICTS[rng.gen_range(0..VERDICTS.len())].to_string()),
            fine_rials: article100.then(|| rng.gen_range(10..500u64) * 1_000_000),
            served_date: article100
                .then(|| date(1403, rng.gen_range(1..=12), rng.gen_range(1..=29))),
        });
    }
    cases
}

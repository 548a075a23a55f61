//! Zoning files and Article 100 cases, imported from the municipality's CSV and read by key 4.

use sqlx::Row;

use super::{unix_ms_now, Store, StoreError};
use crate::calendar::JalaliDate;
use crate::ivr::{CaseInfo, CaseKind};

const UPSERT_CASE: &str = "\
    INSERT INTO cases (kind, number, district, stage, last_step_date, next_step, session_date, verdict, \
                       fine_rials, served_date, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
    ON CONFLICT (kind, number) DO UPDATE SET district = excluded.district, stage = excluded.stage, \
        last_step_date = excluded.last_step_date, next_step = excluded.next_step, \
        session_date = excluded.session_date, verdict = excluded.verdict, \
        fine_rials = excluded.fine_rials, served_date = excluded.served_date, updated_at = excluded.updated_at";

fn to_case(row: &sqlx::sqlite::SqliteRow) -> Option<CaseInfo> {
    let date = |name: &str| -> Option<JalaliDate> {
        row.try_get::<Option<String>, _>(name)
            .ok()
            .flatten()
            .and_then(|d| JalaliDate::parse(&d).ok())
    };
    Some(CaseInfo {
        kind: CaseKind::parse(&row.try_get::<String, _>("kind").ok()?)?,
        number: row.try_get("number").ok()?,
        district: row
            .try_get::<Option<i64>, _>("district")
            .ok()?
            .and_then(|d| u8::try_from(d).ok()),
        stage: row.try_get("stage").ok()?,
        last_step_date: date("last_step_date")?,
        next_step: row.try_get("next_step").ok()?,
        session_date: date("session_date"),
        verdict: row.try_get("verdict").ok()?,
        fine_rials: row
            .try_get::<Option<i64>, _>("fine_rials")
            .ok()?
            .and_then(|f| u64::try_from(f).ok()),
        served_date: date("served_date"),
    })
}

impl Store {
    /// Imports every case in one transaction; a number seen again is updated.
    pub async fn import_cases(&self, cases: &[CaseInfo]) -> Result<(), StoreError> {
        let now = unix_ms_now();
        let mut tx = self.begin_write("start importing cases").await?;
        for case in cases {
            sqlx::query(UPSERT_CASE)
                .bind(case.kind.as_str())
                .bind(&case.number)
                .bind(case.district.map(i64::from))
                .bind(&case.stage)
                .bind(case.last_step_date.to_string())
                .bind(&case.next_step)
                .bind(case.session_date.map(|d| d.to_string()))
                .bind(&case.verdict)
                .bind(case.fine_rials.and_then(|f| i64::try_from(f).ok()))
                .bind(case.served_date.map(|d| d.to_string()))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(self.error("import a case"))?;
        }
        tx.commit()
            .await
            .map_err(self.error("commit the case import"))
    }

    pub async fn find_case(
        &self,
        kind: CaseKind,
        number: &str,
    ) -> Result<Option<CaseInfo>, StoreError> {
        let row = sqlx::query("SELECT * FROM cases WHERE kind = ? AND number = ?")
            .bind(kind.as_str())
            .bind(number)
            .fetch_optional(self.pool())
            .await
            .map_err(self.error("look up a case"))?;
        Ok(row.as_ref().and_then(to_case))
    }

    /// Every case with this number (a zoning file and an Article 100 case may share one).
    pub async fn cases_by_number(&self, number: &str) -> Result<Vec<CaseInfo>, StoreError> {
        let rows = sqlx::query("SELECT * FROM cases WHERE number = ? ORDER BY kind")
            .bind(number)
            .fetch_all(self.pool())
            .await
            .map_err(self.error("look up cases"))?;
        Ok(rows.iter().filter_map(to_case).collect())
    }

    pub async fn count_cases(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM cases")
            .fetch_one(self.pool())
            .await
            .map_err(self.error("count cases"))
    }
}

//! `GET /api/cases/{number}?kind=zoning|article100`: a zoning file or Article 100 case, as the
//! municipality's import left it and as key 4 reads it to callers.
//!
//! Why the reply is always one object: a client (a call-taker's screen) shows one case. Numbers
//! are unique within a kind, but a zoning file and an Article 100 case may share a number; then,
//! without `kind`, the server does not guess which one the caller meant (reading a caller the
//! wrong file is worse than asking): it answers `300 Multiple Choices` listing the kinds, and the
//! client asks again with `?kind=`. Dates stay Jalali text (`1403/05/13`), the calendar the
//! records and the callers use.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::StaffOrAgent;
use super::{ApiError, Authorized, WebState};
use crate::ivr::words::to_latin_digits;
use crate::ivr::{CaseInfo, CaseKind};

/// Longest case number the importer accepts.
const MAX_NUMBER_DIGITS: usize = 20;

#[derive(Deserialize)]
pub(super) struct CaseQuery {
    kind: Option<String>,
}

/// A case as the API shows it; absent values are `null`.
#[derive(Debug, Serialize)]
struct CaseJson {
    kind: &'static str,
    number: String,
    district: Option<u8>,
    stage: String,
    last_step_date: String,
    next_step: Option<String>,
    session_date: Option<String>,
    verdict: Option<String>,
    fine_rials: Option<u64>,
    served_date: Option<String>,
}

impl From<CaseInfo> for CaseJson {
    fn from(case: CaseInfo) -> Self {
        CaseJson {
            kind: case.kind.as_str(),
            number: case.number,
            district: case.district,
            stage: case.stage,
            last_step_date: case.last_step_date.to_string(),
            next_step: case.next_step,
            session_date: case.session_date.map(|d| d.to_string()),
            verdict: case.verdict,
            fine_rials: case.fine_rials,
            served_date: case.served_date.map(|d| d.to_string()),
        }
    }
}

pub(super) async fn get_case(
    _caller: Authorized<StaffOrAgent>,
    State(state): State<WebState>,
    Path(number): Path<String>,
    query: Result<Query<CaseQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let number = case_number(&number)?;
    let kind = query.kind.as_deref().map(case_kind).transpose()?;
    let unavailable = |error: crate::store::StoreError| {
        tracing::error!(%error, "cannot look up a case");
        ApiError::Unavailable
    };
    let mut found = match kind {
        Some(kind) => state
            .store
            .find_case(kind, &number)
            .await
            .map_err(unavailable)?
            .into_iter()
            .collect(),
        None => state
            .store
            .cases_by_number(&number)
            .await
            .map_err(unavailable)?,
    };
    let headers = [(header::CACHE_CONTROL, "no-store")];
    match found.len() {
        0 => Err(ApiError::NotFound),
        1 => {
            let case = found.remove(0);
            Ok((headers, Json(CaseJson::from(case))).into_response())
        }
        _ => {
            let kinds: Vec<&str> = found.iter().map(|c| c.kind.as_str()).collect();
            let body = serde_json::json!({
                "error": format!(
                    "several cases have this number: ask again with ?kind={}",
                    kinds.join(" or ?kind=")
                ),
                "kinds": kinds,
            });
            Ok((StatusCode::MULTIPLE_CHOICES, headers, Json(body)).into_response())
        }
    }
}

/// The number in Latin digits; Persian and Arabic-Indic digits are accepted as the importer does.
fn case_number(text: &str) -> Result<String, ApiError> {
    let number = to_latin_digits(text.trim());
    if number.is_empty()
        || number.len() > MAX_NUMBER_DIGITS
        || !number.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ApiError::BadRequest(format!(
            "a case number is 1 to {MAX_NUMBER_DIGITS} digits"
        )));
    }
    Ok(number)
}

fn case_kind(text: &str) -> Result<CaseKind, ApiError> {
    CaseKind::parse(text)
        .ok_or_else(|| ApiError::BadRequest("kind must be zoning or article100".to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::test_http::{TestResult, TestServer};
    use super::*;
    use crate::calendar::JalaliDate;
    use crate::store::Role;

    fn date(text: &str) -> JalaliDate {
        JalaliDate::parse(text).unwrap_or_else(|e| panic!("bad test date {text}: {e}"))
    }

    fn zoning(number: &str) -> CaseInfo {
        CaseInfo {
            kind: CaseKind::Zoning,
            number: number.into(),
            district: Some(6),
            stage: "permit_issued".into(),
            last_step_date: date("1403/05/13"),
            next_step: Some("under_construction".into()),
            session_date: None,
            verdict: None,
            fine_rials: None,
            served_date: None,
        }
    }

    fn article100(number: &str) -> CaseInfo {
        CaseInfo {
            kind: CaseKind::Article100,
            number: number.into(),
            district: Some(22),
            stage: "verdict_served".into(),
            last_step_date: date("1405/08/28"),
            next_step: Some("objection_filed".into()),
            session_date: Some(date("1405/07/02")),
            verdict: Some("fine".into()),
            fine_rials: Some(250_000_000),
            served_date: Some(date("1405/08/28")),
        }
    }

    #[tokio::test]
    async fn one_case_is_an_object_with_jalali_dates() -> TestResult {
        let server = TestServer::start("web-cases").await?;
        let token = server
            .store
            .create_token(&Role::Agent("2001".into()))
            .await?;
        server
            .store
            .import_cases(&[zoning("14031234"), article100("22001840320")])
            .await?;
        let reply = server.get("/api/cases/14031234", Some(&token)).await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(
            reply.json()?,
            serde_json::json!({
                "kind": "zoning", "number": "14031234", "district": 6,
                "stage": "permit_issued", "last_step_date": "1403/05/13",
                "next_step": "under_construction", "session_date": null, "verdict": null,
                "fine_rials": null, "served_date": null
            })
        );
        let reply = server
            .get("/api/cases/22001840320?kind=article100", Some(&token))
            .await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json()?;
        assert_eq!(json["fine_rials"], 250_000_000);
        assert_eq!(json["served_date"], "1405/08/28");
        assert_eq!(json["session_date"], "1405/07/02");
        // Persian digits in the path name the same case.
        let persian = "%DB%B1%DB%B4%DB%B0%DB%B3%DB%B1%DB%B2%DB%B3%DB%B4";
        let reply = server
            .get(&format!("/api/cases/{persian}"), Some(&token))
            .await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        Ok(())
    }

    #[tokio::test]
    async fn unknown_numbers_wrong_kinds_and_bad_input() -> TestResult {
        let server = TestServer::start("web-cases-404").await?;
        let token = server.store.create_token(&Role::Screener).await?;
        server.store.import_cases(&[zoning("14031234")]).await?;
        for path in ["/api/cases/99999999", "/api/cases/14031234?kind=article100"] {
            let reply = server.get(path, Some(&token)).await?;
            assert_eq!(reply.status, 404, "{path}");
            assert_eq!(reply.json()?["error"], "not found");
        }
        for path in [
            "/api/cases/12a4",
            "/api/cases/123456789012345678901",
            "/api/cases/14031234?kind=permit",
        ] {
            let reply = server.get(path, Some(&token)).await?;
            assert_eq!(reply.status, 400, "{path}");
            assert!(reply.json()?["error"].is_string(), "{path}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_number_of_both_kinds_needs_a_kind() -> TestResult {
        let server = TestServer::start("web-cases-both").await?;
        let token = server.store.create_token(&Role::Supervisor).await?;
        server
            .store
            .import_cases(&[zoning("5551234"), article100("5551234")])
            .await?;
        let reply = server.get("/api/cases/5551234", Some(&token)).await?;
        assert_eq!(reply.status, 300, "{}", reply.body);
        let json = reply.json()?;
        assert_eq!(json["kinds"], serde_json::json!(["article100", "zoning"]));
        assert!(json["error"].is_string());
        for kind in ["zoning", "article100"] {
            let reply = server
                .get(&format!("/api/cases/5551234?kind={kind}"), Some(&token))
                .await?;
            assert_eq!(reply.status, 200, "{kind}");
            assert_eq!(reply.json()?["kind"], kind);
        }
        Ok(())
    }

    #[tokio::test]
    async fn cases_are_for_staff_and_agents_not_managers() -> TestResult {
        let server = TestServer::start("web-cases-roles").await?;
        server.store.import_cases(&[zoning("14031234")]).await?;
        assert_eq!(server.get("/api/cases/14031234", None).await?.status, 401);
        for (role, expected) in [
            (Role::Admin, 200),
            (Role::Supervisor, 200),
            (Role::Screener, 200),
            (Role::Agent("2003".into()), 200),
            (Role::Manager("77".into()), 403),
        ] {
            let token = server.store.create_token(&role).await?;
            let status = server
                .get("/api/cases/14031234", Some(&token))
                .await?
                .status;
            assert_eq!(status, expected, "{role}");
        }
        Ok(())
    }
}

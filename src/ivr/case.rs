//! What key 4 and "follow up a message" read to the caller: zoning files, Article 100 cases and
//! the status of a filed message.
//!
//! The IVR never talks to the database: it asks for a case by kind and number and the engine
//! answers with a [`CaseInfo`] (or nothing). Stages, verdicts and statuses are closed lists of
//! short names because each one needs a recorded Persian phrase: a stage the list does not know
//! could not be spoken, so the importer must refuse it rather than the caller hearing silence.
//! The prompt id of each name is derived from it (`stage/zoning/permit_issued`, `verdict/fine`,
//! `status/referred`), so the prompt manifest and these lists are checked against each other by
//! a test.

use crate::calendar::JalaliDate;

/// The two kinds of case a caller can ask about under key 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseKind {
    /// An urban-planning file: a building permit from application to completion certificate.
    Zoning,
    /// A building-violation case before the Article 100 commission.
    Article100,
}

impl CaseKind {
    pub const ALL: [CaseKind; 2] = [CaseKind::Zoning, CaseKind::Article100];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Zoning => "zoning",
            CaseKind::Article100 => "article100",
        }
    }

    /// The inverse of [`CaseKind::as_str`].
    pub fn parse(s: &str) -> Option<CaseKind> {
        CaseKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s.trim())
    }
}

/// Stages of a zoning file, in the order a permit goes through them.
const ZONING_STAGES: &[&str] = &[
    "file_opened",
    "site_visited",
    "plan_instructions_issued",
    "plans_approved",
    "fees_paid",
    "permit_issued",
    "under_construction",
    "completion_inspected",
    "completion_certificate_issued",
];

/// Stages of an Article 100 case, from the report of a violation to its end.
const ARTICLE100_STAGES: &[&str] = &[
    "violation_reported",
    "referred",
    "first_verdict",
    "verdict_served",
    "objection_filed",
    "appeal_verdict",
    "executed",
    "closed",
];

/// Kinds of verdict the Article 100 commission gives.
pub const VERDICTS: &[&str] = &["fine", "demolition", "no_violation"];

/// Statuses of a filed message. A voice message waits for screening (`new`), is referred to a
/// manager's mailbox or not (`referred`, `rejected`), and is answered (`replied`, or `closed`
/// when handled without a voice reply); `received` is a message with nothing to screen. The
/// others are set by staff through the API.
pub const MESSAGE_STATUSES: &[&str] = &[
    "new",
    "received",
    "referred",
    "rejected",
    "replied",
    "in_progress",
    "answered",
    "closed",
    "not_referred",
];

/// What the follow-up line can say of a message: every status, and for a message not referred
/// the reason with it (`rejected_duplicate`), since "not referred" alone leaves the caller
/// guessing what to do next.
pub const SPOKEN_STATUSES: &[&str] = &[
    "new",
    "received",
    "referred",
    "rejected",
    "rejected_incomplete_message",
    "rejected_incomplete_caller",
    "rejected_duplicate",
    "rejected_unrelated",
    "replied",
    "in_progress",
    "answered",
    "closed",
    "not_referred",
];

/// The spoken status of a message: its status, with the reason when it was not referred.
pub fn spoken_status(status: &str, reject_reason: Option<&str>) -> String {
    match reject_reason {
        Some(reason) if status == "rejected" => {
            let with_reason = format!("rejected_{reason}");
            if SPOKEN_STATUSES.contains(&with_reason.as_str()) {
                return with_reason;
            }
            status.to_string()
        }
        _ => status.to_string(),
    }
}

/// Days after a verdict is served during which the owner may object to it.
pub const OBJECTION_DAYS: i64 = 10;

/// The stage names of `kind`, in order.
pub fn stage_names(kind: CaseKind) -> &'static [&'static str] {
    match kind {
        CaseKind::Zoning => ZONING_STAGES,
        CaseKind::Article100 => ARTICLE100_STAGES,
    }
}

/// The prompt id of a stage phrase, or `None` if `stage` is not a stage of `kind`.
pub fn stage_prompt(kind: CaseKind, stage: &str) -> Option<String> {
    stage_names(kind)
        .contains(&stage)
        .then(|| format!("stage/{}/{stage}", kind.as_str()))
}

/// The prompt id of a verdict phrase, or `None` for an unknown verdict.
pub fn verdict_prompt(verdict: &str) -> Option<String> {
    VERDICTS
        .contains(&verdict)
        .then(|| format!("verdict/{verdict}"))
}

/// The prompt id of a spoken status phrase, or `None` for an unknown status.
pub fn status_prompt(status: &str) -> Option<String> {
    SPOKEN_STATUSES
        .contains(&status)
        .then(|| format!("status/{status}"))
}

/// Every phrase id the case and status readers can play: flows that read cases or statuses
/// need all of them recorded.
pub fn all_case_prompts() -> Vec<String> {
    let stages = CaseKind::ALL.into_iter().flat_map(|kind| {
        stage_names(kind)
            .iter()
            .filter_map(move |s| stage_prompt(kind, s))
    });
    let verdicts = VERDICTS.iter().filter_map(|v| verdict_prompt(v));
    let statuses = SPOKEN_STATUSES.iter().filter_map(|s| status_prompt(s));
    stages.chain(verdicts).chain(statuses).collect()
}

/// A case as the engine found it in the imported records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInfo {
    pub kind: CaseKind,
    pub number: String,
    pub district: Option<u8>,
    /// The last stage reached (a name from [`stage_names`]).
    pub stage: String,
    pub last_step_date: JalaliDate,
    /// The expected next stage, if the records say one.
    pub next_step: Option<String>,
    /// A commission session already scheduled (Article 100).
    pub session_date: Option<JalaliDate>,
    /// `fine`, `demolition` or `no_violation` once a verdict exists (Article 100).
    pub verdict: Option<String>,
    pub fine_rials: Option<u64>,
    /// When the verdict was served on the owner (Article 100).
    pub served_date: Option<JalaliDate>,
}

impl CaseInfo {
    /// The last day to object to a served Article 100 verdict.
    pub fn objection_deadline(&self) -> Option<JalaliDate> {
        match self.kind {
            CaseKind::Article100 => self.served_date.map(|d| d.add_days(OBJECTION_DAYS)),
            CaseKind::Zoning => None,
        }
    }

    /// Days left to object, counted from `today`: only while the verdict is served and not yet
    /// objected to, and only up to the deadline itself (0 on the last day).
    pub fn days_left_to_object(&self, today: JalaliDate) -> Option<u32> {
        if self.stage != "verdict_served" {
            return None;
        }
        let deadline = self.objection_deadline()?;
        let left = deadline.to_unix_days() - today.to_unix_days();
        u32::try_from(left).ok()
    }
}

/// A filed message as the follow-up line finds it by tracking code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatus {
    pub tracking_code: String,
    /// A name from [`SPOKEN_STATUSES`] (see [`spoken_status`]).
    pub status: String,
    pub has_voice_reply: bool,
    /// The manager's recorded voice reply, played to the caller when present.
    pub reply_recording_id: Option<String>,
    /// The number that left the message: only that caller hears the reply.
    pub caller: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> JalaliDate {
        match JalaliDate::parse(s) {
            Ok(d) => d,
            Err(e) => panic!("bad test date {s}: {e}"),
        }
    }

    fn served_case(stage: &str, served: &str) -> CaseInfo {
        CaseInfo {
            kind: CaseKind::Article100,
            number: "22001840320".into(),
            district: Some(22),
            stage: stage.into(),
            last_step_date: date(served),
            next_step: Some("objection_filed".into()),
            session_date: None,
            verdict: Some("fine".into()),
            fine_rials: Some(150_000_000),
            served_date: Some(date(served)),
        }
    }

    #[test]
    fn kinds_round_trip_and_unknown_is_refused() {
        for kind in CaseKind::ALL {
            assert_eq!(CaseKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(CaseKind::parse("article 100"), None);
    }

    #[test]
    fn stage_prompts_only_for_known_stages_of_that_kind() {
        assert_eq!(
            stage_prompt(CaseKind::Zoning, "permit_issued").as_deref(),
            Some("stage/zoning/permit_issued")
        );
        assert_eq!(stage_prompt(CaseKind::Zoning, "verdict_served"), None);
        assert_eq!(
            stage_prompt(CaseKind::Article100, "verdict_served").as_deref(),
            Some("stage/article100/verdict_served")
        );
        assert_eq!(stage_names(CaseKind::Zoning).len(), 9);
        assert_eq!(stage_names(CaseKind::Article100).len(), 8);
        assert_eq!(all_case_prompts().len(), 9 + 8 + 3 + 13);
    }

    #[test]
    fn a_message_not_referred_is_spoken_with_its_reason() {
        assert_eq!(
            spoken_status("rejected", Some("duplicate")),
            "rejected_duplicate"
        );
        assert_eq!(spoken_status("rejected", None), "rejected");
        assert_eq!(spoken_status("rejected", Some("made_up")), "rejected");
        assert_eq!(spoken_status("referred", Some("duplicate")), "referred");
        for reason in crate::store::REJECT_REASONS {
            let spoken = spoken_status("rejected", Some(reason));
            assert!(status_prompt(&spoken).is_some(), "{spoken}");
        }
    }

    #[test]
    fn objection_deadline_crosses_a_month_end() {
        // Mordad has 31 days: served on the 25th, the deadline is 4 Shahrivar.
        let case = served_case("verdict_served", "1403/05/25");
        assert_eq!(case.objection_deadline(), Some(date("1403/06/04")));
        assert_eq!(case.days_left_to_object(date("1403/05/30")), Some(5));
        assert_eq!(case.days_left_to_object(date("1403/06/04")), Some(0));
        assert_eq!(case.days_left_to_object(date("1403/06/05")), None);
    }

    #[test]
    fn no_objection_days_once_objected_or_for_zoning() {
        let objected = served_case("objection_filed", "1403/05/25");
        assert_eq!(objected.days_left_to_object(date("1403/05/26")), None);
        let mut zoning = served_case("verdict_served", "1403/05/25");
        zoning.kind = CaseKind::Zoning;
        assert_eq!(zoning.objection_deadline(), None);
    }
}

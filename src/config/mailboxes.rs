//! `[mailboxes.LINE]` (which manager's mailbox the screening page suggests for a message, by
//! its line and district) and `[sms]` (how texts to citizens leave the outbox).
//!
//! ```toml
//! [mailboxes.1888]
//! default = "503"        # districts not listed
//! 6 = "501"
//! 12 = "502"
//!
//! [sms]
//! sender = "webhook"     # or "log" (the default: texts are written to the log, not sent)
//! webhook_url = "http://127.0.0.1:9000/sms"
//! webhook_token = "secret"   # sent as Authorization: Bearer, optional
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, FileSource, Problem};

/// Suggested mailboxes of one line: by district (1-22), and for every other message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMailboxes {
    pub by_district: BTreeMap<u8, String>,
    pub default: Option<String>,
}

/// Every line's suggestions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxRoutes {
    pub lines: BTreeMap<String, LineMailboxes>,
}

impl MailboxRoutes {
    /// The mailbox a screener is offered first for a message of `line` from `district`.
    pub fn suggest(&self, line: &str, district: Option<u8>) -> Option<&str> {
        let routes = self.lines.get(line)?;
        district
            .and_then(|d| routes.by_district.get(&d))
            .or(routes.default.as_ref())
            .map(String::as_str)
    }

    /// The demo's managers 501-503 share Tehran's 22 districts between them on both lines.
    pub fn demo() -> MailboxRoutes {
        let line = LineMailboxes {
            by_district: (1..=22)
                .map(|d| {
                    let mailbox = match d {
                        1..=7 => "501",
                        8..=15 => "502",
                        _ => "503",
                    };
                    (d, mailbox.to_string())
                })
                .collect(),
            default: Some("501".into()),
        };
        MailboxRoutes {
            lines: ["137", "1888"]
                .into_iter()
                .map(|l| (l.to_string(), line.clone()))
                .collect(),
        }
    }
}

/// How texts to citizens are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SmsSender {
    /// Each text is written to the log at info level and counted as sent: for a centre with no
    /// gateway yet, and for tests. Nothing reaches a phone.
    #[default]
    Log,
    /// Each text is POSTed as JSON to an HTTP gateway; a 2xx answer acknowledges it.
    Webhook { url: String, token: Option<String> },
}

/// The `[sms]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SmsFile {
    sender: Option<Spanned<String>>,
    webhook_url: Option<Spanned<String>>,
    webhook_token: Option<String>,
}

pub(super) fn apply_mailbox_files(
    routes: &mut MailboxRoutes,
    files: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>,
    source: &FileSource,
) -> Result<(), ConfigError> {
    for (line, table) in files {
        let entry = routes.lines.entry(line.get_ref().clone()).or_default();
        for (key, mailbox) in table {
            if crate::store::check_mailbox(mailbox.get_ref()).is_err() {
                let problem = Problem::Mailbox {
                    given: mailbox.get_ref().clone(),
                };
                return Err(source.invalid(&mailbox, "mailboxes", problem));
            }
            let name = key.get_ref().as_str();
            if name == "default" {
                entry.default = Some(mailbox.into_inner());
                continue;
            }
            match name.parse::<u8>() {
                Ok(district @ 1..=22) => {
                    entry.by_district.insert(district, mailbox.into_inner());
                }
                _ => {
                    let problem = Problem::District {
                        given: name.to_string(),
                    };
                    return Err(source.invalid(&key, "mailboxes", problem));
                }
            }
        }
    }
    Ok(())
}

pub(super) fn apply_sms_file(
    sender: &mut SmsSender,
    file: SmsFile,
    source: &FileSource,
) -> Result<(), ConfigError> {
    let Some(kind) = file.sender else {
        return Ok(());
    };
    *sender = match kind.get_ref().as_str() {
        "log" => SmsSender::Log,
        "webhook" => {
            let Some(url) = file.webhook_url else {
                return Err(source.invalid(&kind, "webhook_url", Problem::WebhookUrl));
            };
            if !url.get_ref().starts_with("http://") {
                return Err(source.invalid(&url, "webhook_url", Problem::WebhookUrl));
            }
            SmsSender::Webhook {
                url: url.into_inner(),
                token: file.webhook_token,
            }
        }
        other => {
            let problem = Problem::UnknownSender {
                given: other.to_string(),
            };
            return Err(source.invalid(&kind, "sender", problem));
        }
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!("pasokh-mailboxes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|source| ConfigError::Read {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("{}.toml", text.len()));
        std::fs::write(&path, text).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Config::load(Some(&path), &Default::default())
    }

    #[test]
    fn districts_map_to_mailboxes_per_line_with_a_default() -> Result<(), ConfigError> {
        let config = load(
            "[mailboxes.1888]\ndefault = \"503\"\n6 = \"501\"\n12 = \"502\"\n\
             [mailboxes.137]\n1 = \"601\"\n",
        )?;
        let routes = &config.mailbox_routes;
        assert_eq!(routes.suggest("1888", Some(6)), Some("501"));
        assert_eq!(routes.suggest("1888", Some(12)), Some("502"));
        assert_eq!(routes.suggest("1888", Some(7)), Some("503"));
        assert_eq!(routes.suggest("1888", None), Some("503"));
        assert_eq!(routes.suggest("137", Some(1)), Some("601"));
        assert_eq!(routes.suggest("137", Some(2)), None);
        assert_eq!(routes.suggest("bench", Some(1)), None);
        Ok(())
    }

    #[test]
    fn bad_mailbox_tables_and_senders_name_the_line() {
        for (text, expected) in [
            ("[mailboxes.1888]\n23 = \"501\"\n", "district"),
            ("[mailboxes.1888]\nsix = \"501\"\n", "district"),
            ("[mailboxes.1888]\n6 = \"5x\"\n", "mailbox"),
            ("[sms]\nsender = \"pigeon\"\n", "log, webhook"),
            ("[sms]\nsender = \"webhook\"\n", "webhook_url"),
            (
                "[sms]\nsender = \"webhook\"\nwebhook_url = \"https://x\"\n",
                "http://",
            ),
        ] {
            match load(text) {
                Err(error) => {
                    let said = error.to_string();
                    assert!(said.contains(expected), "{text}: {said}");
                    assert!(said.contains(":2:") || said.contains(":3:"), "{said}");
                }
                Ok(_) => panic!("accepted {text}"),
            }
        }
    }

    #[test]
    fn a_webhook_sender_keeps_its_url_and_token() -> Result<(), ConfigError> {
        let config = load(
            "[sms]\nsender = \"webhook\"\nwebhook_url = \"http://127.0.0.1:9/sms\"\n\
             webhook_token = \"t\"\n",
        )?;
        assert_eq!(
            config.sms,
            SmsSender::Webhook {
                url: "http://127.0.0.1:9/sms".into(),
                token: Some("t".into())
            }
        );
        Ok(())
    }
}

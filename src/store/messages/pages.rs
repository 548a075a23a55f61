//! The register page by page: `GET /api/messages` lists at most 1,000 messages at a time, and a
//! cursor names where the next page starts.
//!
//! Why a cursor and not an offset: messages are filed all the time, so "skip the first 1,000"
//! would skip or repeat rows as new ones arrive. The cursor is the sort key of the last message
//! shown (`created_at`, then `id`), so the next page starts right after it whatever is filed
//! meanwhile.

use std::fmt;

use super::{to_row, COLUMNS};
use super::{MessageFilter, MessageRow};
use crate::store::{Store, StoreError};

/// Where a page ends: the last message's `created_at` and row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageCursor {
    pub created_at: i64,
    pub id: i64,
}

impl MessageCursor {
    pub fn after(row: &MessageRow) -> MessageCursor {
        MessageCursor {
            created_at: row.created_at,
            id: row.id,
        }
    }

    /// The text form clients send back (`CREATED_AT.ID`); `None` for anything else.
    pub fn parse(text: &str) -> Option<MessageCursor> {
        let (created_at, id) = text.split_once('.')?;
        let number = |s: &str| {
            let digits = s.strip_prefix('-').unwrap_or(s);
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
        };
        Some(MessageCursor {
            created_at: number(created_at)?,
            id: number(id)?,
        })
    }
}

impl fmt::Display for MessageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.created_at, self.id)
    }
}

impl Store {
    /// Like `list_messages`, starting after `cursor` (newest first) when one is given.
    pub async fn list_messages_page(
        &self,
        f: &MessageFilter,
        cursor: Option<MessageCursor>,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE (?1 IS NULL OR line = ?1) \
             AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR created_at >= ?3) \
             AND (?5 IS NULL OR created_at < ?5 OR (created_at = ?5 AND id < ?6)) \
             AND (?7 IS NULL OR status = ?7) AND (?8 IS NULL OR mailbox = ?8) \
             ORDER BY created_at DESC, id DESC LIMIT ?4"
        );
        let rows = sqlx::query(&sql)
            .bind(&f.line)
            .bind(&f.kind)
            .bind(f.since)
            .bind(i64::from(f.limit))
            .bind(cursor.map(|c| c.created_at))
            .bind(cursor.map(|c| c.id))
            .bind(&f.status)
            .bind(&f.mailbox)
            .fetch_all(self.pool())
            .await
            .map_err(self.error("list messages"))?;
        rows.iter()
            .map(to_row)
            .collect::<Result<_, _>>()
            .map_err(self.error("list messages"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_print_and_parse_back() {
        let cursor = MessageCursor {
            created_at: 1_795_448_513_123,
            id: 42,
        };
        assert_eq!(MessageCursor::parse(&cursor.to_string()), Some(cursor));
        for bad in ["", "1", "1.", ".1", "a.b", "1.2.3", "1 .2", "+1.2"] {
            assert_eq!(MessageCursor::parse(bad), None, "{bad:?}");
        }
    }
}

//! The engine's events to browser phones, handed to each page's WebSocket task.
//!
//! Why a small bounded channel per page, filled with `try_send`: the engine loop must never wait
//! for a browser. A page that stops reading (a frozen tab) fills its channel; it is then
//! disconnected, which the engine hears as the page going away (its offers fail over), rather
//! than its events piling up in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::engine::{PhoneEvent, PhoneId};

/// Events waiting for one page before it counts as stuck.
pub(super) const QUEUED_PER_PAGE: usize = 64;

/// Every open browser phone's outbox; cheap to clone.
#[derive(Clone, Default)]
pub struct PhoneHub {
    outboxes: Arc<Mutex<HashMap<PhoneId, mpsc::Sender<PhoneEvent>>>>,
    last_id: Arc<AtomicU64>,
}

impl PhoneHub {
    /// A new phone's number and the receiver of its events.
    pub fn open(&self) -> (PhoneId, mpsc::Receiver<PhoneEvent>) {
        let phone = PhoneId(self.last_id.fetch_add(1, Ordering::Relaxed) + 1);
        let (sender, receiver) = mpsc::channel(QUEUED_PER_PAGE);
        if let Ok(mut outboxes) = self.outboxes.lock() {
            outboxes.insert(phone, sender);
        }
        (phone, receiver)
    }

    pub fn close(&self, phone: PhoneId) {
        if let Ok(mut outboxes) = self.outboxes.lock() {
            outboxes.remove(&phone);
        }
    }

    /// Hands `event` to the page; a page that has stopped reading is cut off (its receiver
    /// then ends, and its WebSocket task closes and detaches it).
    pub fn deliver(&self, phone: PhoneId, event: PhoneEvent) {
        let Ok(mut outboxes) = self.outboxes.lock() else {
            return;
        };
        let Some(outbox) = outboxes.get(&phone) else {
            return; // the page went away after the engine decided
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = outbox.try_send(event) {
            tracing::warn!(%phone, "browser phone not reading its events: disconnected");
            outboxes.remove(&phone);
        }
    }

    /// How many pages have their phone open.
    pub fn open_phones(&self) -> usize {
        self.outboxes.lock().map(|o| o.len()).unwrap_or(0)
    }
}

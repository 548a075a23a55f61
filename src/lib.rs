//! Pasokh (پاسخ): a contact-center engine for municipal citizen hotlines.
//!
//! The crate is split as docs/architecture.md describes: a sans-IO core (`sip`, `media`, `ivr`,
//! `acd`, `engine`, and `calendar` for dates) that is told the time and handed bytes, and
//! `drivers`, `store` and `web`, the only places that touch sockets, clocks, files and the
//! database.

pub mod acd;
pub mod app;
pub mod calendar;
pub mod config;
pub mod drivers;
pub mod engine;
pub mod fuzzing;
pub mod ivr;
pub mod load;
pub mod media;
pub mod sip;
pub mod store;
pub mod timer;
pub mod web;

//! The drivers: the only code that touches sockets, threads, files and the clock. Each turns the
//! outside world into the core's input values and carries out its output values.

pub mod media;
pub mod sip_loop;
pub mod sip_tcp;
pub mod sms;
pub mod store_driver;

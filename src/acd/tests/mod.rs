//! The distributor's rules on a virtual clock, driven through a test rig that checks the
//! machine's own invariants after every step (`support`): agents, call lifecycle, routing, and
//! property tests of random event streams.

mod agents;
mod calls;
mod property;
mod rebuild;
mod routing;
mod support;

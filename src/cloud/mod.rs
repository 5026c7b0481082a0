//! The Anova cloud: the events the client reports (`event`) and the long-lived async client
//! that produces them ([`client`]).

pub mod client;
mod event;

pub use event::{CloudError, CloudEvent, DeviceState, LinkState};

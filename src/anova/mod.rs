//! Everything about the Anova cloud: the wire protocol, the normalised cooker model, and the
//! long-lived cloud client.

pub mod client;
pub mod model;
pub mod protocol;

//! The MQTT side: the topic tree and the broker connection.

pub mod connection;
pub mod topics;

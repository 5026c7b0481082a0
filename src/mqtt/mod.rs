//! The MQTT side: the topic tree and the broker connection.

pub mod topics;

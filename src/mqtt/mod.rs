//! The MQTT side: the broker connection (the topic tree is in [`crate::topics`]).

pub mod connection;

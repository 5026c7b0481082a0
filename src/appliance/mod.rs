//! The device interface shared by the bridge core and the device families: what a family must
//! provide ([`family::Family`]), the device identity from the cloud's device list, and cook
//! events.

pub(crate) mod event;
pub(crate) mod family;

pub use event::{CookEvent, CookEventKind};

//! Transitional paths for the simulator until it is independent: the cooker model now lives in
//! [`crate::sous_vide`].

pub use crate::appliance::DeviceInfo as CookerInfo;
pub use crate::command::MAX_TIMER_S;
pub use crate::sous_vide::models::*;
pub use crate::sous_vide::state::*;

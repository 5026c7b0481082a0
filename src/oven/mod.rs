//! The Anova Precision Oven family (`oven_v1`, `oven_v2`): its protocol, normalised state,
//! command keys, limits, planning, what is published, Home Assistant entities, and the glue
//! to the bridge core.

pub mod command;
pub mod state;
pub mod wire;

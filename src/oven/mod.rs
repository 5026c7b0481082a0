//! The Anova Precision Oven family (`oven_v1`, `oven_v2`; `docs/anova-oven.md`, `docs/interface.md`
//! §5): its protocol ([`wire`]), normalised state, command keys, limits, planning, what is
//! published, Home Assistant entities, and the glue to the bridge core (`Oven`).

mod changes;
pub mod command;
pub mod discovery;
mod family;
pub mod limits;
pub mod plan;
pub mod publish;
pub mod state;
pub mod wire;

pub(crate) use family::Oven;

//! The sous-vide cooker family (Anova Precision Cookers): command keys, limits, planning,
//! what is published, and the glue to the bridge core (`SousVide`).

pub mod command;
pub mod discovery;
mod family;
pub mod limits;
pub mod models;
pub mod plan;
pub mod publish;
pub mod state;
pub mod wire;

pub(crate) use family::SousVide;

//! Everything about the Anova cloud wire format and the normalised cooker model.

pub mod model;
pub mod protocol;

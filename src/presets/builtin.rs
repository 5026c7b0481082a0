//! The presets every installation has (`docs/interface.md` §8.1). Each value comes from a published
//! table, cited with the preset and repeated in the README ("Presets and plans"):
//!
//! - Sous vide times are Douglas E. Baldwin's pasteurisation tables in *A Practical Guide to
//!   Sous Vide Cooking* (2008–2012, <https://douglasbaldwin.com/sous-vide.html>): "Pasteurization
//!   Time for Poultry" and "Pasteurization Time for Meat (Beef, Pork, and Lamb)" (Table 5.1),
//!   both for food that starts at 5 °C (41 °F) from the refrigerator and is put into the water
//!   at the given temperature; the time is the one for the thickness named in the title.
//!   Thicker food needs longer: the tables go to 70 mm.
//! - Oven roasts end on the food probe at the USDA Food Safety and Inspection Service's "Safe
//!   Minimum Internal Temperature Chart" (<https://www.fsis.usda.gov/food-safety/safe-food-handling-and-preparation/food-safety-basics/safe-temperature-chart>):
//!   all poultry 165 °F (73.9 °C, rounded up to 74 °C here); fresh pork 145 °F (62.8 °C,
//!   rounded up to 63 °C) with a 3 minute rest. The oven settings around the probe target
//!   (200 °C, rear element, fan) are ordinary roasting settings, not part of the source.

use crate::appliance::Kind;

/// A built-in preset: the same keys as a `[[presets]]` table, and where its values come from.
#[derive(Debug, Clone, Copy)]
pub(super) struct BuiltIn {
    /// The slug.
    pub(super) name: &'static str,
    /// What it is, for people choosing one.
    pub(super) title: &'static str,
    /// The family it is for.
    pub(super) kind: Kind,
    /// Its command keys, as JSON.
    pub(super) command: &'static str,
    /// Where its values come from.
    pub(super) source: &'static str,
}

const BALDWIN_POULTRY: &str = "Douglas E. Baldwin, A Practical Guide to Sous Vide Cooking, \
    \"Pasteurization Time for Poultry\" (from 5 °C)";
const BALDWIN_MEAT: &str = "Douglas E. Baldwin, A Practical Guide to Sous Vide Cooking, \
    Table 5.1 \"Pasteurization Time for Meat (Beef, Pork, and Lamb)\" (from 5 °C)";

/// The built-in presets, in the order they are listed.
pub(super) const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        name: "chicken-breast",
        title: "Chicken breast, 25 mm thick: 60 °C for 1 h 30 min (pasteurised)",
        kind: Kind::Cooker,
        command: r#"{"target_temperature": 60, "timer": "1h30m", "food": "poultry"}"#,
        source: BALDWIN_POULTRY,
    },
    BuiltIn {
        name: "turkey-breast",
        title: "Turkey breast, 50 mm thick: 63 °C for 2 h 30 min (pasteurised)",
        kind: Kind::Cooker,
        command: r#"{"target_temperature": 63, "timer": "2h30m", "food": "poultry"}"#,
        source: BALDWIN_POULTRY,
    },
    BuiltIn {
        name: "pork-chop",
        title: "Pork chop, 25 mm thick: 60 °C for 1 h 30 min (pasteurised)",
        kind: Kind::Cooker,
        command: r#"{"target_temperature": 60, "timer": "1h30m", "food": "pork"}"#,
        source: BALDWIN_MEAT,
    },
    BuiltIn {
        name: "steak-medium-rare",
        title: "Beef steak, 25 mm thick, medium rare: 56 °C for 2 h 15 min (pasteurised)",
        kind: Kind::Cooker,
        command: r#"{"target_temperature": 56, "timer": "2h15m", "food": "beef"}"#,
        source: BALDWIN_MEAT,
    },
    BuiltIn {
        name: "oven-sous-vide-chicken",
        title:
            "Chicken breast, 25 mm, sous vide in the oven: wet bulb 60 °C, full steam, 1 h 30 min",
        kind: Kind::Oven,
        command: r#"{"temperature_mode": "wet", "target_temperature": 60, "steam": 100,
            "timer": "1h30m", "food": "poultry"}"#,
        source: BALDWIN_POULTRY,
    },
    BuiltIn {
        name: "roast-chicken",
        title: "Roast chicken: 200 °C until the probe reads 74 °C (USDA 165 °F)",
        kind: Kind::Oven,
        command: r#"{"temperature_mode": "dry", "target_temperature": 200, "elements": ["rear"],
            "fan": "high", "probe_target": 74, "food": "poultry"}"#,
        source: "USDA FSIS, Safe Minimum Internal Temperature Chart: all poultry 165 °F (73.9 °C)",
    },
    BuiltIn {
        name: "pork-roast",
        title: "Pork roast: 180 °C until the probe reads 63 °C (USDA 145 °F), then rest 3 min",
        kind: Kind::Oven,
        command: r#"{"temperature_mode": "dry", "target_temperature": 180, "elements": ["rear"],
            "fan": "medium", "probe_target": 63, "food": "pork"}"#,
        source: "USDA FSIS, Safe Minimum Internal Temperature Chart: fresh pork 145 °F (62.8 °C), \
            3 minute rest",
    },
];

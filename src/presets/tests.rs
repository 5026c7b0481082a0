use super::*;
use serde_json::json;

fn config(value: Value) -> PresetConfig {
    serde_json::from_value(value).unwrap()
}

#[test]
fn every_built_in_preset_could_run_and_cites_its_source() {
    let book = PresetBook::new(&[]);
    assert_eq!(book.all().len(), BUILT_IN.len());
    for preset in book.all() {
        let as_config = PresetConfig {
            name: preset.name.clone(),
            title: Some(preset.title.clone()),
            family: PresetFamily::of(preset.kind),
            command: preset.command.clone(),
        };
        assert_eq!(check(&as_config), Ok(()), "{}", preset.name);
        assert!(preset
            .source
            .is_some_and(|s| s.contains("Baldwin") || s.contains("USDA")));
    }
    assert!(book
        .names(Kind::Cooker)
        .contains(&"chicken-breast".to_owned()));
    assert!(book.names(Kind::Oven).contains(&"roast-chicken".to_owned()));
}

#[test]
fn the_listing_echoes_values_in_celsius_and_seconds() {
    let book = PresetBook::new(&[]);
    let listing = book.listing();
    let chicken = listing
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "chicken-breast")
        .unwrap();
    assert_eq!(chicken["family"], "sous_vide");
    assert_eq!(chicken["built_in"], true);
    assert_eq!(
        chicken["command"],
        json!({"target_temperature": 60, "timer": 5400, "food": "poultry"})
    );
    let roast = listing
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "roast-chicken")
        .unwrap();
    assert_eq!(roast["family"], "oven");
    assert_eq!(roast["command"]["probe_target"], 74);
}

#[test]
fn a_configured_preset_adds_or_replaces() {
    let mine = config(json!({
        "name": "chicken-breast", "title": "Mine", "family": "sous_vide",
        "target_temperature": 64, "timer": 90
    }));
    let salmon = config(json!({
        "name": "salmon", "family": "sous_vide", "target_temperature": "122F", "timer": 30
    }));
    let book = PresetBook::new(&[mine, salmon]);
    let chicken = book.find("chicken-breast", Kind::Cooker).unwrap();
    assert_eq!(chicken["target_temperature"], 64);
    assert_eq!(book.all().len(), BUILT_IN.len() + 1);
    assert!(book.find("salmon", Kind::Cooker).is_ok());
    let listing = book.listing();
    let salmon = listing.as_array().unwrap().last().unwrap();
    assert_eq!(salmon["title"], "salmon");
    assert_eq!(salmon["built_in"], false);
    assert_eq!(salmon["source"], Value::Null);
}

#[test]
fn unknown_and_other_family_presets_name_the_valid_ones() {
    let book = PresetBook::new(&[]);
    let err = book.find("pizza", Kind::Cooker).unwrap_err();
    assert_eq!(err.code, crate::command::ErrorCode::InvalidValue);
    assert!(err.message.contains("no preset \"pizza\""), "{err}");
    assert!(err.message.contains("chicken-breast"), "{err}");
    assert!(!err.message.contains("roast-chicken"), "{err}");
    let err = book.find("roast-chicken", Kind::Cooker).unwrap_err();
    assert!(err.message.contains("is for ovens"), "{err}");
    assert!(err.message.contains("steak-medium-rare"), "{err}");
}

#[test]
fn a_preset_that_could_never_run_names_itself_and_the_key() {
    let cases = [
        (
            json!({"name": "lava", "family": "sous_vide", "target_temperature": 120}),
            "presets.lava",
            "target_temperature 120 °C is above",
        ),
        (
            json!({"name": "raw-chicken", "family": "sous_vide", "target_temperature": 50,
                   "timer": 60, "food": "poultry"}),
            "presets.raw-chicken",
            "below the safe minimum of 57 °C for poultry",
        ),
        (
            json!({"name": "no-target", "family": "sous_vide", "timer": 60}),
            "presets.no-target",
            "give target_temperature",
        ),
        (
            json!({"name": "x", "family": "sous_vide", "target_temperature": 60, "colour": 1}),
            "presets.x",
            "unknown key \"colour\"",
        ),
        (
            json!({"name": "start", "family": "sous_vide", "target_temperature": 60, "cook": true}),
            "presets.start",
            "cook: a preset says what a cook does",
        ),
        (
            json!({"name": "bad oven", "family": "oven", "target_temperature": 200}),
            "presets[1]",
            "a slug",
        ),
        (
            json!({"name": "scorch", "family": "oven", "target_temperature": 240,
                   "elements": ["bottom"]}),
            "presets.scorch",
            "bottom",
        ),
        (
            json!({"name": "pool", "family": "oven", "temperature_mode": "wet",
                   "target_temperature": 95}),
            "presets.pool",
            "steam",
        ),
    ];
    for (preset, key, message) in cases {
        let found = problems(&[config(preset.clone())], Ceilings::default());
        assert_eq!(found.len(), 1, "{preset}: {found:?}");
        assert_eq!(found[0].0, key, "{preset}");
        assert!(found[0].1.contains(message), "{preset}: {}", found[0].1);
    }
    // Under a household ceiling.
    let hot = config(json!({"name": "hot", "family": "sous_vide", "target_temperature": 80}));
    assert!(problems(std::slice::from_ref(&hot), Ceilings::default()).is_empty());
    let found = problems(
        &[hot],
        Ceilings {
            cooker_c: Some(70.0),
            oven_c: None,
        },
    );
    assert!(found[0].1.contains("safety.max_temperature_c"), "{found:?}");
    // The same name twice.
    let a = config(json!({"name": "a", "family": "sous_vide", "target_temperature": 60}));
    let found = problems(&[a.clone(), a], Ceilings::default());
    assert_eq!(
        found,
        vec![(
            "presets.a".to_owned(),
            "a second preset of the same name".to_owned()
        )]
    );
}

#[test]
fn a_multi_stage_oven_preset_is_checked_stage_by_stage() {
    let ok = config(json!({"name": "bread", "family": "oven", "stages": [
        {"title": "Proof", "temperature_mode": "dry", "target_temperature": 35,
         "elements": ["bottom"], "fan": "off", "timer": "1h"},
        {"title": "Bake", "temperature_mode": "dry", "target_temperature": 230, "steam": 30,
         "timer": "35m"}
    ]}));
    assert!(problems(&[ok], Ceilings::default()).is_empty());
    let bad = config(json!({"name": "bread", "family": "oven", "stages": [
        {"target_temperature": 35, "elements": ["bottom"], "fan": "off", "timer": "1h"},
        {"target_temperature": 230, "fan": "off", "timer": "35m"}
    ]}));
    let found = problems(&[bad], Ceilings::default());
    assert!(found[0].1.starts_with("stages[2].fan"), "{found:?}");
}

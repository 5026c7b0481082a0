//! The OpenAPI 3.1 document of the API (`GET /api/v1/openapi.json`): `openapi.json` as
//! written, with the command schemas (`CookerCommand`, `OvenCommand`, `OvenStage`) built from
//! the families' command keys, the same tables their parsers and the MCP tools read. A key
//! added to a table is described here without touching `openapi.json`.

use crate::{oven, sous_vide};
use serde_json::Value;
use std::sync::LazyLock;

/// `openapi.json` as written: everything but the command schemas.
const WRITTEN: &str = include_str!("openapi.json");

/// The document, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(build);

/// The OpenAPI document as served.
pub fn document() -> &'static str {
    &DOCUMENT
}

fn build() -> String {
    // `openapi.json` is ours and checked by the tests; a broken one fails every test that
    // asks for the document.
    let mut doc: Value = serde_json::from_str(WRITTEN).expect("openapi.json is valid JSON");
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        schemas.insert("CookerCommand".into(), sous_vide::command::schema());
        schemas.insert("OvenCommand".into(), oven::command::schema());
        schemas.insert("OvenStage".into(), oven::command::stage_schema());
    }
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_schemas_are_built_from_the_keys() {
        let doc: Value = serde_json::from_str(document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for key in sous_vide::command::KEYS {
            assert!(schemas["CookerCommand"]["properties"][key.name].is_object());
        }
        for key in oven::command::STAGE_KEYS {
            assert!(schemas["OvenCommand"]["properties"][key.name].is_object());
            assert!(schemas["OvenStage"]["properties"][key.name].is_object());
        }
        for key in oven::command::KEYS {
            assert!(schemas["OvenCommand"]["properties"][key.name].is_object());
        }
        assert_eq!(
            schemas["CookerCommand"]["properties"]["id"]["type"],
            "string"
        );
    }
}

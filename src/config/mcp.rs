//! `[mcp]`: the Model Context Protocol server (`docs/interface.md` §9), served at `/mcp` on the
//! HTTP listener with the same token rules as the API.

use serde::{Deserialize, Serialize};

/// `[mcp]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McpConfig {
    /// Serve `/mcp` (only while the HTTP API is on).
    pub enabled: bool,
    /// Which tools are offered.
    pub mode: McpMode,
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            mode: McpMode::Control,
        }
    }
}

/// `mcp.mode`: what an assistant may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum McpMode {
    /// Every tool: read, start, change and stop cooks.
    #[default]
    Control,
    /// Only the reading tools.
    ReadOnly,
}

impl McpMode {
    /// The name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Control => "control",
            Self::ReadOnly => "read_only",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_read_by_name() {
        let config: McpConfig = toml::from_str("mode = \"read_only\"").unwrap();
        assert_eq!(config.mode, McpMode::ReadOnly);
        assert!(config.enabled);
        assert!(toml::from_str::<McpConfig>("mode = \"write\"").is_err());
        assert!(toml::from_str::<McpConfig>("port = 1").is_err());
        assert_eq!(McpMode::ReadOnly.as_str(), "read_only");
    }
}

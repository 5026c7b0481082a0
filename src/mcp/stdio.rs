//! `anova2mqtt mcp`: the MCP server on standard input/output, for assistants that start their
//! tools as a process (Claude Desktop, Claude Code, …). It serves the same tools as `/mcp`
//! over a running daemon's HTTP API ([`Remote`]); the token comes from
//! `ANOVA2MQTT_HTTP__TOKEN` or `--token-file`, never from the command line (where every user
//! of the machine could read it).
//!
//! When no daemon answers, it still starts: it says so on stderr (the client's log), and every
//! tool answers with that message, so the assistant can tell the user what to do.

use super::backend::Backend;
use super::limits::{Limits, McpLimits};
use super::remote::{Endpoint, Remote};
use super::server::Shared;
use crate::config::McpMode;
use crate::metrics::Metrics;
use crate::secret::Secret;
use anyhow::Context;
use rmcp::ServiceExt;
use std::path::PathBuf;
use std::sync::Arc;

/// The variable the token is read from (the daemon's own `http.token` variable).
pub const TOKEN_VARIABLE: &str = "ANOVA2MQTT_HTTP__TOKEN";

/// `anova2mqtt mcp`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct McpArgs {
    /// The running daemon's HTTP API.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8770")]
    pub url: String,
    /// A file holding the daemon's http.token (else the variable ANOVA2MQTT_HTTP__TOKEN; never
    /// on the command line).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The tools offered: control (read, start, change and stop cooks) or read_only.
    #[arg(long, value_name = "MODE", default_value = "control", value_parser = parse_mode)]
    pub mode: McpMode,
}

fn parse_mode(text: &str) -> Result<McpMode, String> {
    match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "control" => Ok(McpMode::Control),
        "read_only" => Ok(McpMode::ReadOnly),
        _ => Err("use control or read_only".to_owned()),
    }
}

/// The token: `--token-file`, else the variable's value (`env_token`).
fn token(args: &McpArgs, env_token: Option<String>) -> anyhow::Result<Option<Secret>> {
    if let Some(path) = &args.token_file {
        let secret = crate::config::read_secret_file(path).map_err(anyhow::Error::msg)?;
        return Ok(Some(Secret::new(secret.expose().trim())));
    }
    Ok(env_token
        .map(|token| token.trim().to_owned())
        .filter(|token| !token.is_empty())
        .map(Secret::new))
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub async fn serve(args: McpArgs, env_token: Option<String>) -> anyhow::Result<()> {
    let token = token(&args, env_token).context("--token-file")?;
    let endpoint = Endpoint::parse(&args.url).map_err(anyhow::Error::msg)?;
    let remote = Remote::new(endpoint, token).map_err(anyhow::Error::msg)?;
    match remote.devices().await {
        Ok(devices) => tracing::info!(
            "MCP on stdio ({} tools) for the daemon at {}: {} devices",
            args.mode.as_str(),
            remote.url(),
            devices.as_array().map_or(0, Vec::len)
        ),
        Err(failure) => tracing::warn!(
            "{}; the tools answer with this until it does",
            failure.body(None)["error"]["message"]
                .as_str()
                .unwrap_or_default()
        ),
    }
    let limits = McpLimits::default();
    let shared = Shared::new(
        remote,
        args.mode,
        Arc::new(Limits::new(limits.rate)),
        Arc::new(Metrics::new()),
    );
    let running = shared
        .session()
        .serve(rmcp::transport::stdio_pipes())
        .await
        .context("MCP handshake on stdio")?;
    running.waiting().await.context("MCP on stdio")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(token_file: Option<PathBuf>) -> McpArgs {
        McpArgs {
            url: "http://127.0.0.1:8770".into(),
            token_file,
            mode: McpMode::Control,
        }
    }

    #[test]
    fn the_token_comes_from_a_file_or_the_environment() {
        assert_eq!(token(&args(None), None).unwrap(), None);
        assert_eq!(token(&args(None), Some("  ".into())).unwrap(), None);
        assert_eq!(
            token(&args(None), Some(" t0k3n\n".into())).unwrap(),
            Some(Secret::new("t0k3n"))
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "from-file\n").unwrap();
        assert_eq!(
            token(&args(Some(path)), Some("env".into())).unwrap(),
            Some(Secret::new("from-file"))
        );
        let missing = token(&args(Some(dir.path().join("nope"))), None).unwrap_err();
        assert!(
            format!("{missing:#}").contains("cannot read"),
            "{missing:#}"
        );
        assert_eq!(parse_mode("read-only"), Ok(McpMode::ReadOnly));
        assert!(parse_mode("admin").is_err());
    }
}

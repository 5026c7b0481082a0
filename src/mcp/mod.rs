//! The Model Context Protocol server (`docs/interface.md` §9): language models read and drive the
//! devices through the same validation, food safety, queue, confirmation and history as MQTT
//! and HTTP. It is one more adapter around the bridge, never a second path to the cloud: every
//! tool ends in the same command the HTTP API sends.
//!
//! - `tools`: the tools, their descriptions and annotations, and their input schemas, built
//!   from the families' command key tables (the OpenAPI document reads the same tables);
//!   `arguments`: a call's arguments into a query or a command object.
//! - `server`: rmcp's `ServerHandler`, written once over a [`Backend`].
//! - `backend`: the in-daemon backend ([`Local`], the main loop through the HTTP adapter's
//!   handle); `remote`: a running daemon's HTTP API, for `anova2mqtt mcp` on stdio.
//! - `http`: `/mcp`, the streamable-HTTP transport, served by the HTTP adapter behind its
//!   token and site checks; `limits`: the per-session rate limit and the bounded sessions.
//! - `stdio`: `anova2mqtt mcp`.
//!
//! Protocol revisions: every revision rmcp speaks, 2024-11-05 through 2025-11-25 with the
//! `initialize` handshake (and, over HTTP, sessions) and 2026-07-28 without (one request at a
//! time, no session).

mod arguments;
mod backend;
mod curve;
mod http;
mod limits;
mod remote;
mod server;
mod stdio;
mod tools;

pub use backend::{Backend, CookQuery, Failure, Local};
pub use http::router;
pub use limits::McpLimits;
pub use remote::{Endpoint, Remote};
pub use stdio::{serve as serve_stdio, McpArgs, TOKEN_VARIABLE};
pub use tools::{command_properties, offered, ToolName, ToolSpec};

//! The MCP server itself: rmcp's `ServerHandler` over a [`Backend`]. One value serves one
//! session (rmcp makes one per session, and one per request of the sessionless 2026-07-28
//! revision); what sessions share (the limits, the metrics) is behind `Arc`s.
//!
//! A tool's result is the gateway's response object, as text and as structured content; an
//! error response (a validation error, `unsafe`, `not_confirmed`, an unknown device, the rate
//! limit …) is a tool error (`isError`) carrying the same object, so the model reads the code
//! and the message and can correct itself. Protocol errors are only for what is not a tool
//! call at all (an unknown tool, a resource that does not exist).

use super::arguments;
use super::backend::{error_body, Backend, CookQuery, Failure};
use super::limits::Limits;
use super::tools::{self, ToolName, ToolSpec};
use crate::config::McpMode;
use crate::metrics::Metrics;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The URI of a device's state resource: `anova2mqtt://devices/<id>`.
const DEVICE_URI: &str = "anova2mqtt://devices/";

/// What the server tells a client about itself at initialisation.
const INSTRUCTIONS: &str = "anova2mqtt is a gateway to Anova sous-vide cookers and Precision \
    Ovens. Call list_devices first for the device ids and their state. Every command is \
    validated before anything is sent and answered once the device shows it; an error names \
    its code and says what would be accepted. Temperatures are °C, timers minutes or a duration \
    such as \"1h30m\". When food is cooked, give `food` so the food-safety rules apply. \
    list_presets gives named cooks (start_cook's `preset`); start_cook with `start_at` or \
    `ready_by` plans a cook for later (get_device shows it, cancel_schedule cancels it).";

/// The MCP server of one session.
pub(super) struct Server<B> {
    backend: Arc<B>,
    mode: McpMode,
    /// The tools of `mode`, built once.
    tools: Arc<Vec<Tool>>,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
    /// This session's share of the rate limit.
    session: super::limits::SessionBucket,
}

/// What every session of one server shares; [`Shared::session`] makes a session's server.
pub(super) struct Shared<B> {
    backend: Arc<B>,
    mode: McpMode,
    tools: Arc<Vec<Tool>>,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
}

impl<B: Backend> Shared<B> {
    /// The tools of `mode` over `backend`.
    pub(super) fn new(
        backend: B,
        mode: McpMode,
        limits: Arc<Limits>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let tools = tools::offered(mode).into_iter().map(tool).collect();
        Self {
            backend: Arc::new(backend),
            mode,
            tools: Arc::new(tools),
            limits,
            metrics,
        }
    }

    /// A server for one new session.
    pub(super) fn session(&self) -> Server<B> {
        Server {
            backend: self.backend.clone(),
            mode: self.mode,
            tools: self.tools.clone(),
            session: self.limits.session_bucket(),
            limits: self.limits.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// The rmcp description of a tool.
fn tool(spec: ToolSpec) -> Tool {
    let annotations = ToolAnnotations::with_title(spec.title)
        .read_only(spec.read_only)
        .destructive(spec.destructive)
        .idempotent(spec.idempotent)
        .open_world(spec.open_world);
    Tool::new(
        spec.name.as_str(),
        spec.description,
        Arc::new(spec.input_schema),
    )
    .with_title(spec.title)
    .annotate(annotations)
}

/// A tool's result: `body` as text and as structured content.
fn result(body: Value, error: bool) -> CallToolResult {
    let content = vec![ContentBlock::text(body.to_string())];
    let mut result = if error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    result.structured_content = Some(body);
    result
}

/// The error code of a command's response object; `None` for ok.
fn code_of(body: &Value) -> Option<&str> {
    match body.get("status").and_then(Value::as_str) {
        Some("ok") => None,
        _ => Some(
            body.pointer("/error/code")
                .and_then(Value::as_str)
                .unwrap_or("invalid_response"),
        ),
    }
}

impl<B: Backend> Server<B> {
    /// Runs one tool; `Err` is the error response object.
    async fn run(&self, tool: ToolName, arguments: &Map<String, Value>) -> Result<Value, Value> {
        let id = arguments.get("id");
        let bad = |message: String| error_body("invalid_value", &message, id);
        let failed = |failure: Failure| failure.body(id);
        match tool {
            ToolName::ListDevices => {
                let devices = self.backend.devices().await.map_err(failed)?;
                // Structured content is an object.
                let mut body = Map::new();
                body.insert("devices".into(), devices);
                Ok(Value::Object(body))
            }
            ToolName::GetDevice => {
                let id = arguments::device_of(arguments).map_err(|e| bad(e.0))?;
                let mut device = self.backend.device(&id).await.map_err(failed)?;
                // The running cook, when the history has one; a history that cannot answer
                // leaves the device as it is.
                let latest = CookQuery {
                    device: Some(id),
                    limit: 1,
                    ..CookQuery::default()
                };
                if let (Ok(page), Value::Object(map)) =
                    (self.backend.cooks(latest).await, &mut device)
                {
                    let running = page["cooks"]
                        .get(0)
                        .filter(|cook| cook["running"] == true)
                        .cloned();
                    map.insert("cook".into(), running.unwrap_or(Value::Null));
                }
                Ok(device)
            }
            ToolName::ListCooks => {
                let query = arguments::cook_query_of(arguments).map_err(|e| bad(e.0))?;
                self.backend.cooks(query).await.map_err(failed)
            }
            ToolName::GetCook => {
                let (id, points) = arguments::cook_of(arguments).map_err(|e| bad(e.0))?;
                let mut cook = self.backend.cook(&id).await.map_err(failed)?;
                if let Value::Object(map) = &mut cook {
                    let curve = map.get("curve").cloned().unwrap_or(Value::Null);
                    map.insert("curve".into(), super::curve::downsample(&curve, points));
                }
                Ok(cook)
            }
            ToolName::ListPresets => {
                let family = arguments::preset_family_of(arguments).map_err(|e| bad(e.0))?;
                let presets = self.backend.presets().await.map_err(failed)?;
                let presets: Vec<Value> = presets
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| family.as_ref().is_none_or(|f| p["family"] == f.as_str()))
                    .cloned()
                    .collect();
                // Structured content is an object.
                let mut body = Map::new();
                body.insert("presets".into(), Value::Array(presets));
                Ok(Value::Object(body))
            }
            ToolName::StartCook
            | ToolName::ChangeCook
            | ToolName::StopCook
            | ToolName::CancelSchedule => {
                let device = arguments::device_of(arguments).map_err(|e| bad(e.0))?;
                let command = arguments::command_of(tool, arguments).map_err(|e| bad(e.0))?;
                let response = self
                    .backend
                    .command(&device, command)
                    .await
                    .map_err(failed)?;
                match code_of(&response) {
                    None => Ok(response),
                    Some(_) => Err(response),
                }
            }
        }
    }
}

impl<B: Backend> ServerHandler for Server<B> {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new("anova2mqtt", env!("CARGO_PKG_VERSION"))
                    .with_title("anova2mqtt: Anova cookers and ovens"),
            )
            .with_instructions(match self.mode {
                McpMode::Control => INSTRUCTIONS.to_owned(),
                McpMode::ReadOnly => format!(
                    "{INSTRUCTIONS} This gateway is read-only for assistants (mcp.mode = \
                     \"read_only\"): it offers no tool that starts, changes or stops a cook."
                ),
            })
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = ToolName::parse(&request.name).filter(|t| t.offered_in(self.mode)) else {
            self.metrics.mcp_tool_call("unknown", "unknown_tool");
            return Err(ErrorData::invalid_params(
                format!(
                    "no tool {:?}; tools/list gives the tools",
                    crate::command::bounded(&request.name)
                ),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        if let Err(wait) = self.limits.admit(&self.session, &context) {
            self.metrics.mcp_tool_call(tool.as_str(), "rate_limited");
            let message = format!(
                "too many tool calls: at most {} at once and {} a minute per session; try \
                 again in {} s",
                self.limits.rate.burst,
                (self.limits.rate.per_second * 60.0).round(),
                wait.as_secs().max(1)
            );
            return Ok(result(
                error_body("rate_limited", &message, arguments.get("id")),
                true,
            )
            .into());
        }
        let outcome = self.run(tool, &arguments).await;
        let (body, error) = match outcome {
            Ok(body) => (body, false),
            Err(body) => (body, true),
        };
        let label = if error {
            code_of(&body).unwrap_or("error")
        } else {
            "ok"
        };
        self.metrics.mcp_tool_call(tool.as_str(), label);
        Ok(result(body, error).into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let devices =
            self.backend.devices().await.map_err(|failure| {
                ErrorData::internal_error(failure.body(None).to_string(), None)
            })?;
        let resources = devices
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|device| {
                let id = device.get("id")?.as_str()?;
                let name = device.get("name").and_then(Value::as_str).unwrap_or(id);
                let model = device.get("model").and_then(Value::as_str).unwrap_or("");
                Some(
                    Resource::new(format!("{DEVICE_URI}{id}"), id)
                        .with_title(format!("{name} ({model})"))
                        .with_description(format!(
                            "The live state of {name}: the device as get_device gives it"
                        ))
                        .with_mime_type("application/json"),
                )
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let template = ResourceTemplate::new(format!("{DEVICE_URI}{{id}}"), "device")
            .with_title("A device's state")
            .with_description("The live state of the device with this id (from list_devices)")
            .with_mime_type("application/json");
        Ok(ListResourceTemplatesResult::with_all_items(vec![template]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let Some(id) = request.uri.strip_prefix(DEVICE_URI) else {
            return Err(ErrorData::resource_not_found(
                format!("no resource {:?}", crate::command::bounded(&request.uri)),
                None,
            ));
        };
        match self.backend.device(id).await {
            Ok(device) => Ok(ReadResourceResult::new(vec![ResourceContents::text(
                device.to_string(),
                request.uri.clone(),
            )
            .with_mime_type("application/json")])
            .into()),
            Err(Failure::UnknownDevice(_)) => Err(ErrorData::resource_not_found(
                format!("no device with id {:?}", crate::command::bounded(id)),
                None,
            )),
            Err(failure) => Err(ErrorData::internal_error(
                failure.body(None).to_string(),
                None,
            )),
        }
    }
}

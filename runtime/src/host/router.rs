//! The host's HTTP side: `GET /health`, `POST /v1/runs`, `POST /hooks/{env}/{path}`,
//! plus whatever extra routes the embedder mounts on the same listener.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::oneshot;

use super::runner::{Fired, Runner, Waiters};
use super::scheduler::Scheduler;
use super::webhook::{verify, SIGNATURE_HEADER};
use super::AdmitRun;
use crate::ir::Trigger as IrTrigger;
use crate::state::Trigger;

#[derive(Clone)]
struct App {
    runner: Runner,
    scheduler: Scheduler,
    admit: Option<AdmitRun>,
}

/// The host's routes, merged with `extra`; `admit` decides who may start manual runs.
pub(super) fn router(
    runner: Runner,
    scheduler: Scheduler,
    admit: Option<AdmitRun>,
    extra: Option<Router>,
) -> Router {
    let app = Router::new()
        .route("/health", get(health))
        .route("/v1/runs", post(start_run))
        .route("/hooks/{env}/{*path}", post(hook))
        .with_state(App {
            runner,
            scheduler,
            admit,
        });
    match extra {
        Some(extra) => app.merge(extra),
        None => app,
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn health(State(app): State<App>) -> Json<serde_json::Value> {
    let catalog = app.runner.catalog();
    let environments: Vec<serde_json::Value> = catalog
        .environments()
        .into_iter()
        .map(|environment| {
            let flows: Vec<serde_json::Value> = catalog
                .active(&environment)
                .into_iter()
                .map(|active| {
                    let triggers: Vec<String> = active
                        .program
                        .flows
                        .get(&active.flow)
                        .map(|f| f.triggers.iter().map(ToString::to_string).collect())
                        .unwrap_or_default();
                    json!({
                        "name": active.flow,
                        "digest": active.digest,
                        "triggers": triggers,
                        "running": app.runner.running(&environment, &active.flow),
                        "next_run": app.scheduler.next_run(&environment, &active.flow)
                            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                    })
                })
                .collect();
            json!({ "name": environment, "flows": flows })
        })
        .collect();
    Json(json!({ "status": "ok", "environments": environments }))
}

#[derive(serde::Deserialize)]
struct RunRequest {
    flow: String,
    env: String,
}

/// Runs a flow now (waiting behind a running one) and answers its run record, when
/// the caller is admitted.
async fn start_run(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<RunRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected a JSON body {\"flow\": ..., \"env\": ...}",
        );
    };
    if let Some(admit) = app.admit.clone() {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        let (env, flow) = (request.env.clone(), request.flow.clone());
        let admitted =
            tokio::task::spawn_blocking(move || admit(token.as_deref(), &env, &flow)).await;
        match admitted {
            Ok(Ok(())) => {}
            Ok(Err((status, message))) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
                return error(status, &message);
            }
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        }
    }
    let (tx, rx) = oneshot::channel();
    let waiters = Waiters {
        started: Vec::new(),
        finished: vec![tx],
    };
    match app
        .runner
        .fire(&request.env, &request.flow, Trigger::Manual, waiters)
    {
        Fired::Unknown => {
            return error(
                StatusCode::NOT_FOUND,
                &format!("no flow `{}` active in `{}`", request.flow, request.env),
            )
        }
        Fired::Stopping => return error(StatusCode::SERVICE_UNAVAILABLE, "the host is stopping"),
        Fired::Started | Fired::Queued | Fired::Coalesced => {}
    }
    match rx.await {
        Ok(Ok(record)) => Json(record).into_response(),
        Ok(Err(message)) => error(StatusCode::INTERNAL_SERVER_ERROR, &message),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the run was not started"),
    }
}

/// A signed webhook call: 401 unless signed with the environment's key; 202 with the
/// run's id (or `queued` when a run of the flow is going) when it is.
async fn hook(
    State(app): State<App>,
    Path((environment, path)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{path}");
    let flows: Vec<_> = app
        .runner
        .catalog()
        .active(&environment)
        .into_iter()
        .filter(|active| {
            active.program.flows.get(&active.flow).is_some_and(|f| {
                f.triggers
                    .iter()
                    .any(|t| matches!(t, IrTrigger::Webhook { path: p } if *p == path))
            })
        })
        .collect();
    let Some(first) = flows.first() else {
        return error(StatusCode::NOT_FOUND, "no webhook at this path");
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let signed = first
        .webhook_secret
        .as_ref()
        .is_some_and(|secret| verify(secret.as_bytes(), &body, signature));
    let logger = app.runner.logger();
    if !signed {
        logger.event(
            &first.redactor,
            "webhook.rejected",
            &[
                ("env", environment.clone()),
                ("path", path.clone()),
                (
                    "reason",
                    if signature.is_some() {
                        "bad signature"
                    } else {
                        "no signature"
                    }
                    .to_owned(),
                ),
            ],
        );
        return error(
            StatusCode::UNAUTHORIZED,
            "missing or bad X-Weft-Signature-256",
        );
    }
    let mut runs = Vec::new();
    for active in &flows {
        let (tx, rx) = oneshot::channel();
        let waiters = Waiters {
            started: vec![tx],
            finished: Vec::new(),
        };
        let fired = app
            .runner
            .fire(&environment, &active.flow, Trigger::Webhook, waiters);
        let run = match fired {
            Fired::Started => tokio::time::timeout(Duration::from_secs(10), rx)
                .await
                .ok()
                .and_then(Result::ok),
            _ => None,
        };
        runs.push(json!({
            "flow": active.flow,
            "run": run,
            "queued": matches!(fired, Fired::Queued | Fired::Coalesced),
        }));
    }
    (StatusCode::ACCEPTED, Json(json!({ "runs": runs }))).into_response()
}

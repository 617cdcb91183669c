//! The control API over HTTP: an `axum::Router` a host merges into its listener.
//! Every call but none carries `Authorization: Bearer TOKEN`; unauthenticated and
//! under-privileged calls are refused (401, 403) and recorded in the audit trail.
//!
//! Answers are JSON; errors are `{"error": {"kind", "message"}}` with 400 (invalid,
//! tampered artifact), 401, 403, 404, 409 (refused by a gate, wrong state) or 500.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;

use super::audit::ExportFormat;
use super::identity::{Grant, Identity};
use super::service::{Delivery, Error};
use super::store::{Promotion, PromotionStatus};
use crate::artifact::Artifact;

/// The largest request body: artifacts of big projects run to megabytes.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The control API's routes, all under `/v1`.
pub fn router(delivery: Arc<Delivery>) -> Router {
    Router::new()
        .route("/v1/artifacts", post(deploy))
        .route("/v1/tests", post(tests))
        .route("/v1/promotions", post(promote).get(promotions))
        .route("/v1/promotions/{id}", get(promotion))
        .route("/v1/promotions/{id}/approve", post(approve))
        .route("/v1/promotions/{id}/reject", post(reject))
        .route("/v1/rollbacks", post(rollback))
        .route("/v1/audit", get(audit))
        .route("/v1/audit/verify", get(verify))
        .route("/v1/metrics", get(metrics))
        .route("/v1/status", get(status))
        .route("/v1/users", post(add_user))
        .route("/v1/users/{name}/tokens", post(issue_token))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&delivery),
            authenticate,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(delivery)
}

type Shared = State<Arc<Delivery>>;

fn error_response(error: &Error) -> Response {
    let kind = match error {
        Error::Unauthenticated(_) => "unauthenticated",
        Error::Forbidden(_) => "forbidden",
        Error::NotFound(_) => "not_found",
        Error::Invalid(_) => "invalid",
        Error::Conflict(_) => "conflict",
        Error::Store(_) => "store",
    };
    let status =
        StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(json!({"error": {"kind": kind, "message": error.to_string()}})),
    )
        .into_response()
}

/// Runs a blocking operation off the async threads; refusals (403, 400, 409) are
/// audited.
async fn call<T: Send + 'static>(
    delivery: Arc<Delivery>,
    who: &Identity,
    call: &str,
    operation: impl FnOnce(&Delivery) -> Result<T, Error> + Send + 'static,
) -> Result<T, Response> {
    let actor = who.name.clone();
    let call = call.to_string();
    let outcome = tokio::task::spawn_blocking(move || {
        let result = operation(&delivery);
        if let Err(error @ (Error::Forbidden(_) | Error::Invalid(_) | Error::Conflict(_))) = &result
        {
            delivery.refused(&actor, &call, error);
        }
        result
    })
    .await;
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error_response(&error)),
        Err(join) => Err(error_response(&Error::Store(format!(
            "the operation failed: {join}"
        )))),
    }
}

async fn authenticate(State(delivery): Shared, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let call = format!("{} {}", request.method(), request.uri().path());
    let outcome = tokio::task::spawn_blocking(move || {
        let result = delivery.authenticate(token.as_deref());
        if let Err(error) = &result {
            delivery.refused("anonymous", &call, error);
        }
        result
    })
    .await;
    match outcome {
        Ok(Ok(identity)) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Ok(Err(error)) => error_response(&error),
        Err(join) => error_response(&Error::Store(format!("authentication failed: {join}"))),
    }
}

fn promotion_status(p: &Promotion) -> StatusCode {
    match p.status {
        PromotionStatus::Activated => StatusCode::CREATED,
        PromotionStatus::Pending => StatusCode::ACCEPTED,
        PromotionStatus::Rejected => StatusCode::OK,
        PromotionStatus::Refused => StatusCode::CONFLICT,
    }
}

#[derive(Deserialize)]
struct DeployBody {
    artifact: serde_json::Value,
    environment: String,
    #[serde(default)]
    tests: Option<serde_json::Value>,
}

async fn deploy(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Json(body): Json<DeployBody>,
) -> Response {
    let caller = who.clone();
    let result = call(d, &who, "POST /v1/artifacts", move |d| {
        let artifact: Artifact = serde_json::from_value(body.artifact)
            .map_err(|e| Error::Invalid(format!("not a Weft artifact: {e}")))?;
        d.deploy(&caller, artifact, &body.environment, body.tests.as_ref())
    })
    .await;
    match result {
        Err(response) => response,
        Ok(promotions) => {
            let status = promotions
                .iter()
                .map(promotion_status)
                .max_by_key(|s| match *s {
                    StatusCode::CONFLICT => 3,
                    StatusCode::ACCEPTED => 2,
                    _ => 1,
                })
                .unwrap_or(StatusCode::CREATED);
            (status, Json(json!({"promotions": promotions}))).into_response()
        }
    }
}

#[derive(Deserialize)]
struct TestsBody {
    digest: String,
    report: serde_json::Value,
}

async fn tests(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Json(body): Json<TestsBody>,
) -> Response {
    let caller = who.clone();
    let digest = body.digest.clone();
    match call(d, &who, "POST /v1/tests", move |d| {
        d.record_tests(&caller, &body.digest, &body.report)
    })
    .await
    {
        Ok(passed) => (
            StatusCode::CREATED,
            Json(json!({"digest": digest, "passed": passed})),
        )
            .into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct PromoteBody {
    flow: String,
    to: String,
}

async fn promote(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Json(body): Json<PromoteBody>,
) -> Response {
    let caller = who.clone();
    match call(d, &who, "POST /v1/promotions", move |d| {
        d.promote(&caller, &body.flow, &body.to)
    })
    .await
    {
        Ok(p) => (promotion_status(&p), Json(p)).into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
}

async fn promotions(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Query(q): Query<ListQuery>,
) -> Response {
    let status = match q.status.as_deref().map(PromotionStatus::parse) {
        Some(None) => {
            return error_response(&Error::Invalid(
                "status is pending, activated, rejected or refused".into(),
            ))
        }
        Some(s) => s,
        None => None,
    };
    match call(d, &who, "GET /v1/promotions", move |d| d.promotions(status)).await {
        Ok(list) => Json(list).into_response(),
        Err(response) => response,
    }
}

async fn promotion(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Path(id): Path<i64>,
) -> Response {
    match call(d, &who, "GET /v1/promotions/{id}", move |d| d.promotion(id)).await {
        Ok(p) => Json(p).into_response(),
        Err(response) => response,
    }
}

async fn approve(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Path(id): Path<i64>,
) -> Response {
    let caller = who.clone();
    match call(
        d,
        &who,
        &format!("POST /v1/promotions/{id}/approve"),
        move |d| d.approve(&caller, id),
    )
    .await
    {
        Ok(p) => (promotion_status(&p), Json(p)).into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct RejectBody {
    reason: String,
}

async fn reject(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Path(id): Path<i64>,
    Json(body): Json<RejectBody>,
) -> Response {
    let caller = who.clone();
    match call(
        d,
        &who,
        &format!("POST /v1/promotions/{id}/reject"),
        move |d| d.reject(&caller, id, &body.reason),
    )
    .await
    {
        Ok(p) => Json(p).into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct RollbackBody {
    flow: String,
    environment: String,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

async fn rollback(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Json(body): Json<RollbackBody>,
) -> Response {
    let caller = who.clone();
    let result = call(d, &who, "POST /v1/rollbacks", move |d| {
        d.rollback(
            &caller,
            &body.flow,
            &body.environment,
            body.to.as_deref(),
            body.reason.as_deref().unwrap_or("manual rollback"),
        )
    })
    .await;
    match result {
        Ok(a) => (StatusCode::CREATED, Json(a)).into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    since: Option<String>,
    format: Option<String>,
}

/// `2026-01-05` or an RFC 3339 time.
fn parse_time(text: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time"
            ))
        })
}

fn canonical(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn audit(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let since = match q.since.as_deref().map(parse_time).transpose() {
        Ok(s) => s.map(canonical),
        Err(e) => return error_response(&e),
    };
    let format = match q.format.as_deref() {
        None | Some("json") => None,
        Some("jsonl") => Some(ExportFormat::Jsonl),
        Some("csv") => Some(ExportFormat::Csv),
        Some(other) => {
            return error_response(&Error::Invalid(format!(
                "unknown format {other} (json, jsonl, csv)"
            )))
        }
    };
    match format {
        None => match call(d, &who, "GET /v1/audit", move |d| d.audit(since.as_deref())).await {
            Ok(entries) => Json(entries).into_response(),
            Err(response) => response,
        },
        Some(format) => match call(d, &who, "GET /v1/audit", move |d| {
            d.export(since.as_deref(), format)
        })
        .await
        {
            Ok(text) => {
                let kind = if format == ExportFormat::Csv {
                    "text/csv"
                } else {
                    "application/x-ndjson"
                };
                ([(header::CONTENT_TYPE, kind)], text).into_response()
            }
            Err(response) => response,
        },
    }
}

async fn verify(State(d): Shared, Extension(who): Extension<Identity>) -> Response {
    match call(d, &who, "GET /v1/audit/verify", |d| d.verify()).await {
        Ok(v) => Json(v).into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct MetricsQuery {
    env: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

async fn metrics(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Query(q): Query<MetricsQuery>,
) -> Response {
    let parse = |t: Option<&str>| t.map(parse_time).transpose();
    let (since, until) = match (parse(q.since.as_deref()), parse(q.until.as_deref())) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => return error_response(&e),
    };
    let env = q.env.unwrap_or_else(|| "prod".to_string());
    match call(d, &who, "GET /v1/metrics", move |d| {
        d.metrics(&env, since, until)
    })
    .await
    {
        Ok(m) => Json(m).into_response(),
        Err(response) => response,
    }
}

async fn status(State(d): Shared, Extension(who): Extension<Identity>) -> Response {
    match call(d, &who, "GET /v1/status", |d| d.status()).await {
        Ok(s) => Json(s).into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct UserBody {
    name: String,
    grants: Vec<String>,
}

async fn add_user(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Json(body): Json<UserBody>,
) -> Response {
    let caller = who.clone();
    let result = call(d, &who, "POST /v1/users", move |d| {
        let grants = body
            .grants
            .iter()
            .map(|g| Grant::parse(g))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::Invalid)?;
        d.put_user(&caller, &body.name, &grants)?;
        Ok(json!({"name": body.name, "grants": grants.iter().map(ToString::to_string).collect::<Vec<_>>()}))
    })
    .await;
    match result {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(response) => response,
    }
}

async fn issue_token(
    State(d): Shared,
    Extension(who): Extension<Identity>,
    Path(name): Path<String>,
) -> Response {
    let caller = who.clone();
    let user = name.clone();
    match call(d, &who, "POST /v1/users/{name}/tokens", move |d| {
        d.issue_token(&caller, &user)
    })
    .await
    {
        Ok(token) => (
            StatusCode::CREATED,
            Json(json!({"user": name, "token": token})),
        )
            .into_response(),
        Err(response) => response,
    }
}

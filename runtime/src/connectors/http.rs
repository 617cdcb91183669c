//! The `http` connector: JSON over HTTP(S) with `ureq`, a blocking client (the engine
//! sends one request at a time per run, so an async client would buy nothing here).
//!
//! Binding options:
//! - `auth`: `bearer(token)`, `basic(user, password)`, `api_key(header, key)` or
//!   `oauth2(token_url, client_id, client_secret)` (client credentials; the token is
//!   cached until shortly before it expires and fetched again once on a 401).
//! - `timeout`: for each whole request (default 30 s).
//! - `rate_limit`: at most this many requests per second.
//! - `headers`: `headers(accept: "application/json", x_tenant: "eu")` adds headers
//!   (`_` in a name becomes `-`; values may be secrets).
//! - `pagination`: `"link"` follows `Link: <url>; rel="next"` headers; `cursor(field:
//!   "next", param: "cursor", items: "data")` reads the records from `items` of each
//!   page's object and asks for the next page with `?param=<value of field>` until the
//!   field is missing, null or empty. A paginated `read ... as [T]` streams: a page is
//!   fetched when the engine needs more records (it takes batches of 500), so memory
//!   does not grow with the listing; a later page failing transiently is retried (3 times,
//!   from 250 ms, doubling, or after `Retry-After`).
//!
//! Writes carry the record's key as an `Idempotency-Key` header. A 429 or 503 with
//! `Retry-After` tells the engine how long to wait at least.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ureq::http;

use super::{BindError, Connector, Settings};
use crate::connector::{ConnectorError, Records, Request};
use crate::redact::Redactor;

/// Requests without a `timeout` option give up after this long.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of an error answer's body goes into the error message.
const DETAIL_CHARS: usize = 200;
/// Answers larger than this are refused rather than read into memory.
const BODY_LIMIT: u64 = 256 * 1024 * 1024;
/// A paginated read stops after this many pages (a server that never ends).
const MAX_PAGES: usize = 100_000;

/// A bound `http` connection.
pub struct HttpConnector {
    agent: ureq::Agent,
    base: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    pagination: Pagination,
    /// The earliest time of the next request, under a rate limit.
    throttle: Option<(Duration, Mutex<Instant>)>,
}

enum Auth {
    None,
    /// A fixed `Authorization` or API-key header.
    Header(String, String),
    OAuth2 {
        token_url: String,
        client_id: String,
        client_secret: String,
        token: Mutex<Option<(String, Instant)>>,
    },
}

#[derive(PartialEq, Eq)]
enum Pagination {
    None,
    Link,
    Cursor {
        field: String,
        param: String,
        items: String,
    },
}

impl HttpConnector {
    /// A connector for this binding.
    pub fn new(settings: &Settings<'_>) -> Result<HttpConnector, BindError> {
        let base = settings.endpoint()?.trim_end_matches('/').to_owned();
        let timeout = settings.duration("timeout")?.unwrap_or(DEFAULT_TIMEOUT);
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .build(),
        );
        let auth = match settings.value("auth") {
            None => Auth::None,
            Some("bearer") => Auth::Header(
                "Authorization".into(),
                format!("Bearer {}", settings.required("auth.token")?),
            ),
            Some("basic") => {
                let pair = format!(
                    "{}:{}",
                    settings.required("auth.user")?,
                    settings.required("auth.password")?
                );
                Auth::Header(
                    "Authorization".into(),
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                )
            }
            Some("api_key") => Auth::Header(
                settings.required("auth.header")?.to_owned(),
                settings.required("auth.key")?.to_owned(),
            ),
            Some("oauth2") => Auth::OAuth2 {
                token_url: settings.required("auth.token_url")?.to_owned(),
                client_id: settings.required("auth.client_id")?.to_owned(),
                client_secret: settings.required("auth.client_secret")?.to_owned(),
                token: Mutex::new(None),
            },
            Some(other) => return Err(settings.error(format!("unknown auth scheme `{other}`"))),
        };
        let headers = settings
            .group("headers")
            .into_iter()
            .map(|(name, value)| (name.replace('_', "-"), value.to_owned()))
            .collect();
        let pagination = match settings.value("pagination") {
            None => Pagination::None,
            Some("link") => Pagination::Link,
            Some("cursor") => {
                let option = |key: &str, default: &str| {
                    settings
                        .value(&format!("pagination.{key}"))
                        .unwrap_or(default)
                        .to_owned()
                };
                Pagination::Cursor {
                    field: option("field", "next_cursor"),
                    param: option("param", "cursor"),
                    items: option("items", "items"),
                }
            }
            Some(other) => {
                return Err(settings.error(format!(
                    "unknown pagination `{other}` (use \"link\" or cursor(field: ..., param: ..., items: ...))"
                )))
            }
        };
        let throttle = settings.count("rate_limit")?.map(|per_second| {
            (
                Duration::from_secs(1) / per_second,
                Mutex::new(Instant::now()),
            )
        });
        Ok(HttpConnector {
            agent,
            base,
            auth,
            headers,
            pagination,
            throttle,
        })
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}/{}", self.base, path.trim_start_matches('/'))
        }
    }

    /// Sends one HTTP request with auth, fetching a fresh OAuth2 token once on a 401.
    fn exchange(
        &self,
        method: &http::Method,
        url: &str,
        body: Option<&serde_json::Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, ConnectorError> {
        let answer = self.exchange_once(method, url, body, idempotency_key, false)?;
        if answer.status == 401 && matches!(self.auth, Auth::OAuth2 { .. }) {
            return self.exchange_once(method, url, body, idempotency_key, true);
        }
        Ok(answer)
    }

    fn exchange_once(
        &self,
        method: &http::Method,
        url: &str,
        body: Option<&serde_json::Value>,
        idempotency_key: Option<&str>,
        fresh_token: bool,
    ) -> Result<Answer, ConnectorError> {
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(url)
            .header("Accept", "application/json");
        match &self.auth {
            Auth::None => {}
            Auth::Header(name, value) => builder = builder.header(name.as_str(), value.as_str()),
            Auth::OAuth2 { .. } => {
                let token = self.oauth2_token(fresh_token)?;
                builder = builder.header("Authorization", format!("Bearer {token}"));
            }
        }
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(key) = idempotency_key {
            builder = builder.header("Idempotency-Key", key);
        }
        self.wait_for_rate_limit();
        let response = match body {
            Some(json) => {
                let request = builder
                    .header("Content-Type", "application/json")
                    .body(json.to_string())
                    .map_err(|e| ConnectorError::Invalid(format!("bad request to {url}: {e}")))?;
                self.agent.run(request)
            }
            None => {
                let request = builder
                    .body(())
                    .map_err(|e| ConnectorError::Invalid(format!("bad request to {url}: {e}")))?;
                self.agent.run(request)
            }
        }
        .map_err(transport_error)?;
        Answer::read(response)
    }

    /// The OAuth2 access token: cached until 30 s before it expires.
    fn oauth2_token(&self, fresh: bool) -> Result<String, ConnectorError> {
        let Auth::OAuth2 {
            token_url,
            client_id,
            client_secret,
            token,
        } = &self.auth
        else {
            return Err(ConnectorError::Invalid("not an OAuth2 connection".into()));
        };
        let mut cached = token
            .lock()
            .map_err(|_| ConnectorError::Transport("the token cache is poisoned".into()))?;
        if let Some((value, expires)) = cached.as_ref() {
            if !fresh && Instant::now() < *expires {
                return Ok(value.clone());
            }
        }
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            form_encode(client_id),
            form_encode(client_secret)
        );
        self.wait_for_rate_limit();
        let response = self
            .agent
            .post(token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .send(form)
            .map_err(transport_error)?;
        let answer = Answer::read(response)?;
        if !(200..300).contains(&answer.status) {
            return Err(answer.into_error("the OAuth2 token request"));
        }
        let json: serde_json::Value = serde_json::from_str(&answer.body)
            .map_err(|_| ConnectorError::Transport("the OAuth2 token answer is not JSON".into()))?;
        let Some(access) = json.get("access_token").and_then(|t| t.as_str()) else {
            return Err(ConnectorError::Transport(
                "the OAuth2 token answer has no access_token".into(),
            ));
        };
        let lifetime = json
            .get("expires_in")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(3600);
        let expires = Instant::now() + Duration::from_secs(lifetime.saturating_sub(30));
        *cached = Some((access.to_owned(), expires));
        Ok(access.to_owned())
    }

    /// The error for a non-2xx answer, with a fetched OAuth2 token (which the
    /// environment's redactor cannot know) masked should the server echo it.
    fn status_error(&self, answer: Answer, what: &str) -> ConnectorError {
        let error = answer.into_error(what);
        let token = match &self.auth {
            Auth::OAuth2 { token, .. } => token
                .lock()
                .ok()
                .and_then(|t| t.as_ref().map(|(value, _)| value.clone())),
            _ => None,
        };
        match (error, token) {
            (
                ConnectorError::Status {
                    code,
                    detail,
                    retry_after,
                },
                Some(token),
            ) => ConnectorError::Status {
                code,
                detail: Redactor::new([token.as_str()]).redact(&detail),
                retry_after,
            },
            (error, _) => error,
        }
    }

    fn wait_for_rate_limit(&self) {
        let Some((interval, next)) = &self.throttle else {
            return;
        };
        let wait = match next.lock() {
            Ok(mut next) => {
                let now = Instant::now();
                let slot = (*next).max(now);
                *next = slot + *interval;
                slot - now
            }
            Err(_) => *interval,
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }

    /// Reads every page of a GET into one array (or the single answer unpaginated).
    fn read_pages(&self, url: String) -> Result<serde_json::Value, ConnectorError> {
        if self.pagination == Pagination::None {
            return self.get_json(&url);
        }
        let records: Result<Vec<_>, _> = Pages::new(self, url).collect();
        Ok(serde_json::Value::Array(records?))
    }

    /// The JSON answer of one GET.
    fn get_json(&self, url: &str) -> Result<serde_json::Value, ConnectorError> {
        let answer = self.exchange(&http::Method::GET, url, None, None)?;
        if !(200..300).contains(&answer.status) {
            return Err(self.status_error(answer, "GET"));
        }
        answer.json(true)
    }

    /// One page of a paginated GET: its records and the URL of the next page.
    fn page(&self, url: &str) -> Result<(Vec<serde_json::Value>, Option<String>), ConnectorError> {
        let answer = self.exchange(&http::Method::GET, url, None, None)?;
        if !(200..300).contains(&answer.status) {
            return Err(self.status_error(answer, "GET"));
        }
        let next_link = answer.next_link.clone();
        let json = answer.json(true)?;
        match &self.pagination {
            Pagination::None => Ok((vec![json], None)),
            Pagination::Link => {
                let next = next_link.map(|link| self.url(&link));
                match json {
                    serde_json::Value::Array(items) => Ok((items, next)),
                    other => Ok((vec![other], next)),
                }
            }
            Pagination::Cursor {
                field,
                param,
                items,
            } => {
                let records = match json.get(items.as_str()) {
                    Some(serde_json::Value::Array(page)) => page.clone(),
                    Some(serde_json::Value::Null) | None => Vec::new(),
                    Some(_) => {
                        return Err(ConnectorError::Invalid(format!(
                            "the page's `{items}` is not an array of records"
                        )))
                    }
                };
                let cursor = match json.get(field.as_str()) {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                Ok((records, cursor.map(|c| with_query(url, param, &c))))
            }
        }
    }
}

/// Retries of a page after the first page, on a transient error (the engine retries
/// opening the read; a later page is retried here, the record already read kept).
const PAGE_RETRIES: u32 = 3;

/// The first wait before retrying a page, doubled each time, or the server's
/// `Retry-After` when longer.
const PAGE_BACKOFF: Duration = Duration::from_millis(250);

/// The records of a paginated GET, one page fetched at a time: a long listing is
/// processed as it arrives and never held whole.
struct Pages<'a> {
    connector: &'a HttpConnector,
    next: Option<String>,
    fetched: usize,
    buffer: std::collections::VecDeque<serde_json::Value>,
}

impl<'a> Pages<'a> {
    fn new(connector: &'a HttpConnector, url: String) -> Pages<'a> {
        Pages {
            connector,
            next: Some(url),
            fetched: 0,
            buffer: std::collections::VecDeque::new(),
        }
    }
}

impl Iterator for Pages<'_> {
    type Item = Result<serde_json::Value, ConnectorError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(record) = self.buffer.pop_front() {
                return Some(Ok(record));
            }
            let url = self.next.take()?;
            self.fetched += 1;
            if self.fetched > MAX_PAGES {
                return Some(Err(ConnectorError::Invalid(format!(
                    "more than {MAX_PAGES} pages; the server keeps paginating"
                ))));
            }
            let mut attempt = 0;
            let page = loop {
                match self.connector.page(&url) {
                    Err(error)
                        if self.fetched > 1 && error.is_transient() && attempt < PAGE_RETRIES =>
                    {
                        let wait = PAGE_BACKOFF * 2u32.pow(attempt);
                        std::thread::sleep(error.retry_after().map_or(wait, |r| r.max(wait)));
                        attempt += 1;
                    }
                    other => break other,
                }
            };
            match page {
                Ok((records, next)) => {
                    self.buffer.extend(records);
                    self.next = next;
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

impl Connector for HttpConnector {
    fn read_records<'a>(
        &'a self,
        request: &Request<'_>,
    ) -> Result<Option<Records<'a>>, ConnectorError> {
        let path = request.resolved.first();
        match path {
            Some(path) if request.operation == "get" && self.pagination != Pagination::None => {
                Ok(Some(Records {
                    items: Box::new(Pages::new(self, self.url(path))),
                    settle: None,
                }))
            }
            _ => Ok(None),
        }
    }

    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        let method = match request.operation {
            "get" => http::Method::GET,
            "post" => http::Method::POST,
            "put" => http::Method::PUT,
            "patch" => http::Method::PATCH,
            "delete" => http::Method::DELETE,
            other => {
                return Err(ConnectorError::Invalid(format!(
                    "`http` connections have no operation `{other}`"
                )))
            }
        };
        let Some(path) = request.resolved.first() else {
            return Err(ConnectorError::Invalid(format!(
                "{}.{} needs a path",
                request.connection, request.operation
            )));
        };
        let url = self.url(path);
        if method == http::Method::GET {
            return self.read_pages(url);
        }
        let body = request
            .body
            .as_ref()
            .filter(|_| method != http::Method::DELETE);
        let answer = self.exchange(&method, &url, body, request.idempotency_key.as_deref())?;
        if !(200..300).contains(&answer.status) {
            return Err(self.status_error(answer, method.as_str()));
        }
        answer.json(false)
    }
}

/// A response read whole.
struct Answer {
    status: u16,
    body: String,
    retry_after: Option<Duration>,
    next_link: Option<String>,
}

impl Answer {
    fn read(mut response: http::Response<ureq::Body>) -> Result<Answer, ConnectorError> {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let retry_after = header("retry-after")
            .first()
            .and_then(|value| parse_retry_after(value));
        let next_link = header("link").iter().find_map(|value| next_link(value));
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(transport_error)?;
        Ok(Answer {
            status,
            body,
            retry_after,
            next_link,
        })
    }

    /// The body as JSON; an empty body is `null`. A read must answer JSON; a write's
    /// non-JSON answer (some APIs say "OK") counts as `null`.
    fn json(&self, required: bool) -> Result<serde_json::Value, ConnectorError> {
        if self.body.trim().is_empty() {
            return Ok(serde_json::Value::Null);
        }
        match serde_json::from_str(&self.body) {
            Ok(json) => Ok(json),
            Err(_) if !required => Ok(serde_json::Value::Null),
            Err(e) => Err(ConnectorError::Transport(format!(
                "the answer is not JSON: {e}"
            ))),
        }
    }

    fn into_error(self, what: &str) -> ConnectorError {
        let mut detail: String = self.body.trim().chars().take(DETAIL_CHARS).collect();
        if detail.len() < self.body.trim().len() {
            detail.push('…');
        }
        if self.status == 401 || self.status == 403 {
            detail = format!("{what} was not authorized");
        }
        ConnectorError::Status {
            code: self.status,
            detail,
            retry_after: self
                .retry_after
                .filter(|_| matches!(self.status, 429 | 503)),
        }
    }
}

fn transport_error(error: ureq::Error) -> ConnectorError {
    match error {
        ureq::Error::Timeout(_) => ConnectorError::Timeout,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => ConnectorError::Timeout,
        ureq::Error::BadUri(uri) => ConnectorError::Invalid(format!("bad URL: {uri}")),
        other => ConnectorError::Transport(other.to_string()),
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let mut parts = link.split(';');
        let target = parts.next()?.trim();
        let is_next = parts.any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        let url = target.strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

/// `url` with `name=value` set in its query (replacing an earlier value).
fn with_query(url: &str, name: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(name))
        .map(str::to_owned)
        .collect();
    pairs.push(format!("{}={}", form_encode(name), form_encode(value)));
    format!("{path}?{}", pairs.join("&"))
}

/// Percent-encodes for a query string or form body.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_spaces_requests_out() -> Result<(), BindError> {
        let binding = crate::binding::Binding {
            kind: "http".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            secrets: Default::default(),
            options: [("rate_limit".to_owned(), "20".to_owned())].into(),
        };
        let settings = Settings {
            connection: "api",
            binding: &binding,
            secrets: Default::default(),
        };
        let connector = HttpConnector::new(&settings)?;
        let started = Instant::now();
        for _ in 0..5 {
            connector.wait_for_rate_limit();
        }
        // The first goes at once, the next four 50 ms apart.
        assert!(started.elapsed() >= Duration::from_millis(200));
        Ok(())
    }

    #[test]
    fn bad_options_are_refused_with_the_connection_named() {
        let binding = crate::binding::Binding {
            kind: "http".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            secrets: Default::default(),
            options: [("pagination".to_owned(), "pages".to_owned())].into(),
        };
        let settings = Settings {
            connection: "api",
            binding: &binding,
            secrets: Default::default(),
        };
        let error = HttpConnector::new(&settings).err().map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.starts_with("connection `api`: unknown pagination `pages`")),
            "{error:?}"
        );
    }

    #[test]
    fn finds_the_next_link() {
        let header = r#"<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next""#;
        assert_eq!(next_link(header).as_deref(), Some("https://a/x?page=3"));
        assert_eq!(next_link(r#"<https://a/x>; rel="last""#), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn cursor_replaces_the_query_parameter() {
        assert_eq!(
            with_query("/c?limit=2", "cursor", "a b"),
            "/c?limit=2&cursor=a%20b"
        );
        assert_eq!(
            with_query("/c?cursor=1&x=2", "cursor", "9"),
            "/c?x=2&cursor=9"
        );
    }
}

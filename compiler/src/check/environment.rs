//! Environments: each binding matches its connection's kind, options exist, and no
//! credential is written literally. Every connection a flow uses is bound everywhere.

use std::collections::{HashMap, HashSet};

use crate::connectors::{self, ConnectorKind, AUTH_SCHEMES};
use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::source::{FileId, Loc, Span};
use crate::syntax::{
    Binding, ConfigArg, ConfigValue, ConfigValueKind, EnvironmentDecl, File, Item,
};

use super::{Bound, Checker, Link};

/// Arguments of authentication schemes that are credentials and so must be secrets.
const CREDENTIAL_ARGS: &[(&str, &str)] = &[
    ("bearer", "token"),
    ("basic", "password"),
    ("api_key", "key"),
    ("oauth2", "client_secret"),
];

impl Checker<'_> {
    pub(super) fn environment(&mut self, decl: &EnvironmentDecl) {
        let name_loc = self.loc(decl.name.span);
        if self.program.environments.get(&decl.name.name) != Some(&name_loc) {
            return; // a duplicate, already reported
        }
        let mut bound: HashMap<String, Span> = HashMap::new();
        for binding in &decl.bindings {
            if let Some(first) = bound.get(&binding.connection.name) {
                self.report(
                    Diagnostic::new(
                        Code::DuplicateBinding,
                        self.loc(binding.connection.span),
                        format!(
                            "connection `{}` is bound twice in `{}`",
                            binding.connection.name, decl.name.name
                        ),
                    )
                    .with_label("second binding")
                    .with_secondary(self.loc(*first), "first bound here")
                    .with_note("remove one of the bindings"),
                );
                continue;
            }
            bound.insert(binding.connection.name.clone(), binding.span);
            self.binding(decl, binding);
        }
        let close = decl.span.end.saturating_sub(1);
        self.found.bound.push((
            decl.name.name.clone(),
            name_loc,
            self.loc(Span::new(close, close)),
            bound.into_keys().collect(),
        ));
    }

    fn binding(&mut self, env: &EnvironmentDecl, binding: &Binding) {
        let kind_loc = self.loc(binding.kind.span);
        let Some(kind) = connectors::kind(&binding.kind.name) else {
            let mut d = Diagnostic::new(
                Code::UnknownConnectionKind,
                kind_loc,
                format!("unknown connector `{}`", binding.kind.name),
            )
            .with_label("not a connector kind")
            .with_note("the kinds are: http, file, postgres");
            if let Some(best) =
                suggest(&binding.kind.name, connectors::KINDS.iter().map(|k| k.name))
            {
                d = d.with_fix(format!("did you mean `{best}`?"), kind_loc, best);
            }
            self.report(d);
            return;
        };
        match self.connection(&binding.connection) {
            None => {}
            Some(connection) => {
                if let Some(declared) = connection.kind {
                    if declared.name != kind.name {
                        self.report(
                            Diagnostic::new(
                                Code::BindingKindMismatch,
                                kind_loc,
                                format!(
                                    "`{}` is {} connection but is bound with `{}`",
                                    binding.connection.name,
                                    super::flow::a_kind(declared.name),
                                    kind.name
                                ),
                            )
                            .with_label(format!("expected `{}(...)`", declared.name))
                            .with_secondary(
                                connection.loc,
                                format!("declared as `{}` here", declared.name),
                            )
                            .with_fix(
                                format!("bind it with `{}`", declared.name),
                                kind_loc,
                                declared.name,
                            ),
                        );
                    }
                }
            }
        }
        self.binding_args(env, binding, kind);
    }

    fn binding_args(
        &mut self,
        env: &EnvironmentDecl,
        binding: &Binding,
        kind: &'static ConnectorKind,
    ) {
        let positional: Vec<&ConfigArg> =
            binding.args.iter().filter(|a| a.name.is_none()).collect();
        let secret_name = format!("{}_{}", env.name.name, binding.connection.name).to_uppercase();
        match positional.first() {
            None => self.report(
                Diagnostic::new(Code::MissingEndpoint, self.loc(binding.span), format!("`{}` binding has no endpoint", kind.name))
                    .with_label("endpoint missing")
                    .with_note(match kind.name {
                        "http" => "give the base URL first: `http(\"https://api.example.com\", auth: ...)`",
                        "postgres" => "give the connection string as a secret: `postgres(secret \"WAREHOUSE_DSN\")`",
                        _ => "give the folder first: `file(\"/data/exports\")`",
                    }),
            ),
            Some(endpoint) => self.endpoint(kind, &endpoint.value, &secret_name),
        }
        for extra in positional.iter().skip(1) {
            self.report(
                Diagnostic::new(
                    Code::UnknownBindingOption,
                    self.loc(extra.value.span),
                    "only the endpoint is positional",
                )
                .with_label("unexpected argument")
                .with_note(format!(
                    "name the option, e.g. `timeout: 30s`; `{}` bindings accept: {}",
                    kind.name,
                    kind.options.join(", ")
                )),
            );
        }
        for arg in binding.args.iter().filter(|a| a.name.is_some()) {
            let Some(name) = &arg.name else { continue };
            let loc = self.loc(name.span);
            if !kind.options.contains(&name.name.as_str()) {
                let mut d = Diagnostic::new(
                    Code::UnknownBindingOption,
                    loc,
                    format!("`{}` bindings have no option `{}`", kind.name, name.name),
                )
                .with_label("unknown option")
                .with_note(format!("options: {}", kind.options.join(", ")));
                if let Some(best) = suggest(&name.name, kind.options.iter().copied()) {
                    d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
                }
                self.report(d);
                continue;
            }
            match name.name.as_str() {
                "auth" => self.auth(&arg.value, &secret_name),
                "timeout"
                    if !matches!(
                        arg.value.kind,
                        ConfigValueKind::Duration(_) | ConfigValueKind::Error
                    ) =>
                {
                    self.option_type(
                        &arg.value,
                        &format!("`{}` is a duration such as `30s`", name.name),
                    )
                }
                "rate_limit" | "pool_size"
                    if !matches!(
                        arg.value.kind,
                        ConfigValueKind::Int(_) | ConfigValueKind::Error
                    ) =>
                {
                    self.option_type(
                        &arg.value,
                        &format!("`{}` is a whole number such as `10`", name.name),
                    )
                }
                _ => self.no_literal_credentials(&arg.value, &secret_name),
            }
        }
    }

    fn option_type(&mut self, value: &ConfigValue, want: &str) {
        self.report(
            Diagnostic::new(Code::TypeMismatch, self.loc(value.span), want.to_string())
                .with_label("wrong kind of value"),
        );
    }

    fn endpoint(&mut self, kind: &ConnectorKind, value: &ConfigValue, secret_name: &str) {
        match (&value.kind, kind.endpoint_is_secret) {
            (ConfigValueKind::Secret(_) | ConfigValueKind::Error, _) => {}
            (ConfigValueKind::Str(_), true) => self.literal_secret(
                value,
                &format!("{secret_name}_DSN"),
                "a connection string carries a password",
            ),
            (ConfigValueKind::Str(url), false) if kind.name == "http" => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    let mut d = Diagnostic::new(
                        Code::MissingEndpoint,
                        self.loc(value.span),
                        "an http endpoint is a URL starting with https:// or http://",
                    )
                    .with_label("not a URL");
                    if !url.contains("://") && !url.is_empty() {
                        d = d.with_fix(
                            "add `https://`",
                            self.loc(value.span),
                            format!("\"https://{}\"", url.escape_default()),
                        );
                    }
                    self.report(d);
                } else if has_userinfo(url) {
                    self.report(
                        Diagnostic::new(Code::CredentialsInUrl, self.loc(value.span), "this URL carries a user name and password")
                            .with_label("credentials in the URL")
                            .with_note("remove them from the URL and use `auth: basic(secret \"USER\", secret \"PASSWORD\")`"),
                    );
                    self.redact(value.span);
                }
            }
            (ConfigValueKind::Str(_), false) => {}
            _ => self.report(
                Diagnostic::new(
                    Code::MissingEndpoint,
                    self.loc(value.span),
                    "the endpoint must be a string",
                )
                .with_label("not an endpoint")
                .with_note(if kind.endpoint_is_secret {
                    "write `secret \"NAME\"`"
                } else {
                    "write the URL or folder as a string"
                }),
            ),
        }
    }

    fn auth(&mut self, value: &ConfigValue, secret_name: &str) {
        let ConfigValueKind::Call(scheme, args) = &value.kind else {
            if let ConfigValueKind::Str(_) | ConfigValueKind::Int(_) = value.kind {
                self.literal_secret(
                    value,
                    &format!("{secret_name}_TOKEN"),
                    "authentication is a credential",
                );
            } else if !matches!(value.kind, ConfigValueKind::Error) {
                self.option_type(
                    value,
                    "`auth` is an auth scheme: bearer(...), basic(...), api_key(...) or oauth2(...)",
                );
            }
            return;
        };
        let loc = self.loc(scheme.span);
        let Some((_, params)) = AUTH_SCHEMES.iter().find(|(name, _)| *name == scheme.name) else {
            let mut d = Diagnostic::new(Code::UnknownBindingOption, loc, format!("unknown auth scheme `{}`", scheme.name))
                .with_label("not an auth scheme")
                .with_note("schemes: bearer(token), basic(user, password), api_key(header, key), oauth2(token_url, client_id, client_secret)");
            if let Some(best) = suggest(&scheme.name, AUTH_SCHEMES.iter().map(|(n, _)| *n)) {
                d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
            }
            self.report(d);
            return;
        };
        if args.len() != params.len() {
            self.report(
                Diagnostic::new(
                    Code::UnknownBindingOption,
                    self.loc(value.span),
                    format!(
                        "`{}` takes {} argument(s): {}",
                        scheme.name,
                        params.len(),
                        params.join(", ")
                    ),
                )
                .with_label("wrong number of arguments"),
            );
        }
        for (i, arg) in args.iter().enumerate() {
            let param = arg
                .name
                .as_ref()
                .map(|n| n.name.as_str())
                .or(params.get(i).copied())
                .unwrap_or("");
            let is_credential = CREDENTIAL_ARGS.contains(&(scheme.name.as_str(), param));
            if is_credential
                && !matches!(
                    arg.value.kind,
                    ConfigValueKind::Secret(_) | ConfigValueKind::Error
                )
            {
                self.literal_secret(
                    &arg.value,
                    &format!("{secret_name}_{}", param.to_uppercase()),
                    &format!("the {param} of `{}` is a credential", scheme.name),
                );
            }
        }
    }

    /// Reports literal strings inside an option value that is not known to be harmless.
    fn no_literal_credentials(&mut self, value: &ConfigValue, secret_name: &str) {
        if let ConfigValueKind::Call(_, args) = &value.kind {
            for arg in args {
                let looks_secret = arg.name.as_ref().is_some_and(|n| {
                    let lower = n.name.to_lowercase();
                    ["secret", "password", "token", "key", "authorization"]
                        .iter()
                        .any(|w| lower.contains(w))
                });
                if looks_secret && matches!(arg.value.kind, ConfigValueKind::Str(_)) {
                    self.literal_secret(&arg.value, secret_name, "this option holds a credential");
                }
            }
        }
    }

    fn literal_secret(&mut self, value: &ConfigValue, suggested: &str, why: &str) {
        let loc = self.loc(value.span);
        self.report(
            Diagnostic::new(Code::LiteralSecret, loc, format!("literal secret value: {why}, so it must not be written in the source"))
                .with_label("literal credential (hidden)")
                .with_note("secrets are resolved at run time from the environment or a secrets file; the value never enters the artifact")
                .with_fix(format!("use `secret \"{suggested}\"`"), loc, format!("secret \"{suggested}\"")),
        );
        self.redact(value.span);
    }

    /// Marks source text that holds a credential, so no rendering shows it.
    fn redact(&mut self, span: Span) {
        let at = self.loc(span);
        self.found.redactions.push(at);
    }

    /// Reports connections used by a flow but not bound in some environment.
    pub(super) fn unbound_connections(&mut self, used: &[&Link], bound: &[&Bound]) {
        let mut reported: HashSet<(&str, &str)> = HashSet::new();
        for (connection, flow, use_loc) in used.iter().copied() {
            for (env, env_loc, close, names) in bound.iter().copied() {
                if names.contains(connection)
                    || !reported.insert((env.as_str(), connection.as_str()))
                {
                    continue;
                }
                let kind = self
                    .program
                    .connections
                    .get(connection)
                    .and_then(|c| c.kind)
                    .map_or("http", |k| k.name);
                let template = match kind {
                    "postgres" => format!(
                        "postgres(secret \"{}_{}_DSN\")",
                        env.to_uppercase(),
                        connection.to_uppercase()
                    ),
                    "file" => "file(\"/data\")".to_string(),
                    _ => format!(
                        "http(\"https://CHANGE-ME\", auth: bearer(secret \"{}_{}_TOKEN\"))",
                        env.to_uppercase(),
                        connection.to_uppercase()
                    ),
                };
                self.report(
                    Diagnostic::new(
                        Code::UnboundConnection,
                        *env_loc,
                        format!("environment `{env}` does not bind connection `{connection}`, which flow `{flow}` uses"),
                    )
                    .with_label(format!("`{connection}` is not bound here"))
                    .with_secondary(*use_loc, format!("`{flow}` uses `{connection}` here"))
                    .with_note("every connection used by a flow must be bound in every environment, or the flow cannot be deployed there")
                    .with_fix(format!("bind `{connection}`"), *close, format!("  {connection} = {template}\n")),
                );
            }
        }
    }

    /// Reports tests that share a name.
    pub(super) fn duplicate_tests(&mut self, files: &[(FileId, File)]) {
        let mut seen: HashMap<&str, Loc> = HashMap::new();
        for (file, tree) in files {
            for item in &tree.items {
                let Item::Test(test) = item else { continue };
                let loc = Loc::new(*file, test.name.span);
                if let Some(first) = seen.get(test.name.value.as_str()) {
                    self.report(
                        Diagnostic::new(
                            Code::DuplicateTest,
                            loc,
                            format!("two tests are named \"{}\"", test.name.value),
                        )
                        .with_label("second test with this name")
                        .with_secondary(*first, "first test with this name")
                        .with_note("test names identify results in reports; rename one"),
                    );
                } else {
                    seen.insert(test.name.value.as_str(), loc);
                }
            }
        }
    }
}

/// Whether a URL has `user:password@` before its host.
fn has_userinfo(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.contains('@')
}

//! Connector kinds the compiler knows: their operations and binding options.

/// What a connector operation can be used for in a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Produces records (`read`).
    Source,
    /// Consumes records (`write`).
    Target,
    /// Sends a record and returns a response (`call`), or either of the above.
    Any,
}

/// One operation of a connector kind.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// Name, such as `get`.
    pub name: &'static str,
    /// Names of the string arguments, in order.
    pub params: &'static [&'static str],
    /// How a flow may use it.
    pub role: Role,
    /// One-line description for hover and completion.
    pub doc: &'static str,
}

/// A kind of external system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectorKind {
    /// Name as written after `connection x:`.
    pub name: &'static str,
    /// Its operations.
    pub operations: &'static [Operation],
    /// Named options an environment binding may set.
    pub options: &'static [&'static str],
    /// Whether the first positional argument of a binding is a credential (a DSN).
    pub endpoint_is_secret: bool,
}

impl PartialEq for Operation {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for Operation {}

impl ConnectorKind {
    /// The operation with this name.
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.name == name)
    }
}

/// Every connector kind.
pub const KINDS: &[ConnectorKind] = &[
    ConnectorKind {
        name: "http",
        operations: &[
            Operation {
                name: "get",
                params: &["path"],
                role: Role::Source,
                doc: "GET a JSON array (or object) from `path` under the bound base URL",
            },
            Operation {
                name: "post",
                params: &["path"],
                role: Role::Any,
                doc: "POST each record as JSON to `path`",
            },
            Operation {
                name: "put",
                params: &["path"],
                role: Role::Any,
                doc: "PUT each record as JSON to `path`",
            },
            Operation {
                name: "patch",
                params: &["path"],
                role: Role::Any,
                doc: "PATCH each record as JSON to `path`",
            },
            Operation {
                name: "delete",
                params: &["path"],
                role: Role::Target,
                doc: "DELETE `path` once per record",
            },
        ],
        options: &["auth", "timeout", "rate_limit", "headers", "pagination"],
        endpoint_is_secret: false,
    },
    ConnectorKind {
        name: "file",
        operations: &[
            Operation {
                name: "read",
                params: &["path"],
                role: Role::Source,
                doc: "read records from a JSON, NDJSON or CSV file under the bound folder",
            },
            Operation {
                name: "write",
                params: &["path"],
                role: Role::Target,
                doc: "append records to a JSON, NDJSON or CSV file under the bound folder",
            },
        ],
        options: &["format"],
        endpoint_is_secret: false,
    },
    ConnectorKind {
        name: "postgres",
        operations: &[
            Operation {
                name: "query",
                params: &["sql"],
                role: Role::Source,
                doc: "run a SELECT and stream its rows as records",
            },
            Operation {
                name: "insert",
                params: &["table"],
                role: Role::Target,
                doc: "INSERT each record into `table`",
            },
            Operation {
                name: "upsert",
                params: &["table", "key"],
                role: Role::Target,
                doc: "INSERT or UPDATE each record in `table` by the `key` column",
            },
        ],
        options: &["pool_size", "timeout"],
        endpoint_is_secret: true,
    },
];

/// The kind with this name.
pub fn kind(name: &str) -> Option<&'static ConnectorKind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Authentication schemes of `http` bindings, with the names of their arguments.
pub const AUTH_SCHEMES: &[(&str, &[&str])] = &[
    ("bearer", &["token"]),
    ("basic", &["user", "password"]),
    ("api_key", &["header", "key"]),
    ("oauth2", &["token_url", "client_id", "client_secret"]),
];

//! The one diagnostic type of the compiler, and the registry of diagnostic codes.
//!
//! Codes are append-only: a released code is never reused or renumbered. Each code is
//! documented with an example and a fix in `grammar/diagnostics.md`.

use crate::source::{Loc, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The program is accepted but probably not what was meant.
    Warning,
    /// The program is rejected.
    Error,
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $severity:ident, $title:literal;)*) => {
        /// Every diagnostic code Weft has released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $title] $variant,)*
        }

        impl Code {
            /// All codes, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable code, such as `W0400`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The default severity.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// A short title, used as the SARIF rule description.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }
        }
    };
}

codes! {
    // Syntax and input.
    SyntaxError = "W0001", Error, "syntax error";
    UnterminatedString = "W0002", Error, "unterminated string literal";
    InvalidCharacter = "W0003", Error, "character not allowed here";
    InvalidNumber = "W0004", Error, "number literal out of range or malformed";
    NotUtf8 = "W0005", Error, "file is not valid UTF-8";
    TooDeep = "W0006", Error, "expression or type nested too deeply";
    InvalidEscape = "W0007", Error, "unknown escape sequence in a string";
    InvalidInterpolation = "W0008", Error, "malformed string interpolation";
    // Projects.
    MissingManifest = "W0100", Error, "no weft.toml found";
    MalformedManifest = "W0101", Error, "weft.toml is malformed";
    UnreadableFile = "W0102", Error, "a file or folder cannot be read";
    NoSources = "W0103", Warning, "project has no .weft files";
    // Names.
    DuplicateDefinition = "W0200", Error, "name defined twice";
    UnknownType = "W0201", Error, "unknown type";
    DuplicateField = "W0202", Error, "field declared twice in a record";
    UnknownConnection = "W0203", Error, "unknown connection";
    UnknownMap = "W0204", Error, "unknown map";
    UnknownFlow = "W0205", Error, "unknown flow";
    UnknownEnvironment = "W0206", Error, "unknown environment";
    DuplicateVariant = "W0207", Error, "enum variant declared twice";
    InfiniteSchema = "W0208", Error, "schema contains itself without a list or optional";
    // Imported schemas.
    ImportUnreadable = "W0300", Error, "imported schema file cannot be read";
    ImportMalformed = "W0301", Error, "imported schema file is not valid JSON or YAML";
    ImportUnsupported = "W0302", Error, "unsupported JSON Schema construct";
    ImportBadRef = "W0303", Error, "unresolved $ref in imported schema";
    ImportCycle = "W0304", Error, "cyclic $ref or import";
    ImportNotObject = "W0305", Error, "imported schema is not an object schema";
    // Types and mapping contracts.
    MissingTargetField = "W0400", Error, "required target field not assigned";
    UnknownTargetField = "W0401", Error, "target field does not exist";
    DuplicateAssignment = "W0402", Error, "target field assigned more than once";
    UnknownSourceField = "W0403", Error, "source field does not exist";
    TypeMismatch = "W0404", Error, "type mismatch";
    OptionalNotAllowed = "W0405", Error, "optional value used where a value is required";
    UnknownFunction = "W0406", Error, "unknown function";
    WrongArgumentCount = "W0407", Error, "wrong number of arguments";
    OperatorMismatch = "W0408", Error, "operator cannot be applied to these types";
    ConditionNotBool = "W0409", Error, "condition is not a Bool";
    UnknownVariable = "W0410", Error, "unknown variable";
    NotAnEnumValue = "W0411", Error, "value is not a variant of the enum";
    NeedlessDefault = "W0412", Warning, "`??` on a value that is never missing";
    LambdaMisplaced = "W0413", Error, "lambda where a value is expected, or value where a lambda is expected";
    NotARecord = "W0414", Error, "field access on a value that is not a record";
    RecursiveMap = "W0415", Error, "maps call each other in a cycle";
    NotInterpolatable = "W0416", Error, "value cannot be interpolated into a string";
    UnconvertedNumber = "W0417", Error, "Float mixed with Int or Decimal without a conversion";
    // Flows and connections.
    FlowWithoutSource = "W0500", Error, "flow has no trigger or no read step";
    StepTypeMismatch = "W0501", Error, "flow step does not accept the record type of the step before";
    UnknownOperation = "W0502", Error, "connection kind has no such operation";
    UnknownConnectionKind = "W0503", Error, "unknown connection kind";
    FlowCycle = "W0504", Error, "flows trigger each other in a cycle";
    InvalidCron = "W0505", Error, "invalid cron expression";
    StepOrder = "W0506", Error, "flow steps out of order";
    InvalidErrorPolicy = "W0507", Error, "invalid error policy";
    OperationArguments = "W0508", Error, "wrong arguments to a connection operation";
    InvalidTrigger = "W0509", Error, "invalid trigger";
    // Environments and secrets.
    UnboundConnection = "W0600", Error, "connection used by a flow is not bound in an environment";
    LiteralSecret = "W0601", Error, "literal secret value";
    BindingKindMismatch = "W0602", Error, "binding kind differs from the connection kind";
    UnknownBindingOption = "W0603", Error, "unknown binding option";
    CredentialsInUrl = "W0604", Error, "credentials embedded in an endpoint";
    DuplicateBinding = "W0605", Error, "connection bound twice in one environment";
    MissingEndpoint = "W0606", Error, "binding has no endpoint, or a malformed one";
    // Tests.
    FixtureNotFound = "W0700", Error, "fixture file not found";
    DuplicateTest = "W0701", Error, "two tests share a name";
    EmptyTest = "W0702", Warning, "test checks nothing";
    ExpectationBeforeRun = "W0703", Error, "expectation about a run before any `run`";
    InvalidClock = "W0704", Error, "`clock` timestamp is not an RFC 3339 timestamp or a date";
    // Promotion and rollback.
    PromotionNotPath = "W0800", Error, "promotion chain visits an environment twice";
    GateOutsideChain = "W0801", Error, "gate for an environment outside the promotion chain";
    UnknownGroup = "W0802", Error, "unknown approval group";
    ApprovalCount = "W0803", Error, "approval count out of range";
    ThresholdRange = "W0804", Error, "rollback threshold out of range";
    WindowZero = "W0805", Error, "rollback window must be longer than zero";
    DuplicatePromotion = "W0806", Error, "more than one promotion block";
    MinRunsZero = "W0807", Error, "rollback minimum runs must be at least 1";
    UnknownRollbackAction = "W0808", Error, "unknown rollback action";
    InvalidChangeWindow = "W0809", Error, "invalid change window";
    // Test results (`weft test`).
    ExpectationFailed = "W0900", Error, "test expectation not met";
    RunTimeError = "W0901", Error, "run-time error in a test";
    UnmockedCall = "W0902", Error, "call without a mock";
    SnapshotChanged = "W0903", Error, "snapshot changed";
    SnapshotMissing = "W0904", Error, "snapshot never recorded";
    PropertyFailed = "W0905", Error, "property test found a failing input";
    TestData = "W0906", Error, "test data cannot be used";
    TestRunner = "W0907", Error, "test runner error";
}

/// A span with a message, pointing into one file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Label {
    /// Where.
    pub loc: Loc,
    /// What is there.
    pub message: String,
}

/// A text edit a fix-it applies.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Edit {
    /// The text replaced.
    pub loc: Loc,
    /// The text put in its place.
    pub replacement: String,
}

/// A suggested fix: a message and the edits that make it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fix {
    /// What the fix does, such as "did you mean `customer_name`?".
    pub message: String,
    /// The edits, applied together.
    pub edits: Vec<Edit>,
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Stable code from the registry.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
    /// The main location.
    pub primary: Label,
    /// Related locations.
    pub secondary: Vec<Label>,
    /// Extra explanation.
    pub notes: Vec<String>,
    /// Suggested fixes.
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    /// A diagnostic of `code` at `loc`, with the code's default severity.
    pub fn new(code: Code, loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary: Label {
                loc,
                message: String::new(),
            },
            secondary: Vec::new(),
            notes: Vec::new(),
            fixes: Vec::new(),
        }
    }

    /// Sets the text shown under the primary span.
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    /// Adds a related location.
    pub fn with_secondary(mut self, loc: Loc, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            loc,
            message: message.into(),
        });
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds a fix that replaces the text at `loc`.
    pub fn with_fix(
        mut self,
        message: impl Into<String>,
        loc: Loc,
        replacement: impl Into<String>,
    ) -> Self {
        self.fixes.push(Fix {
            message: message.into(),
            edits: vec![Edit {
                loc,
                replacement: replacement.into(),
            }],
        });
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The closest candidate to `name` by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let distance = strsim::levenshtein(&lower, &c.to_lowercase());
            (distance, c)
        })
        .filter(|(distance, c)| *distance <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// Span of a whole file's start, for diagnostics that belong to no particular text.
pub const FILE_START: Span = Span { start: 0, end: 0 };

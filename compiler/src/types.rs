//! Semantic types: what schemas, fields and expressions are after name resolution.

use std::fmt;
use std::rc::Rc;

use crate::source::Loc;

/// Index of a schema in the resolved program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaId(pub u32);

/// A Weft type.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// Text.
    String,
    /// 64-bit whole number.
    Int,
    /// Exact decimal number.
    Decimal,
    /// IEEE-754 binary64 floating-point number.
    Float,
    /// `true` / `false`.
    Bool,
    /// Calendar date.
    Date,
    /// Instant with time zone.
    Timestamp,
    /// Any JSON value, unchecked.
    Json,
    /// The type of `null`, assignable to any optional.
    Null,
    /// A named schema.
    Schema(SchemaId, Rc<str>),
    /// An anonymous record.
    Record(Rc<RecordType>),
    /// `[T]`.
    List(Box<Type>),
    /// `T?`.
    Optional(Box<Type>),
    /// A fixed set of string values.
    Enum(Rc<EnumType>),
    /// A type that could not be determined; never reported again.
    Error,
}

/// The fields of a record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordType {
    /// Fields in declaration order.
    pub fields: Vec<Field>,
}

impl RecordType {
    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One field of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Field type; `Optional` when the field may be missing.
    pub ty: Type,
    /// Doc comment or JSON Schema description.
    pub doc: Option<String>,
    /// Where the field is declared (a `.weft` file or an imported schema file).
    pub loc: Loc,
}

/// A set of allowed string values.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumType {
    /// The declared name, for named enums.
    pub name: Option<String>,
    /// The allowed values in declaration order.
    pub variants: Vec<String>,
}

impl Type {
    /// True for `T?` and `Null`.
    pub fn is_optional(&self) -> bool {
        matches!(self, Type::Optional(_) | Type::Null)
    }

    /// `T` for `T?`, the type itself otherwise.
    pub fn unwrap_optional(&self) -> &Type {
        match self {
            Type::Optional(inner) => inner,
            other => other,
        }
    }

    /// `T?`, without doubling an existing optional.
    pub fn optional(self) -> Type {
        match self {
            Type::Optional(_) | Type::Null | Type::Error => self,
            other => Type::Optional(Box::new(other)),
        }
    }

    /// True for the error type.
    pub fn is_error(&self) -> bool {
        matches!(self, Type::Error)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => write!(f, "String"),
            Type::Int => write!(f, "Int"),
            Type::Decimal => write!(f, "Decimal"),
            Type::Float => write!(f, "Float"),
            Type::Bool => write!(f, "Bool"),
            Type::Date => write!(f, "Date"),
            Type::Timestamp => write!(f, "Timestamp"),
            Type::Json => write!(f, "Json"),
            Type::Null => write!(f, "null"),
            Type::Schema(_, name) => write!(f, "{name}"),
            Type::Record(record) => {
                write!(f, "{{ ")?;
                for (i, field) in record.fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}: {}", field.name, field.ty)?;
                }
                write!(f, " }}")
            }
            Type::List(inner) => write!(f, "[{inner}]"),
            Type::Optional(inner) => write!(f, "{inner}?"),
            Type::Enum(e) => match &e.name {
                Some(name) => write!(f, "{name}"),
                None => {
                    write!(f, "enum {{ ")?;
                    for (i, v) in e.variants.iter().enumerate() {
                        if i > 0 {
                            write!(f, ", ")?;
                        }
                        write!(f, "{v:?}")?;
                    }
                    write!(f, " }}")
                }
            },
            Type::Error => write!(f, "<error>"),
        }
    }
}

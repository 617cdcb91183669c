//! The chumsky grammar of `.weft` files, over the tokens of [`crate::syntax::token`].
//!
//! Recovery works at two levels: a broken line inside a `{ ... }` body is skipped up to
//! the next line that parses (or the closing brace), and a broken declaration is skipped
//! up to the next declaration that parses. Each skip reports one error.

use chumsky::{input::ValueInput, inspector::SimpleState, prelude::*};

use crate::diagnostic::Code;
use crate::source::Span;
use crate::syntax::token::{split_string, RawPart, Token};
use crate::syntax::*;

/// Diagnostics found while parsing that are not plain syntax errors (bad escapes,
/// numbers out of range); de-duplicated afterwards because recovery may re-parse.
pub(super) type Side = Vec<(Code, Span, String)>;

/// Parser state: side diagnostics, and which tokens start a line (for recovery).
#[derive(Default)]
pub(super) struct State {
    /// Diagnostics that are not plain syntax errors.
    pub side: Side,
    /// Byte offsets of the tokens that are first on their line, ascending.
    pub line_starts: Vec<usize>,
    /// Byte offsets of declaration keywords at column 0, ascending.
    pub declaration_starts: Vec<usize>,
}

pub(super) type Extra<'t, 's> = extra::Full<Rich<'t, Token<'s>>, SimpleState<State>, ()>;

/// Token inputs the grammar accepts.
pub(super) trait Tokens<'t, 's: 't>:
    ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>
{
}
impl<'t, 's: 't, T: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>> Tokens<'t, 's> for T {}

/// Words that cannot name a variable in an expression.
pub const RESERVED: &[&str] = &[
    "if", "then", "else", "true", "false", "null", "and", "or", "not",
];

/// Whether `word` is in [`RESERVED`]; a `match` because it runs on every name parsed.
fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "if" | "then" | "else" | "true" | "false" | "null" | "and" | "or" | "not"
    )
}

/// The word keywords that start a declaration.
pub const ITEM_KEYWORDS: &[&str] = &[
    "schema",
    "enum",
    "connection",
    "map",
    "flow",
    "environment",
    "test",
    "promotion",
    "rollback",
];

/// The side-diagnostic list in a parser's state.
fn side_of<'a, 't, 'b, 's: 't, I: Tokens<'t, 's>>(
    e: &'a mut chumsky::input::MapExtra<'t, 'b, I, Extra<'t, 's>>,
) -> &'a mut Side {
    &mut e.state().0.side
}

fn span(s: SimpleSpan) -> Span {
    Span::new(s.start, s.end)
}

fn kw<'t, 's: 't, I: Tokens<'t, 's>>(
    word: &'static str,
) -> impl Parser<'t, I, (), Extra<'t, 's>> + Clone {
    just(Token::Ident(word)).ignored().labelled(word)
}

fn tok<'t, 's: 't, I: Tokens<'t, 's>>(
    token: Token<'static>,
) -> impl Parser<'t, I, (), Extra<'t, 's>> + Clone {
    just(token).ignored()
}

/// Any word or backtick name.
fn name<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Ident, Extra<'t, 's>> + Clone {
    select! {
        Token::Ident(s) = e => Ident { name: s.to_string(), span: span(e.span()) },
        Token::QuotedIdent(s) = e => Ident { name: s.to_string(), span: span(e.span()) },
    }
    .labelled("a name")
}

/// A name that may stand for a value in an expression (not a reserved word).
fn value_name<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Ident, Extra<'t, 's>> + Clone {
    select! {
        Token::Ident(s) = e if !is_reserved(s) => Ident { name: s.to_string(), span: span(e.span()) },
        Token::QuotedIdent(s) = e => Ident { name: s.to_string(), span: span(e.span()) },
    }
    .labelled("a name")
}

/// A string without interpolation.
fn string<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, StrLit, Extra<'t, 's>> + Clone {
    select! { Token::Str(raw) = e => (raw, span(e.span())) }
        .map_with(|(raw, at), e| {
            let (parts, errors) = split_string(raw, at.start);
            let side = side_of(e);
            for (message, err_span) in errors {
                side.push((escape_code(&message), err_span, message));
            }
            let mut value = String::new();
            for part in parts {
                match part {
                    RawPart::Text(text) => value.push_str(&text),
                    RawPart::Interpolation(_, offset) => side.push((
                        Code::InvalidInterpolation,
                        Span::new(offset.saturating_sub(2), offset),
                        "interpolation is not allowed here; write plain text or escape the `$` as `\\$`".into(),
                    )),
                }
            }
            StrLit { value, span: at }
        })
        .labelled("a string")
}

fn escape_code(message: &str) -> Code {
    if message.contains("${") {
        Code::InvalidInterpolation
    } else {
        Code::InvalidEscape
    }
}

fn int<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, IntLit, Extra<'t, 's>> + Clone {
    select! { Token::Int(text) = e => (text, span(e.span())) }
        .map_with(|(text, at), e| {
            let value = text.parse::<u64>().unwrap_or_else(|_| {
                let side = side_of(e);
                side.push((
                    Code::InvalidNumber,
                    at,
                    format!("`{text}` is too large; numbers must fit in 64 bits"),
                ));
                0
            });
            IntLit { value, span: at }
        })
        .labelled("a number")
}

fn duration<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Duration, Extra<'t, 's>> + Clone
{
    select! { Token::Duration(text) = e => (text, span(e.span())) }
        .map_with(|(text, at), e| {
            let millis = parse_duration(text).unwrap_or_else(|| {
                let side = side_of(e);
                side.push((
                    Code::InvalidNumber,
                    at,
                    format!("duration `{text}` is too long"),
                ));
                0
            });
            Duration { millis, span: at }
        })
        .labelled("a duration such as `15m`")
}

/// Milliseconds in a duration token such as `15m`; `None` on overflow.
pub fn parse_duration(text: &str) -> Option<u64> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(digits_end);
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

fn percent<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Percent, Extra<'t, 's>> + Clone {
    select! { Token::Percent(text) = e => (text, span(e.span())) }
        .map(|(text, at)| Percent {
            value: text.trim_end_matches('%').parse().unwrap_or(f64::INFINITY),
            span: at,
        })
        .labelled("a percentage such as `5%`")
}

/// Skips one token, or a whole bracketed group, for recovery.
fn token_tree<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, (), Extra<'t, 's>> + Clone {
    recursive(|tree| {
        // An unclosed group ends where the next declaration starts at column 0.
        let inner = next_declaration().not().ignore_then(tree);
        let group = |open: Token<'static>, close: Token<'static>| {
            inner.clone().repeated().delimited_by(
                just(open),
                just(close)
                    .ignored()
                    .or(end())
                    .or(next_declaration().ignored()),
            )
        };
        choice((
            group(Token::LBrace, Token::RBrace),
            group(Token::LParen, Token::RParen),
            group(Token::LBracket, Token::RBracket),
            none_of([Token::RBrace, Token::RParen, Token::RBracket]).ignored(),
        ))
    })
}

/// `{ member* }` where a broken member is skipped and reported, not fatal to the block.
fn block<'t, 's: 't, I: Tokens<'t, 's>, O: 't>(
    member: impl Parser<'t, I, O, Extra<'t, 's>> + Clone + 't,
) -> impl Parser<'t, I, Vec<O>, Extra<'t, 's>> + Clone {
    let separator = one_of([Token::Comma, Token::Semi]).ignored();
    let member = next_declaration().not().ignore_then(
        member
            .map(Some)
            .then_ignore(separator.repeated())
            .recover_with(via_parser(rest_of_line())),
    );
    let leftover = next_declaration()
        .not()
        .ignore_then(token_tree())
        .repeated()
        .at_least(1)
        .validate(|(), e, emitter| {
            emitter.emit(Rich::custom(
                e.span(),
                "this line does not parse; expected a declaration line or `}`",
            ))
        });
    member
        .repeated()
        .collect::<Vec<Option<O>>>()
        .map(|members| members.into_iter().flatten().collect())
        .then_ignore(leftover.or_not())
        .delimited_by(tok(Token::LBrace), tok(Token::RBrace).or(unclosed()))
}

/// Succeeds, consuming nothing, at a declaration keyword that starts a line at column 0,
/// giving its span. A block still open there is missing its `}`: the declaration is
/// not swallowed.
fn next_declaration<'t, 's: 't, I: Tokens<'t, 's>>(
) -> impl Parser<'t, I, SimpleSpan, Extra<'t, 's>> + Clone {
    any()
        .try_map_with(
            |token, e: &mut chumsky::input::MapExtra<'t, '_, I, Extra<'t, 's>>| {
                let at: SimpleSpan = e.span();
                if e.state()
                    .0
                    .declaration_starts
                    .binary_search(&at.start)
                    .is_ok()
                {
                    Ok(at)
                } else {
                    Err(silent(token, at))
                }
            },
        )
        .rewind()
}

/// The end of a block whose `}` is missing: reported, then parsing goes on.
fn unclosed<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, (), Extra<'t, 's>> + Clone {
    next_declaration()
        .or(end().map_with(|(), e| e.span()))
        .validate(|at, _, emitter| {
            emitter.emit(Rich::custom(
                at,
                "a `{` above is never closed; add `}` before this declaration",
            ))
        })
}

/// A type: `String`, `Customer`, `{ a: T }`, `[T]`, `T?`, `enum { a, b }`.
fn type_expr<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, TypeExpr, Extra<'t, 's>> + Clone
{
    recursive(|ty| {
        let field = doc_field(ty.clone());
        let record = block(field).map(TypeExprKind::Record);
        let list = ty
            .clone()
            .delimited_by(tok(Token::LBracket), tok(Token::RBracket))
            .map(|inner| TypeExprKind::List(Box::new(inner)));
        let inline_enum = kw("enum").ignore_then(variants()).map(TypeExprKind::Enum);
        let named = name().map(TypeExprKind::Named);
        let base = choice((record, list, inline_enum, named)).map_with(|kind, e| TypeExpr {
            kind,
            span: span(e.span()),
        });
        base.foldl_with(tok(Token::Question).repeated(), |inner, (), e| TypeExpr {
            kind: TypeExprKind::Optional(Box::new(inner)),
            span: span(e.span()),
        })
        .labelled("a type")
    })
    .boxed()
}

fn doc_field<'t, 's: 't, I: Tokens<'t, 's>>(
    ty: impl Parser<'t, I, TypeExpr, Extra<'t, 's>> + Clone + 't,
) -> impl Parser<'t, I, FieldDecl, Extra<'t, 's>> + Clone {
    name()
        .then_ignore(tok(Token::Colon))
        .then(ty)
        .map_with(|(name, ty), e| FieldDecl {
            doc: None,
            name,
            ty,
            span: span(e.span()),
        })
        .labelled("a field")
}

fn variants<'t, 's: 't, I: Tokens<'t, 's>>(
) -> impl Parser<'t, I, Vec<Variant>, Extra<'t, 's>> + Clone {
    let variant = choice((
        name().map(|id| Variant {
            name: id.name,
            span: id.span,
        }),
        string().map(|s| Variant {
            name: s.value,
            span: s.span,
        }),
    ))
    .labelled("an enum variant");
    block(variant)
}

/// An expression, with precedence from loosest (`??`) to tightest (postfix `.field`).
pub(super) fn expr<'t, 's: 't, I: Tokens<'t, 's>>(
) -> impl Parser<'t, I, Expr, Extra<'t, 's>> + Clone {
    recursive(|expr| {
        let lambda = value_name()
            .then_ignore(tok(Token::FatArrow))
            .then(expr.clone())
            .map_with(|(param, body), e| Expr {
                kind: ExprKind::Lambda(param, Box::new(body)),
                span: span(e.span()),
            });
        let args = lambda
            .or(expr.clone())
            .separated_by(tok(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .delimited_by(tok(Token::LParen), tok(Token::RParen));

        let literal = select! {
            Token::Int(text) = e => (ExprKind::Int(0), text, span(e.span())),
            Token::Decimal(text) = e => (ExprKind::Decimal(text.to_string()), text, span(e.span())),
            Token::Ident("true") = e => (ExprKind::Bool(true), "", span(e.span())),
            Token::Ident("false") = e => (ExprKind::Bool(false), "", span(e.span())),
            Token::Ident("null") = e => (ExprKind::Null, "", span(e.span())),
        }
        .map_with(|(kind, text, at), e| {
            let kind = match kind {
                ExprKind::Int(_) => ExprKind::Int(text.parse::<i64>().unwrap_or_else(|_| {
                    let side = side_of(e);
                    side.push((
                        Code::InvalidNumber,
                        at,
                        format!("`{text}` does not fit in an Int (64-bit)"),
                    ));
                    0
                })),
                other => other,
            };
            Expr { kind, span: at }
        });

        let string =
            select! { Token::Str(raw) = e => (raw, span(e.span())) }.map_with(|(raw, at), e| {
                let side = side_of(e);
                Expr {
                    kind: ExprKind::Str(string_parts(raw, at, side)),
                    span: at,
                }
            });

        // A name that starts a new line as `Field =` begins the next assignment, never
        // the operand of an operator left dangling at the end of the line before.
        let next_assignment = at_line_start(true)
            .ignore_then(
                name()
                    .separated_by(tok(Token::Dot))
                    .at_least(1)
                    .then(tok(Token::Assign)),
            )
            .rewind();
        let call_or_var = next_assignment
            .not()
            .ignore_then(value_name())
            .then(args.or_not())
            .map_with(|(id, args), e| Expr {
                kind: match args {
                    Some(args) => ExprKind::Call(id, args),
                    None => ExprKind::Var(id),
                },
                span: span(e.span()),
            });

        let list = expr
            .clone()
            .separated_by(tok(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .delimited_by(tok(Token::LBracket), tok(Token::RBracket))
            .map_with(|items, e| Expr {
                kind: ExprKind::List(items),
                span: span(e.span()),
            });

        let conditional = kw("if")
            .ignore_then(expr.clone())
            .then_ignore(kw("then"))
            .then(expr.clone())
            .then_ignore(kw("else"))
            .then(expr.clone())
            .map_with(|((c, a), b), e| Expr {
                kind: ExprKind::If(Box::new(c), Box::new(a), Box::new(b)),
                span: span(e.span()),
            });

        let parens = expr
            .clone()
            .delimited_by(tok(Token::LParen), tok(Token::RParen))
            .recover_with(via_parser(nested_delimiters(
                Token::LParen,
                Token::RParen,
                [
                    (Token::LBracket, Token::RBracket),
                    (Token::LBrace, Token::RBrace),
                ],
                |s| Expr {
                    kind: ExprKind::Error,
                    span: span(s),
                },
            )));

        let atom = choice((literal, string, conditional, call_or_var, list, parens))
            .labelled("an expression")
            .boxed();

        let postfix = atom.foldl_with(
            tok(Token::Dot).ignore_then(name()).repeated(),
            |base, field, e| Expr {
                kind: ExprKind::Field(Box::new(base), field),
                span: span(e.span()),
            },
        );

        let unary_op = choice((
            tok(Token::Minus).to(UnaryOp::Neg),
            kw("not").to(UnaryOp::Not),
        ));
        let unary = unary_op
            .repeated()
            .foldr_with(postfix, |op, operand, e| Expr {
                kind: ExprKind::Unary(op, Box::new(operand)),
                span: span(e.span()),
            });

        let product = binary_level(
            unary.boxed(),
            choice((
                tok(Token::Star).to(BinaryOp::Mul),
                tok(Token::Slash).to(BinaryOp::Div),
                tok(Token::PercentSign).to(BinaryOp::Rem),
            )),
        );
        let sum = binary_level(
            product,
            choice((
                tok(Token::Plus).to(BinaryOp::Add),
                tok(Token::Minus).to(BinaryOp::Sub),
            )),
        );
        let comparison_op = choice((
            tok(Token::EqEq).to(BinaryOp::Eq),
            tok(Token::NotEq).to(BinaryOp::Ne),
            tok(Token::Le).to(BinaryOp::Le),
            tok(Token::Ge).to(BinaryOp::Ge),
            tok(Token::Lt).to(BinaryOp::Lt),
            tok(Token::Gt).to(BinaryOp::Gt),
        ));
        let comparison = sum
            .clone()
            .then(comparison_op.then(sum).or_not())
            .map_with(|(lhs, rhs), e| match rhs {
                Some((op, rhs)) => Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span: span(e.span()),
                },
                None => lhs,
            })
            .boxed();
        let conjunction = binary_level(comparison, kw("and").to(BinaryOp::And));
        let disjunction = binary_level(conjunction, kw("or").to(BinaryOp::Or));
        // `??` is right-associative: `a ?? b ?? c` is `a ?? (b ?? c)`.
        disjunction
            .clone()
            .then(
                tok(Token::DoubleQuestion)
                    .ignore_then(disjunction)
                    .repeated()
                    .collect::<Vec<_>>(),
            )
            .map(|(first, rest)| {
                let mut operands = std::iter::once(first).chain(rest).collect::<Vec<_>>();
                let mut result = operands.pop().unwrap_or(Expr {
                    kind: ExprKind::Error,
                    span: Span::default(),
                });
                while let Some(lhs) = operands.pop() {
                    let at = lhs.span.to(result.span);
                    result = Expr {
                        kind: ExprKind::Binary(BinaryOp::Default, Box::new(lhs), Box::new(result)),
                        span: at,
                    };
                }
                result
            })
    })
    .boxed()
}

fn binary_level<'t, 's: 't, I: Tokens<'t, 's>>(
    operand: impl Parser<'t, I, Expr, Extra<'t, 's>> + Clone + 't,
    op: impl Parser<'t, I, BinaryOp, Extra<'t, 's>> + Clone + 't,
) -> Boxed<'t, 't, I, Expr, Extra<'t, 's>> {
    operand
        .clone()
        .foldl_with(op.then(operand).repeated(), |lhs, (op, rhs), e| Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span: span(e.span()),
        })
        .boxed()
}

/// Splits a string token into text and parsed interpolations.
fn string_parts(raw: &str, at: Span, side: &mut Side) -> Vec<StrPart> {
    let (parts, errors) = split_string(raw, at.start);
    for (message, err_span) in errors {
        side.push((escape_code(&message), err_span, message));
    }
    parts
        .into_iter()
        .map(|part| match part {
            RawPart::Text(text) => StrPart::Text(text),
            RawPart::Interpolation(source, offset) => {
                StrPart::Interpolation(super::parse_interpolation(source, offset, side))
            }
        })
        .collect()
}

/// `conn.op(args)`.
fn op_call<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, OpCall, Extra<'t, 's>> + Clone {
    name()
        .then_ignore(tok(Token::Dot))
        .then(name())
        .then(
            expr()
                .separated_by(tok(Token::Comma))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(tok(Token::LParen), tok(Token::RParen)),
        )
        .map_with(|((connection, operation), args), e| OpCall {
            connection,
            operation,
            args,
            span: span(e.span()),
        })
        .labelled("an operation such as `erp.get(\"/path\")`")
        .boxed()
}

fn schema<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    let body = choice((
        kw("from").ignore_then(string()).map(SchemaBody::Import),
        block(doc_field(type_expr())).map(SchemaBody::Fields),
    ));
    kw("schema")
        .ignore_then(name())
        .then(body)
        .map_with(|(name, body), e| {
            Item::Schema(SchemaDecl {
                doc: None,
                name,
                body,
                span: span(e.span()),
            })
        })
}

fn enum_decl<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    kw("enum")
        .ignore_then(name())
        .then(variants())
        .map_with(|(name, variants), e| {
            Item::Enum(EnumDecl {
                doc: None,
                name,
                variants,
                span: span(e.span()),
            })
        })
}

fn connection<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    kw("connection")
        .ignore_then(name())
        .then_ignore(tok(Token::Colon))
        .then(name())
        .map_with(|(name, kind), e| {
            Item::Connection(ConnectionDecl {
                doc: None,
                name,
                kind,
                span: span(e.span()),
            })
        })
}

fn map_decl<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    let assignment = name()
        .separated_by(tok(Token::Dot))
        .at_least(1)
        .collect::<Vec<_>>()
        .then_ignore(tok(Token::Assign))
        .then(expr())
        .map_with(|(target, value), e| Assignment {
            target,
            value,
            span: span(e.span()),
        })
        .labelled("a field assignment such as `Name = c.name`");
    kw("map")
        .ignore_then(name())
        .then(
            value_name()
                .then_ignore(tok(Token::Colon))
                .then(type_expr())
                .delimited_by(tok(Token::LParen), tok(Token::RParen)),
        )
        .then_ignore(tok(Token::Arrow))
        .then(type_expr())
        .then(block(assignment))
        .map_with(|(((name, (param, source)), target), assignments), e| {
            Item::Map(MapDecl {
                doc: None,
                name,
                param,
                source,
                target,
                assignments,
                span: span(e.span()),
            })
        })
}

fn flow<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    let trigger = choice((
        kw("every").ignore_then(duration()).map(Trigger::Every),
        kw("cron").ignore_then(string()).map(Trigger::Cron),
        kw("webhook").ignore_then(string()).map(Trigger::Webhook),
        kw("manual").to(Trigger::Manual),
        kw("after").ignore_then(name()).map(Trigger::After),
    ))
    .labelled(
        "a trigger: `every 15m`, `cron \"...\"`, `webhook \"/path\"`, `manual` or `after FLOW`",
    );
    let as_type = kw("as").ignore_then(type_expr());
    let policy = kw("on")
        .ignore_then(kw("error"))
        .ignore_then(kw("retry").ignore_then(int()).or_not())
        .then(kw("backoff").ignore_then(duration()).or_not())
        .then(kw("then").ignore_then(name()).or_not())
        .map(|((retries, backoff), then)| ErrorPolicy {
            retries,
            backoff,
            then,
        });
    let step = choice((
        kw("trigger").ignore_then(trigger).map(StepKind::Trigger),
        kw("read")
            .ignore_then(op_call())
            .then(as_type.clone())
            .map(|(c, t)| StepKind::Read(c, t)),
        kw("where")
            .ignore_then(value_name())
            .then_ignore(tok(Token::FatArrow))
            .then(expr())
            .map(|(p, c)| StepKind::Where(p, c)),
        kw("map").ignore_then(name()).map(StepKind::Map),
        kw("call")
            .ignore_then(op_call())
            .then(as_type.clone().or_not())
            .map(|(c, t)| StepKind::Call(c, t)),
        kw("write")
            .ignore_then(op_call())
            .then(as_type.or_not())
            .map(|(c, t)| StepKind::Write(c, t)),
        policy.map(StepKind::OnError),
    ))
    .map_with(|kind, e| Step {
        kind,
        span: span(e.span()),
    })
    .labelled("a flow step: trigger, read, where, map, call, write or `on error`");
    kw("flow")
        .ignore_then(name())
        .then(block(step))
        .map_with(|(name, steps), e| {
            Item::Flow(FlowDecl {
                doc: None,
                name,
                steps,
                span: span(e.span()),
            })
        })
}

fn config_value<'t, 's: 't, I: Tokens<'t, 's>>(
) -> impl Parser<'t, I, ConfigArg, Extra<'t, 's>> + Clone {
    recursive(|arg| {
        let args = arg
            .separated_by(tok(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .delimited_by(tok(Token::LParen), tok(Token::RParen));
        let value = choice((
            kw("secret")
                .ignore_then(string())
                .map(ConfigValueKind::Secret),
            kw("true").to(ConfigValueKind::Bool(true)),
            kw("false").to(ConfigValueKind::Bool(false)),
            name().then(args).map(|(f, a)| ConfigValueKind::Call(f, a)),
            string().map(|s| ConfigValueKind::Str(s.value)),
            int().map(|i| ConfigValueKind::Int(i.value)),
            duration().map(|d| ConfigValueKind::Duration(d.millis)),
        ))
        .map_with(|kind, e| ConfigValue {
            kind,
            span: span(e.span()),
        })
        .labelled("a value: a string, number, duration, `secret \"NAME\"` or `bearer(...)`");
        name()
            .then_ignore(tok(Token::Colon))
            .or_not()
            .then(value)
            .map(|(name, value)| ConfigArg { name, value })
    })
    .boxed()
}

fn environment<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    let binding = name()
        .then_ignore(tok(Token::Assign))
        .then(name())
        .then(
            config_value()
                .separated_by(tok(Token::Comma))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(tok(Token::LParen), tok(Token::RParen)),
        )
        .map_with(|((connection, kind), args), e| Binding {
            connection,
            kind,
            args,
            span: span(e.span()),
        })
        .labelled("a binding such as `erp = http(\"https://...\")`");
    kw("environment")
        .ignore_then(name())
        .then(block(binding))
        .map_with(|(name, bindings), e| {
            Item::Environment(EnvironmentDecl {
                doc: None,
                name,
                bindings,
                span: span(e.span()),
            })
        })
}

fn value<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Value, Extra<'t, 's>> + Clone {
    recursive(|value| {
        let number = select! {
            Token::Int(t) => t.to_string(),
            Token::Decimal(t) => t.to_string(),
        };
        let negative = tok(Token::Minus)
            .ignore_then(number)
            .map(|n| format!("-{n}"));
        let key = name().or(string().map(|s| Ident {
            name: s.value,
            span: s.span,
        }));
        let entry = key.then_ignore(tok(Token::Colon)).then(value.clone());
        choice((
            kw("null").to(ValueKind::Null),
            kw("true").to(ValueKind::Bool(true)),
            kw("false").to(ValueKind::Bool(false)),
            number.or(negative).map(ValueKind::Number),
            string().map(|s| ValueKind::Str(s.value)),
            value
                .separated_by(tok(Token::Comma))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(tok(Token::LBracket), tok(Token::RBracket))
                .map(ValueKind::List),
            entry
                .separated_by(tok(Token::Comma))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(tok(Token::LBrace), tok(Token::RBrace))
                .map(ValueKind::Object),
        ))
        .map_with(|kind, e| Value {
            kind,
            span: span(e.span()),
        })
        .labelled("a value")
    })
    .boxed()
}

fn test<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    let data = choice((
        kw("file").ignore_then(string()).map(DataSource::File),
        value().map(DataSource::Inline),
    ));
    let with_data = kw("with").ignore_then(data.clone()).or_not();
    let response = choice((
        kw("returns")
            .ignore_then(data.clone())
            .map(MockResponse::Returns),
        kw("fails")
            .ignore_then(kw("with"))
            .ignore_then(kw("status"))
            .ignore_then(int())
            .map(MockResponse::FailsWithStatus),
        kw("times")
            .ignore_then(kw("out"))
            .to(MockResponse::TimesOut),
    ));
    let mock = kw("mock")
        .ignore_then(op_call())
        .then(response)
        .then(kw("times").ignore_then(int()).or_not())
        .map(|((call, response), times)| TestStmtKind::Mock {
            call,
            response,
            times,
        });
    let expect = kw("expect").ignore_then(choice((
        kw("output")
            .ignore_then(data)
            .map(TestStmtKind::ExpectOutput),
        kw("dead_letters")
            .ignore_then(int())
            .map(TestStmtKind::ExpectDeadLetters),
        kw("failure")
            .ignore_then(string().or_not())
            .map(TestStmtKind::ExpectFailure),
        op_call()
            .then_ignore(kw("called"))
            .then(int())
            .then_ignore(kw("times"))
            .then(with_data.clone())
            .map(|((call, times), body)| TestStmtKind::ExpectCalled { call, times, body }),
    )));
    let stmt = choice((
        mock,
        kw("run")
            .ignore_then(name())
            .then(with_data.clone())
            .map(|(f, d)| TestStmtKind::Run(f, d)),
        expect,
        kw("snapshot")
            .ignore_then(name())
            .then(with_data)
            .map(|(m, d)| TestStmtKind::Snapshot(m, d)),
        kw("property")
            .ignore_then(name())
            .then(kw("runs").ignore_then(int()).or_not())
            .map(|(m, n)| TestStmtKind::Property(m, n)),
        kw("clock").ignore_then(string()).map(TestStmtKind::Clock),
    ))
    .map_with(|kind, e| TestStmt {
        kind,
        span: span(e.span()),
    })
    .labelled("a test line: mock, run, expect, snapshot, property or clock");
    kw("test")
        .ignore_then(string())
        .then(block(stmt))
        .map_with(|(name, statements), e| {
            Item::Test(TestDecl {
                doc: None,
                name,
                statements,
                span: span(e.span()),
            })
        })
}

fn promotion<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    let gate = choice((
        kw("tests").to(GateKind::Tests),
        kw("approvals")
            .ignore_then(int())
            .then_ignore(kw("from"))
            .then(string())
            .map(|(n, g)| GateKind::Approvals(n, g)),
        kw("no")
            .ignore_then(kw("self"))
            .ignore_then(kw("approval"))
            .to(GateKind::NoSelfApproval),
        kw("window").ignore_then(string()).map(GateKind::Window),
    ))
    .map_with(|kind, e| Gate {
        kind,
        span: span(e.span()),
    })
    .labelled(
        "a gate: `tests`, `approvals N from \"group\"`, `no self approval` or `window \"...\"`",
    );
    let rule = name()
        .then_ignore(tok(Token::Colon))
        .then_ignore(kw("require"))
        .then(
            gate.separated_by(tok(Token::Comma))
                .at_least(1)
                .collect::<Vec<_>>(),
        )
        .map_with(|(environment, gates), e| {
            Rule::Gates(GateRule {
                environment,
                gates,
                span: span(e.span()),
            })
        });
    let chain = name()
        .separated_by(tok(Token::Arrow))
        .at_least(1)
        .collect::<Vec<_>>()
        .map(Rule::Chain)
        .labelled("the environment chain, such as `dev -> staging -> prod`");
    kw("promotion")
        .ignore_then(block(rule.or(chain)))
        .map_with(|rules, e| {
            let mut chain = Vec::new();
            let mut gates = Vec::new();
            for rule in rules {
                match rule {
                    Rule::Chain(names) if chain.is_empty() => chain = names,
                    Rule::Chain(names) => chain.extend(names),
                    Rule::Gates(g) => gates.push(g),
                }
            }
            Item::Promotion(PromotionDecl {
                chain,
                rules: gates,
                span: span(e.span()),
            })
        })
}

/// A line of a promotion block.
#[derive(Clone)]
enum Rule {
    Chain(Vec<Ident>),
    Gates(GateRule),
}

fn rollback<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    let sep = one_of([Token::Comma, Token::Semi]).repeated();
    let body = kw("when")
        .ignore_then(kw("error_rate"))
        .ignore_then(tok(Token::Gt))
        .ignore_then(percent())
        .then_ignore(kw("over"))
        .then(duration())
        .then_ignore(sep.clone())
        .then(
            kw("min")
                .ignore_then(int())
                .then_ignore(kw("runs"))
                .or_not(),
        )
        .then_ignore(sep.clone())
        .then_ignore(kw("then"))
        .then(name())
        .then_ignore(sep.clone())
        .then(
            kw("alert")
                .ignore_then(string())
                .then_ignore(sep)
                .repeated()
                .collect::<Vec<_>>(),
        )
        .delimited_by(tok(Token::LBrace), tok(Token::RBrace))
        .recover_with(via_parser(nested_delimiters(
            Token::LBrace,
            Token::RBrace,
            [],
            |s| {
                let at = span(s);
                (
                    (
                        (
                            (
                                Percent {
                                    value: f64::NAN,
                                    span: at,
                                },
                                Duration {
                                    millis: 0,
                                    span: at,
                                },
                            ),
                            None,
                        ),
                        Ident {
                            name: String::new(),
                            span: at,
                        },
                    ),
                    Vec::new(),
                )
            },
        )));
    kw("rollback")
        .ignore_then(name())
        .then_ignore(kw("in"))
        .then(name())
        .then(body)
        .map_with(
            |((flow, environment), ((((threshold, window), min_runs), action), alerts)), e| {
                Item::Rollback(RollbackDecl {
                    flow,
                    environment,
                    threshold,
                    window,
                    min_runs,
                    action,
                    alerts,
                    span: span(e.span()),
                })
            },
        )
}

/// A whole file: declarations, each recovered on its own.
pub(super) fn file<'t, 's: 't, I: Tokens<'t, 's>>() -> impl Parser<'t, I, Vec<Item>, Extra<'t, 's>>
{
    let item = choice((
        schema().boxed(),
        enum_decl().boxed(),
        connection().boxed(),
        map_decl().boxed(),
        flow().boxed(),
        environment().boxed(),
        test().boxed(),
        promotion().boxed(),
        rollback().boxed(),
    ))
    .labelled("a declaration: schema, enum, connection, map, flow, environment, test, promotion or rollback");
    let recovered = item.recover_with(via_parser(until_next_item()));
    let trailing = any().repeated().at_least(1).validate(|(), e, emitter| {
        emitter.emit(Rich::custom(e.span(), "expected a declaration: schema, enum, connection, map, flow, environment, test, promotion or rollback"))
    });
    recovered
        .repeated()
        .collect::<Vec<_>>()
        .then_ignore(trailing.or_not())
        .then_ignore(end())
}

/// The error of a lookahead that only steers recovery: it expects nothing, so merged
/// with the real error at the same place it adds nothing to the message.
fn silent<'t, 's>(token: Token<'s>, at: SimpleSpan) -> Rich<'t, Token<'s>> {
    <Rich<'t, Token<'s>> as chumsky::label::LabelError<
        't,
        &'t [Token<'s>],
        chumsky::error::RichPattern<'t, Token<'s>>,
    >>::expected_found(
        std::iter::empty(),
        Some(chumsky::util::MaybeRef::Val(token)),
        at,
    )
}

/// Succeeds, consuming nothing, when the next token is the first on its line.
fn at_line_start<'t, 's: 't, I: Tokens<'t, 's>>(
    want: bool,
) -> impl Parser<'t, I, (), Extra<'t, 's>> + Clone {
    any()
        .try_map_with(
            move |token, e: &mut chumsky::input::MapExtra<'t, '_, I, Extra<'t, 's>>| {
                let at: SimpleSpan = e.span();
                let starts = e.state().0.line_starts.binary_search(&at.start).is_ok();
                if starts == want {
                    Ok(())
                } else {
                    Err(silent(token, at))
                }
            },
        )
        .rewind()
}

/// A broken line inside a block: its first token group and the rest of the line.
fn rest_of_line<'t, 's: 't, I: Tokens<'t, 's>, O: 't>(
) -> impl Parser<'t, I, Option<O>, Extra<'t, 's>> + Clone {
    token_tree()
        .then(at_line_start(false).ignore_then(token_tree()).repeated())
        .map(|_| None)
}

/// A broken declaration: everything up to the next line that starts with a declaration keyword.
fn until_next_item<'t, 's: 't, I: Tokens<'t, 's>>(
) -> impl Parser<'t, I, Item, Extra<'t, 's>> + Clone {
    let item_start = at_line_start(true).ignore_then(
        select! { Token::Ident(word) if ITEM_KEYWORDS.contains(&word) => () }.rewind(),
    );
    let header =
        select! { Token::Ident(word) if ITEM_KEYWORDS.contains(&word) => word.to_string() }
            .then(name().or_not())
            .rewind()
            .or_not();
    header
        .then_ignore(token_tree().or(any().ignored()))
        .then_ignore(
            item_start
                .not()
                .ignore_then(token_tree().or(any().ignored()))
                .repeated(),
        )
        .map_with(|header, e| {
            let (keyword, name) = match header {
                Some((keyword, name)) => (Some(keyword), name),
                None => (None, None),
            };
            Item::Error(BrokenItem {
                keyword,
                name,
                span: span(e.span()),
            })
        })
}

//! Every span of a syntax tree, reached mutably: an editor moves the declarations after
//! an edit by the edit's length instead of parsing them again.

use crate::source::Span;

use super::*;

/// A syntax node whose spans can be visited.
pub trait Spans {
    /// Calls `f` on every span in the node, its own included.
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span));

    /// Moves every span by `delta` bytes (negative: towards the start).
    fn move_by(&mut self, delta: isize) {
        self.spans_mut(&mut |span| *span = span.moved(delta));
    }
}

impl Span {
    /// The span moved by `delta` bytes, clamped at offset 0.
    pub fn moved(self, delta: isize) -> Span {
        let at = |offset: usize| offset.saturating_add_signed(delta);
        Span::new(at(self.start), at(self.end))
    }
}

impl<T: Spans> Spans for [T] {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        for node in self {
            node.spans_mut(f);
        }
    }
}

impl<T: Spans> Spans for Option<T> {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        if let Some(node) = self {
            node.spans_mut(f);
        }
    }
}

impl<T: Spans> Spans for Box<T> {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        (**self).spans_mut(f);
    }
}

impl Spans for Span {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        f(self);
    }
}

/// Nodes whose only span is their `span` field.
macro_rules! leaf {
    ($($node:ty),*) => {$(
        impl Spans for $node {
            fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
                f(&mut self.span);
            }
        }
    )*};
}

leaf!(Comment, Ident, StrLit, IntLit, Duration, Variant, Percent);

impl Spans for Item {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        match self {
            Item::Schema(d) => {
                d.name.spans_mut(f);
                match &mut d.body {
                    SchemaBody::Fields(fields) => fields.spans_mut(f),
                    SchemaBody::Import(path) => path.spans_mut(f),
                }
                f(&mut d.span);
            }
            Item::Enum(d) => {
                d.name.spans_mut(f);
                d.variants.spans_mut(f);
                f(&mut d.span);
            }
            Item::Connection(d) => {
                d.name.spans_mut(f);
                d.kind.spans_mut(f);
                f(&mut d.span);
            }
            Item::Map(d) => {
                d.name.spans_mut(f);
                d.param.spans_mut(f);
                d.source.spans_mut(f);
                d.target.spans_mut(f);
                d.assignments.spans_mut(f);
                f(&mut d.span);
            }
            Item::Flow(d) => {
                d.name.spans_mut(f);
                d.steps.spans_mut(f);
                f(&mut d.span);
            }
            Item::Environment(d) => {
                d.name.spans_mut(f);
                d.bindings.spans_mut(f);
                f(&mut d.span);
            }
            Item::Test(d) => {
                d.name.spans_mut(f);
                d.statements.spans_mut(f);
                f(&mut d.span);
            }
            Item::Promotion(d) => {
                d.chain.spans_mut(f);
                d.rules.spans_mut(f);
                f(&mut d.span);
            }
            Item::Rollback(d) => {
                d.flow.spans_mut(f);
                d.environment.spans_mut(f);
                d.threshold.spans_mut(f);
                d.window.spans_mut(f);
                d.min_runs.spans_mut(f);
                d.action.spans_mut(f);
                d.alerts.spans_mut(f);
                f(&mut d.span);
            }
            Item::Error(broken) => {
                broken.name.spans_mut(f);
                f(&mut broken.span);
            }
        }
    }
}

impl Spans for FieldDecl {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        self.name.spans_mut(f);
        self.ty.spans_mut(f);
        f(&mut self.span);
    }
}

impl Spans for TypeExpr {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        match &mut self.kind {
            TypeExprKind::Named(name) => name.spans_mut(f),
            TypeExprKind::Record(fields) => fields.spans_mut(f),
            TypeExprKind::List(inner) | TypeExprKind::Optional(inner) => inner.spans_mut(f),
            TypeExprKind::Enum(variants) => variants.spans_mut(f),
            TypeExprKind::Error => {}
        }
        f(&mut self.span);
    }
}

impl Spans for Assignment {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        self.target.spans_mut(f);
        self.value.spans_mut(f);
        f(&mut self.span);
    }
}

impl Spans for Expr {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        match &mut self.kind {
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Interpolation(e) = part {
                        e.spans_mut(f);
                    }
                }
            }
            ExprKind::Var(name) => name.spans_mut(f),
            ExprKind::Field(base, name) => {
                base.spans_mut(f);
                name.spans_mut(f);
            }
            ExprKind::Call(name, args) => {
                name.spans_mut(f);
                args.spans_mut(f);
            }
            ExprKind::Lambda(param, body) => {
                param.spans_mut(f);
                body.spans_mut(f);
            }
            ExprKind::List(items) => items.spans_mut(f),
            ExprKind::Unary(_, e) => e.spans_mut(f),
            ExprKind::Binary(_, a, b) => {
                a.spans_mut(f);
                b.spans_mut(f);
            }
            ExprKind::If(c, a, b) => {
                c.spans_mut(f);
                a.spans_mut(f);
                b.spans_mut(f);
            }
            ExprKind::Int(_)
            | ExprKind::Decimal(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Error => {}
        }
        f(&mut self.span);
    }
}

impl Spans for Step {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        match &mut self.kind {
            StepKind::Trigger(trigger) => match trigger {
                Trigger::Every(duration) => duration.spans_mut(f),
                Trigger::Cron(text) | Trigger::Webhook(text) => text.spans_mut(f),
                Trigger::Manual => {}
                Trigger::After(flow) => flow.spans_mut(f),
            },
            StepKind::Read(call, ty) => {
                call.spans_mut(f);
                ty.spans_mut(f);
            }
            StepKind::Where(param, condition) => {
                param.spans_mut(f);
                condition.spans_mut(f);
            }
            StepKind::Map(name) => name.spans_mut(f),
            StepKind::Call(call, ty) | StepKind::Write(call, ty) => {
                call.spans_mut(f);
                ty.spans_mut(f);
            }
            StepKind::OnError(policy) => {
                policy.retries.spans_mut(f);
                policy.backoff.spans_mut(f);
                policy.then.spans_mut(f);
            }
            StepKind::Error => {}
        }
        f(&mut self.span);
    }
}

impl Spans for OpCall {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        self.connection.spans_mut(f);
        self.operation.spans_mut(f);
        self.args.spans_mut(f);
        f(&mut self.span);
    }
}

impl Spans for Binding {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        self.connection.spans_mut(f);
        self.kind.spans_mut(f);
        self.args.spans_mut(f);
        f(&mut self.span);
    }
}

impl Spans for ConfigArg {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        self.name.spans_mut(f);
        self.value.spans_mut(f);
    }
}

impl Spans for ConfigValue {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        match &mut self.kind {
            ConfigValueKind::Secret(name) => name.spans_mut(f),
            ConfigValueKind::Call(name, args) => {
                name.spans_mut(f);
                args.spans_mut(f);
            }
            ConfigValueKind::Str(_)
            | ConfigValueKind::Int(_)
            | ConfigValueKind::Duration(_)
            | ConfigValueKind::Bool(_)
            | ConfigValueKind::Error => {}
        }
        f(&mut self.span);
    }
}

impl Spans for TestStmt {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        match &mut self.kind {
            TestStmtKind::Mock {
                call,
                response,
                times,
            } => {
                call.spans_mut(f);
                match response {
                    MockResponse::Returns(data) => data.spans_mut(f),
                    MockResponse::FailsWithStatus(status) => status.spans_mut(f),
                    MockResponse::TimesOut => {}
                }
                times.spans_mut(f);
            }
            TestStmtKind::Run(flow, data) => {
                flow.spans_mut(f);
                data.spans_mut(f);
            }
            TestStmtKind::ExpectCalled { call, times, body } => {
                call.spans_mut(f);
                times.spans_mut(f);
                body.spans_mut(f);
            }
            TestStmtKind::ExpectOutput(data) => data.spans_mut(f),
            TestStmtKind::ExpectDeadLetters(count) => count.spans_mut(f),
            TestStmtKind::ExpectFailure(message) => message.spans_mut(f),
            TestStmtKind::Clock(at) => at.spans_mut(f),
            TestStmtKind::Snapshot(map, data) => {
                map.spans_mut(f);
                data.spans_mut(f);
            }
            TestStmtKind::Property(map, runs) => {
                map.spans_mut(f);
                runs.spans_mut(f);
            }
            TestStmtKind::Error => {}
        }
        f(&mut self.span);
    }
}

impl Spans for DataSource {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        match self {
            DataSource::Inline(value) => value.spans_mut(f),
            DataSource::File(path) => path.spans_mut(f),
        }
    }
}

impl Spans for Value {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        match &mut self.kind {
            ValueKind::List(items) => items.spans_mut(f),
            ValueKind::Object(entries) => {
                for (key, value) in entries {
                    key.spans_mut(f);
                    value.spans_mut(f);
                }
            }
            ValueKind::Null
            | ValueKind::Bool(_)
            | ValueKind::Number(_)
            | ValueKind::Str(_)
            | ValueKind::Error => {}
        }
        f(&mut self.span);
    }
}

impl Spans for GateRule {
    fn spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        self.environment.spans_mut(f);
        for gate in &mut self.gates {
            match &mut gate.kind {
                GateKind::Approvals(count, group) => {
                    count.spans_mut(f);
                    group.spans_mut(f);
                }
                GateKind::Window(window) => window.spans_mut(f),
                GateKind::Tests | GateKind::NoSelfApproval | GateKind::Error => {}
            }
            f(&mut gate.span);
        }
        f(&mut self.span);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::source::FileId;

    /// Every example, and a file with every kind of declaration, parsed after a prefix
    /// of `n` bytes, equals the parse without the prefix moved by `n`.
    #[test]
    fn moving_a_tree_equals_parsing_it_further_down() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut texts = Vec::new();
        for project in ["customer-sync", "order-to-cash", "hire-to-retire"] {
            let Ok(entries) = std::fs::read_dir(root.join(project).join("src")) else {
                continue;
            };
            for entry in entries.flatten() {
                texts.extend(std::fs::read_to_string(entry.path()));
            }
        }
        assert!(texts.len() >= 18, "the examples are there");
        texts.push("schema S {\n  a: [{ b: Int? }]\n  c: enum { x, \"y z\" }\n}\nrollback f in prod { when error_rate > 5% over 10m, min 20 runs; then previous; alert \"oncall\" }\nmap broken(\n".to_string());
        for text in texts {
            let (mut tree, _) = parse(&text, FileId(0));
            let prefix = "// moved\n\n";
            let (moved, _) = parse(&format!("{prefix}{text}"), FileId(0));
            tree.items.move_by(prefix.len() as isize);
            tree.comments.move_by(prefix.len() as isize);
            assert_eq!(tree.items, moved.items);
            assert_eq!(tree.comments[..], moved.comments[1..]);
            tree.items.move_by(-(prefix.len() as isize));
            assert_eq!(tree.items, parse(&text, FileId(0)).0.items);
        }
    }
}

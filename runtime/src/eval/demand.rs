//! What part of its input an evaluation reads: the fields a map or a `where` condition
//! can reach from its parameter. A decoder uses it to keep only those fields of each
//! input record (the rest are checked, not stored).
//!
//! The analysis is conservative: a value used in any way other than reading one of its
//! fields (interpolated, compared, passed to a function, returned, held in a list) is
//! demanded whole, so evaluation over a pruned record gives exactly the result it gives
//! over the full one.

use std::collections::BTreeMap;

use crate::ir::{Expr, Map, Program, StrPart};

/// How deep map applications are followed before the argument is demanded whole.
const MAX_DEPTH: usize = 16;

/// The part of a value that is read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Demand {
    /// All of it.
    #[default]
    All,
    /// Only these fields (of the record, of the record under an optional, or of every
    /// record in the list); each with what is read of it. Other fields are never read.
    Fields(BTreeMap<String, Demand>),
}

impl Demand {
    /// Nothing of the value is read, beyond its presence.
    pub fn none() -> Demand {
        Demand::Fields(BTreeMap::new())
    }

    /// What the assignments of `map` read from its parameter.
    pub fn of_map(map: &Map, program: &Program) -> Demand {
        let mut analysis = Analysis {
            program,
            root: Demand::none(),
            stack: Vec::new(),
        };
        analysis.map(map, &[]);
        analysis.root
    }

    /// What `expr` reads from the variable `param`.
    pub fn of_expr(param: &str, expr: &Expr, program: &Program) -> Demand {
        let mut analysis = Analysis {
            program,
            root: Demand::none(),
            stack: Vec::new(),
        };
        let scope = Scope::root(param);
        analysis.whole(expr, &scope);
        analysis.root
    }

    /// Both demands: everything either reads.
    pub fn union(self, other: Demand) -> Demand {
        match (self, other) {
            (Demand::Fields(mut a), Demand::Fields(b)) => {
                for (name, d) in b {
                    let merged = match a.remove(&name) {
                        Some(existing) => existing.union(d),
                        None => d,
                    };
                    a.insert(name, merged);
                }
                Demand::Fields(a)
            }
            _ => Demand::All,
        }
    }

    /// Adds `leaf` at `path` below this demand.
    fn add(&mut self, path: &[String], leaf: Demand) {
        let Demand::Fields(fields) = self else {
            return;
        };
        match path.split_first() {
            None => {
                let current = std::mem::take(self);
                *self = current.union(leaf);
            }
            Some((head, rest)) => fields
                .entry(head.clone())
                .or_insert_with(Demand::none)
                .add(rest, leaf),
        }
    }
}

/// Variables in scope: each is the input at a path, or something else (`None`).
struct Scope<'a> {
    name: &'a str,
    path: Option<Vec<String>>,
    parent: Option<&'a Scope<'a>>,
}

impl<'a> Scope<'a> {
    fn root(name: &'a str) -> Scope<'a> {
        Scope {
            name,
            path: Some(Vec::new()),
            parent: None,
        }
    }

    fn bind<'b>(&'b self, name: &'b str, path: Option<Vec<String>>) -> Scope<'b> {
        Scope {
            name,
            path,
            parent: Some(self),
        }
    }

    fn lookup(&self, name: &str) -> Option<&[String]> {
        let mut scope = self;
        loop {
            if scope.name == name {
                return scope.path.as_deref();
            }
            scope = scope.parent?;
        }
    }
}

struct Analysis<'p> {
    program: &'p Program,
    root: Demand,
    /// Maps being followed, to stop at recursion.
    stack: Vec<&'p str>,
}

/// The functions whose first argument is a list and second a lambda over its items.
fn lambda_over_items(function: &str) -> bool {
    matches!(function, "sum" | "count" | "map" | "any" | "all")
}

/// The functions that only look at the length of their list argument.
fn length_only(function: &str) -> bool {
    matches!(function, "count" | "size" | "is_empty")
}

impl<'p> Analysis<'p> {
    /// The input path `expr` names (a variable followed by fields), if it is one.
    fn path(expr: &Expr, scope: &Scope<'_>) -> Option<Vec<String>> {
        match expr {
            Expr::Var { name } => scope.lookup(name).map(<[String]>::to_vec),
            Expr::Field { base, name } => {
                let mut path = Self::path(base, scope)?;
                path.push(name.clone());
                Some(path)
            }
            _ => None,
        }
    }

    fn demand(&mut self, path: &[String], leaf: Demand) {
        self.root.add(path, leaf);
    }

    /// The assignments of `map`, with its parameter bound to the input at `path`.
    fn map(&mut self, map: &'p Map, path: &[String]) {
        let scope = Scope {
            name: &map.param,
            path: Some(path.to_vec()),
            parent: None,
        };
        for assignment in &map.fields {
            self.whole(&assignment.value, &scope);
        }
    }

    /// `expr` whose value is used as a whole.
    fn whole(&mut self, expr: &'p Expr, scope: &Scope<'_>) {
        if let Some(path) = Self::path(expr, scope) {
            self.demand(&path, Demand::All);
            return;
        }
        match expr {
            Expr::Str { parts } => {
                for part in parts {
                    if let StrPart::Expr { expr } = part {
                        self.whole(expr, scope);
                    }
                }
            }
            Expr::Int { .. }
            | Expr::Decimal { .. }
            | Expr::Float { .. }
            | Expr::Bool { .. }
            | Expr::Null
            | Expr::Var { .. } => {}
            Expr::Field { base, .. } => self.whole(base, scope),
            Expr::Call { function, args } => self.call(function, args, scope),
            Expr::Apply { map, arg } => self.apply(map, arg, scope),
            Expr::Lambda { body, .. } => {
                // Only valid as an argument; evaluation fails, so nothing is read.
                let inner = scope.bind("", None);
                self.whole(body, &inner);
            }
            Expr::List { items } => {
                for item in items {
                    self.whole(item, scope);
                }
            }
            Expr::Unary { operand, .. } => self.whole(operand, scope),
            Expr::Binary { lhs, rhs, .. } => {
                self.whole(lhs, scope);
                self.whole(rhs, scope);
            }
            Expr::If {
                condition,
                then,
                otherwise,
            } => {
                self.whole(condition, scope);
                self.whole(then, scope);
                self.whole(otherwise, scope);
            }
        }
    }

    fn call(&mut self, function: &str, args: &'p [Expr], scope: &Scope<'_>) {
        let list_path = args.first().and_then(|list| Self::path(list, scope));
        match (args, list_path) {
            ([_], Some(path)) if length_only(function) => self.demand(&path, Demand::none()),
            ([_, Expr::Lambda { param, body }], Some(path)) if lambda_over_items(function) => {
                // The list is needed; of its items, what the lambda reads.
                self.demand(&path, Demand::none());
                let inner = scope.bind(param, Some(path));
                self.whole(body, &inner);
            }
            _ => {
                for arg in args {
                    match arg {
                        Expr::Lambda { param, body } => {
                            // Over items that are not a plain input path (or kept whole,
                            // as by `filter`, which returns them): the items are
                            // demanded whole through the list argument already.
                            let inner = scope.bind(param, None);
                            self.whole(body, &inner);
                        }
                        other => self.whole(other, scope),
                    }
                }
            }
        }
    }

    fn apply(&mut self, map: &str, arg: &'p Expr, scope: &Scope<'_>) {
        let Some(path) = Self::path(arg, scope) else {
            self.whole(arg, scope);
            return;
        };
        let program = self.program;
        match program.maps.get_key_value(map) {
            Some((name, applied))
                if self.stack.len() < MAX_DEPTH && !self.stack.contains(&name.as_str()) =>
            {
                self.demand(&path, Demand::none());
                self.stack.push(name);
                self.map(applied, &path);
                self.stack.pop();
            }
            // Unknown (evaluation fails) or recursive: keep the argument whole.
            _ => self.demand(&path, Demand::All),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::build::{bin, call, lam, path, var};
    use crate::ir::{Assignment, BinaryOp, Type};

    fn fields(entries: Vec<(&str, Demand)>) -> Demand {
        Demand::Fields(entries.into_iter().map(|(n, d)| (n.into(), d)).collect())
    }
    fn map(param: &str, values: Vec<Expr>) -> Map {
        Map {
            doc: None,
            param: param.into(),
            source: Type::Json,
            target: Type::Json,
            fields: values
                .into_iter()
                .enumerate()
                .map(|(i, value)| Assignment {
                    target: vec![format!("f{i}")],
                    value,
                })
                .collect(),
        }
    }

    #[test]
    fn field_paths_demand_their_leaves() {
        let p = Program::default();
        let e = bin(BinaryOp::Add, path("c.a.b"), path("c.a.d"));
        assert_eq!(
            Demand::of_expr("c", &e, &p),
            fields(vec![(
                "a",
                fields(vec![("b", Demand::All), ("d", Demand::All)])
            )])
        );
    }

    #[test]
    fn the_parameter_used_whole_demands_everything() {
        let p = Program::default();
        assert_eq!(
            Demand::of_expr("c", &call("to_string", vec![var("c")]), &p),
            Demand::All
        );
        let compare = bin(BinaryOp::Eq, path("c.a"), path("c.b"));
        assert_eq!(
            Demand::of_expr("c", &compare, &p),
            fields(vec![("a", Demand::All), ("b", Demand::All)])
        );
    }

    #[test]
    fn lambdas_over_input_lists_demand_what_they_read_of_the_items() {
        let p = Program::default();
        let total = call(
            "sum",
            vec![
                path("c.orders"),
                lam(
                    "o",
                    call("sum", vec![path("o.lines"), lam("l", path("l.qty"))]),
                ),
            ],
        );
        assert_eq!(
            Demand::of_expr("c", &total, &p),
            fields(vec![(
                "orders",
                fields(vec![("lines", fields(vec![("qty", Demand::All)]))])
            )])
        );
        // Counting reads no item field; `filter` returns the items, so keeps them whole.
        assert_eq!(
            Demand::of_expr("c", &call("count", vec![path("c.orders")]), &p),
            fields(vec![("orders", Demand::none())])
        );
        let vip = call(
            "filter",
            vec![path("c.tags"), lam("t", call("upper", vec![var("t")]))],
        );
        assert_eq!(
            Demand::of_expr("c", &vip, &p),
            fields(vec![("tags", Demand::All)])
        );
        // `first` returns an item: whole.
        assert_eq!(
            Demand::of_expr("c", &call("first", vec![path("c.orders")]), &p),
            fields(vec![("orders", Demand::All)])
        );
        // A lambda returning its item hands the item on whole.
        let items = call("map", vec![path("c.orders"), lam("o", var("o"))]);
        assert_eq!(
            Demand::of_expr("c", &items, &p),
            fields(vec![("orders", Demand::All)])
        );
    }

    #[test]
    fn lambda_parameters_shadow_the_map_parameter() {
        let p = Program::default();
        let e = call("map", vec![path("c.xs"), lam("c", path("c.y"))]);
        assert_eq!(
            Demand::of_expr("c", &e, &p),
            fields(vec![("xs", fields(vec![("y", Demand::All)]))])
        );
    }

    #[test]
    fn applied_maps_are_followed_and_recursion_keeps_the_argument() {
        let mut p = Program::default();
        p.maps.insert("site".into(), map("s", vec![path("s.city")]));
        p.maps.insert(
            "looping".into(),
            map(
                "x",
                vec![Expr::Apply {
                    map: "looping".into(),
                    arg: Box::new(path("x.next")),
                }],
            ),
        );
        let site = Expr::Apply {
            map: "site".into(),
            arg: Box::new(path("c.ship_to")),
        };
        assert_eq!(
            Demand::of_expr("c", &site, &p),
            fields(vec![("ship_to", fields(vec![("city", Demand::All)]))])
        );
        let looping = p
            .maps
            .get("looping")
            .cloned()
            .unwrap_or_else(|| map("x", vec![]));
        assert_eq!(
            Demand::of_map(&looping, &p),
            fields(vec![("next", fields(vec![("next", Demand::All)]))])
        );
        let unknown = Expr::Apply {
            map: "nope".into(),
            arg: Box::new(path("c.a")),
        };
        assert_eq!(
            Demand::of_expr("c", &unknown, &p),
            fields(vec![("a", Demand::All)])
        );
    }

    #[test]
    fn union_keeps_everything_either_reads() {
        let a = fields(vec![("x", fields(vec![("y", Demand::All)]))]);
        let b = fields(vec![
            ("x", fields(vec![("z", Demand::All)])),
            ("w", Demand::All),
        ]);
        assert_eq!(
            a.clone().union(b),
            fields(vec![
                ("w", Demand::All),
                ("x", fields(vec![("y", Demand::All), ("z", Demand::All)]))
            ])
        );
        assert_eq!(a.union(Demand::All), Demand::All);
    }
}

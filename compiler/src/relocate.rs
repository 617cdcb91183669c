//! Moving locations after an edit of one file: every location at or after the end of
//! the edited text moves by the change in length. An analysis brought up to date
//! after an edit ([`crate::analysis::Analysis::update`]) moves what it keeps (the
//! resolved program, diagnostics, the checker's findings) instead of redoing it.

use std::rc::Rc;

use crate::check::{Findings, TypedFlow, TypedMap};
use crate::diagnostic::Diagnostic;
use crate::resolve::{Program, TypeSymbol};
use crate::source::{FileId, Loc};
use crate::types::{RecordType, Type};

/// An edit as it moves locations: in `file`, every offset from `from` on moves by
/// `delta` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    /// The edited file.
    pub file: FileId,
    /// The first offset that moves: the end of the edited text before the edit.
    pub from: usize,
    /// How far it moves.
    pub delta: isize,
}

impl Shift {
    fn offset(&self, offset: usize) -> usize {
        if offset >= self.from {
            offset.saturating_add_signed(self.delta)
        } else {
            offset
        }
    }

    fn moves(&self, loc: &Loc) -> bool {
        loc.file == self.file && loc.span.end >= self.from
    }
}

/// Data that holds locations.
pub trait Relocate {
    /// Moves the locations an edit moves.
    fn relocate(&mut self, shift: &Shift);
}

impl<T: Relocate> Relocate for Vec<T> {
    fn relocate(&mut self, shift: &Shift) {
        for value in self {
            value.relocate(shift);
        }
    }
}

impl<T: Relocate + Clone> Relocate for Rc<T> {
    fn relocate(&mut self, shift: &Shift) {
        Rc::make_mut(self).relocate(shift);
    }
}

impl<T: Relocate> Relocate for Option<T> {
    fn relocate(&mut self, shift: &Shift) {
        if let Some(value) = self {
            value.relocate(shift);
        }
    }
}

impl Relocate for Loc {
    fn relocate(&mut self, shift: &Shift) {
        if shift.moves(self) {
            self.span.start = shift.offset(self.span.start);
            self.span.end = shift.offset(self.span.end);
        }
    }
}

impl Relocate for Diagnostic {
    fn relocate(&mut self, shift: &Shift) {
        self.primary.loc.relocate(shift);
        for label in &mut self.secondary {
            label.loc.relocate(shift);
        }
        for fix in &mut self.fixes {
            for edit in &mut fix.edits {
                edit.loc.relocate(shift);
            }
        }
    }
}

impl Relocate for Type {
    fn relocate(&mut self, shift: &Shift) {
        match self {
            Type::Record(record) => relocate_record(record, shift),
            Type::List(inner) | Type::Optional(inner) => inner.relocate(shift),
            Type::String
            | Type::Int
            | Type::Decimal
            | Type::Float
            | Type::Bool
            | Type::Date
            | Type::Timestamp
            | Type::Json
            | Type::Null
            | Type::Schema(..)
            | Type::Enum(_)
            | Type::Error => {}
        }
    }
}

/// Moves a shared record's locations, copying it only when some of them move.
fn relocate_record(record: &mut Rc<RecordType>, shift: &Shift) {
    if record_moves(record, shift) {
        for field in &mut Rc::make_mut(record).fields {
            field.loc.relocate(shift);
            field.ty.relocate(shift);
        }
    }
}

fn record_moves(record: &RecordType, shift: &Shift) -> bool {
    record
        .fields
        .iter()
        .any(|field| shift.moves(&field.loc) || type_moves(&field.ty, shift))
}

fn type_moves(ty: &Type, shift: &Shift) -> bool {
    match ty {
        Type::Record(record) => record_moves(record, shift),
        Type::List(inner) | Type::Optional(inner) => type_moves(inner, shift),
        _ => false,
    }
}

impl Relocate for Program {
    fn relocate(&mut self, shift: &Shift) {
        // A schema's fields, and the inline records of a map's signature, are declared
        // in the file of its name (or in an imported schema file, which never moves).
        for schema in self.schemas.iter_mut().filter(|s| s.loc.file == shift.file) {
            schema.loc.relocate(shift);
            relocate_record(&mut schema.record, shift);
        }
        for symbol in self.types.values_mut() {
            match symbol {
                TypeSymbol::Enum(_, loc) | TypeSymbol::Broken(loc) => loc.relocate(shift),
                TypeSymbol::Schema(_) => {}
            }
        }
        for connection in self.connections.values_mut() {
            connection.loc.relocate(shift);
        }
        for map in self.maps.values_mut().filter(|m| m.loc.file == shift.file) {
            map.loc.relocate(shift);
            map.source.relocate(shift);
            map.target.relocate(shift);
        }
        for loc in self.flows.values_mut() {
            loc.relocate(shift);
        }
        for loc in self.environments.values_mut() {
            loc.relocate(shift);
        }
    }
}

impl Relocate for TypedMap {
    fn relocate(&mut self, shift: &Shift) {
        self.source.relocate(shift);
        self.target.relocate(shift);
        for (_, ty) in &mut self.fields {
            ty.relocate(shift);
        }
    }
}

impl Relocate for TypedFlow {
    fn relocate(&mut self, shift: &Shift) {
        for step in &mut self.steps {
            step.record.relocate(shift);
            step.loc.relocate(shift);
        }
    }
}

impl Relocate for Findings {
    fn relocate(&mut self, shift: &Shift) {
        self.diagnostics.relocate(shift);
        self.map.relocate(shift);
        self.flow.relocate(shift);
        for (_, _, loc) in self
            .map_calls
            .iter_mut()
            .chain(&mut self.flow_triggers)
            .chain(&mut self.used_connections)
        {
            loc.relocate(shift);
        }
        for (_, name, close, _) in &mut self.bound {
            name.relocate(shift);
            close.relocate(shift);
        }
        self.redactions.relocate(shift);
        self.decimal_literals.relocate(shift);
        self.float_literals.relocate(shift);
        for (loc, ty) in &mut self.parameters {
            loc.relocate(shift);
            ty.relocate(shift);
        }
    }
}

/// The files the locations of some findings point into, sorted.
pub(crate) fn files_of(findings: &Findings) -> Vec<FileId> {
    let mut files = Vec::new();
    let mut add = |loc: &Loc| files.push(loc.file);
    for d in &findings.diagnostics {
        add(&d.primary.loc);
        d.secondary.iter().for_each(|l| add(&l.loc));
        d.fixes
            .iter()
            .flat_map(|f| &f.edits)
            .for_each(|e| add(&e.loc));
    }
    let mut types: Vec<&Type> = Vec::new();
    if let Some(map) = &findings.map {
        types.extend([&map.source, &map.target]);
        types.extend(map.fields.iter().map(|(_, ty)| ty));
    }
    if let Some(flow) = &findings.flow {
        for step in &flow.steps {
            add(&step.loc);
            types.push(&step.record);
        }
    }
    for (_, _, loc) in findings
        .map_calls
        .iter()
        .chain(&findings.flow_triggers)
        .chain(&findings.used_connections)
    {
        add(loc);
    }
    for (_, name, close, _) in &findings.bound {
        add(name);
        add(close);
    }
    findings
        .redactions
        .iter()
        .chain(&findings.decimal_literals)
        .for_each(&mut add);
    for (loc, ty) in &findings.parameters {
        add(loc);
        types.push(ty);
    }
    while let Some(ty) = types.pop() {
        match ty {
            Type::Record(record) => {
                for field in &record.fields {
                    add(&field.loc);
                    types.push(&field.ty);
                }
            }
            Type::List(inner) | Type::Optional(inner) => types.push(inner),
            _ => {}
        }
    }
    files.sort_unstable();
    files.dedup();
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;
    use crate::types::Field;

    #[test]
    fn only_locations_of_the_file_after_the_edit_move() {
        let shift = Shift {
            file: FileId(1),
            from: 10,
            delta: -4,
        };
        let mut locs = [
            Loc::new(FileId(1), Span::new(2, 5)),
            Loc::new(FileId(1), Span::new(10, 12)),
            Loc::new(FileId(1), Span::new(30, 30)),
            Loc::new(FileId(0), Span::new(30, 31)),
        ];
        for loc in &mut locs {
            loc.relocate(&shift);
        }
        let spans: Vec<(u32, usize, usize)> = locs
            .iter()
            .map(|l| (l.file.0, l.span.start, l.span.end))
            .collect();
        assert_eq!(spans, [(1, 2, 5), (1, 6, 8), (1, 26, 26), (0, 30, 31)]);
    }

    #[test]
    fn shared_records_are_copied_only_when_they_move() {
        let field = |at: usize| Field {
            name: "a".into(),
            ty: Type::Int,
            doc: None,
            loc: Loc::new(FileId(0), Span::new(at, at + 1)),
        };
        let before = Rc::new(RecordType {
            fields: vec![field(1)],
        });
        let mut kept = Type::Record(before.clone());
        let shift = Shift {
            file: FileId(0),
            from: 5,
            delta: 3,
        };
        kept.relocate(&shift);
        assert!(matches!(&kept, Type::Record(r) if Rc::ptr_eq(r, &before)));
        let after = Rc::new(RecordType {
            fields: vec![field(7)],
        });
        let mut moved = Type::List(Box::new(Type::Record(after.clone())));
        moved.relocate(&shift);
        let Type::List(inner) = &moved else {
            panic!("still a list")
        };
        assert!(matches!(&**inner, Type::Record(r) if r.fields[0].loc.span == Span::new(10, 11)));
        assert_eq!(
            after.fields[0].loc.span,
            Span::new(7, 8),
            "the original stays"
        );
    }
}

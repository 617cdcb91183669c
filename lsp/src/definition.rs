//! `textDocument/definition`: where a schema, enum, connection, map, flow,
//! environment, field or parameter is declared. Fields of imported schemas are
//! declared in the JSON or YAML file they come from.

use tower_lsp_server::ls_types::{Location, Position};
use weft_compiler::analysis::Analysis;
use weft_compiler::resolve::TypeSymbol;
use weft_compiler::source::{FileId, Loc};

use crate::lookup::{self, Symbol};
use crate::position::LineIndex;
use crate::world::Snapshot;

/// The declaration of the name at `position`, if it names something declared.
pub fn definition(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    position: Position,
) -> Option<Location> {
    let offset = LineIndex::new(snapshot.text(analysis, file)).offset(position);
    let (_, tree) = analysis.files.iter().find(|(id, _)| *id == file)?;
    let hit = lookup::find(&analysis.program, file, tree, offset)?;
    let loc = declared_at(analysis, file, &hit.symbol)?;
    snapshot.location(analysis, loc)
}

/// Where a symbol is declared.
pub fn declared_at(analysis: &Analysis, file: FileId, symbol: &Symbol) -> Option<Loc> {
    let program = &analysis.program;
    match symbol {
        Symbol::Type(name) => match program.types.get(name)? {
            TypeSymbol::Schema(id) => program.schemas.get(id.0 as usize).map(|s| s.loc),
            TypeSymbol::Enum(_, loc) | TypeSymbol::Broken(loc) => Some(*loc),
        },
        Symbol::Connection(name) => program.connections.get(name).map(|c| c.loc),
        Symbol::Operation { connection, .. } => program.connections.get(connection).map(|c| c.loc),
        Symbol::Map(name) => program.maps.get(name).map(|m| m.loc),
        Symbol::Flow(name) => program.flows.get(name).copied(),
        Symbol::Environment(name) => program.environments.get(name).copied(),
        Symbol::Field { owner, name } => program.record(owner)?.field(name).map(|f| f.loc),
        Symbol::Variable { decl, .. } => Some(Loc::new(file, *decl)),
        Symbol::Function(_) | Symbol::ConnectorKind(_) => None,
    }
}

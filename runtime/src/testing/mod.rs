//! `weft test`: runs a project's test blocks against mocked connections, through the
//! same engine as production.

pub mod compare;
pub mod generate;
pub mod mocks;
pub mod plan;

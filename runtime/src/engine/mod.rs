//! The flow engine: runs a flow's steps over records. Production and `weft test` run
//! flows through this one engine; only the connections differ (real or mocked).

pub mod record;

//! Every integration test, in one binary so the suite builds once.

mod abuse;
mod alerts;
mod cli;
mod clock;
mod dashboard;
mod diagnostics;
mod examples;
mod explain;
mod failure;
mod format;
mod goals;
mod graph;
mod http_agents;
mod language;
mod llm_agents;
mod lsp;
mod metrics;
mod readme;
mod robustness;
mod run;
mod scale;
mod scoping;
mod serve;
mod server;
mod support;
mod testing;

//! The demo LLM orchestrator: `orchestrator-demo --help`.

fn main() -> std::process::ExitCode {
    orchestrator_demo::cli()
}

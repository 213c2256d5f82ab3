//! `alert-quality`: the alert rules measured against a seeded schedule of incidents (see
//! `orchestrator_demo::quality`).

fn main() -> std::process::ExitCode {
    orchestrator_demo::quality::cli()
}

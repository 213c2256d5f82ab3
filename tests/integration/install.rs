//! `install()` errors. One test, because `install` sets process-wide state.

use orchestrator_telemetry::orchestrator_exporters::ServeError;
use orchestrator_telemetry::{InstallError, Telemetry};

#[test]
fn install_reports_bad_addresses_then_refuses_a_second_install() {
    let err = Telemetry::builder()
        .listen("not-an-address")
        .install()
        .unwrap_err();
    assert!(
        matches!(err, InstallError::Listen(ServeError::InvalidAddress { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("not-an-address"), "{err}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = Telemetry::builder().listen(&addr).install().unwrap_err();
    assert!(
        matches!(err, InstallError::Listen(ServeError::Bind { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains(&addr), "{err}");

    // Failed installs leave nothing installed: this one succeeds.
    let guard = Telemetry::builder()
        .listen("127.0.0.1:0")
        .install()
        .unwrap();
    metrics::counter!("installed_checks_total").increment(1);
    assert!(
        guard
            .registry()
            .render()
            .contains("installed_checks_total 1")
    );

    let err = Telemetry::builder()
        .without_listener()
        .install()
        .unwrap_err();
    assert!(matches!(err, InstallError::AlreadyInstalled), "{err:?}");
    guard.shutdown();
}

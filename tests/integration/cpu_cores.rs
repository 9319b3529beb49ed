//! CPU cores apart from workers, end to end (the queueing results are in tests/analytic/
//! processor_sharing.rs): what is refused, and what a model without cores keeps.

use super::refused;

fn model(service: &str) -> String {
    format!(
        r#"{{ "name": "cores", "duration": "2m", "warmup": "10s", "replications": 2,
          "clients": {{ "web": {{ "open": {{ "rate": "50/s" }}, "calls": "api.get" }} }},
          "services": {{ "api": {{ {service}, "endpoints": {{ "get": [ {{ "cpu": "exp(10ms)" }} ] }} }} }} }}"#
    )
}

#[test]
fn cpu_sharing_without_cores_is_refused_with_its_path() {
    let message = refused(&model(r#""workers": 8, "cpu_sharing": "fifo""#));
    assert!(
        message.contains("services.api.cpu_sharing: says how CPU steps share the \"cores\": give the cores"),
        "{message}"
    );
    let message = refused(&model(r#""workers": 8, "cores": 0"#));
    assert!(message.contains("services.api.cores"), "{message}");
}

#[test]
fn cores_show_as_their_own_statistics_and_a_model_without_them_has_none() {
    let validated = capsim::model::parse_model(&model(r#""workers": 8, "cores": 2"#), "cores.json").unwrap();
    let result = capsim::run(&validated.model, &[], Some(1));
    // 50/s of 10 ms on 2 cores: a quarter of the cores busy.
    let cpu = capsim::results::metric::resolve(&result, "api.cpu").expect("resolves");
    assert!(
        cpu.estimate.low() <= 0.25 && 0.25 <= cpu.estimate.high(),
        "{:?}",
        cpu.estimate
    );
    let validated = capsim::model::parse_model(&model(r#""workers": 8"#), "plain.json").unwrap();
    let result = capsim::run(&validated.model, &[], Some(1));
    assert!(result.cpus.is_empty());
    assert!(capsim::results::metric::resolve(&result, "api.cpu").is_err());
    assert!(!serde_json::to_string(&result).unwrap().contains("\"cpus\""));
}

//! The examples run as their doc comments say, and print what they fitted.

use crate::common::*;

#[test]
fn fit_predict_fits_a_classifier_a_regressor_and_a_clusterer() {
    let dir = tempfile::tempdir().unwrap();
    let out = program_ok(&example_binary("fit_predict"), &[], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    for fitted in [
        "logistic regression on iris:",
        "ridge regression on diabetes: held-out r2 0.483",
        "k-means on iris: inertia 140.03",
    ] {
        assert!(text.contains(fitted), "no `{fitted}` in:\n{text}");
    }
}

#[test]
fn custom_model_trains_stops_and_resumes_a_users_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = program_ok(&example_binary("custom_model"), &[], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("two-tower network:")
            && text.contains("weights equal the uninterrupted fit's")
            && text.contains("saved "),
        "{text}"
    );
}

/// The GPU check runs here at a tiny size on every compiled backend (flex and, in CI, wgpu on
/// Mesa's software Vulkan), and its table says each model's quality matches flex's: the check
/// kept for a real GPU cannot rot.
#[test]
fn the_gpu_check_runs_and_agrees_with_flex() {
    let dir = tempfile::tempdir().unwrap();
    let backends: Vec<&str> = kiln_backends::compiled()
        .into_iter()
        .filter(|kind| kind.name() != "vulkan")
        .map(|kind| kind.name())
        .collect();
    let out = dir.path().join("out");
    program_ok(
        &example_binary("gpu_check"),
        &[
            "--backends",
            &backends.join(","),
            "--scale",
            "0.002",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gpu-check.json")).unwrap())
            .unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 6 * backends.len(), "{report}");
    for result in results {
        assert!(result["error"].is_null(), "{result}");
        let flex = results
            .iter()
            .find(|r| r["model"] == result["model"] && r["backend"] == "flex")
            .unwrap();
        let (value, reference) = (
            result["value"].as_f64().unwrap(),
            flex["value"].as_f64().unwrap(),
        );
        if result["model"] == "mlp_784_256_10" {
            // Each backend draws its own initial weights, so the MLP's accuracy is held to a
            // floor rather than to flex's value.
            assert!(value >= 0.8, "{result}");
            continue;
        }
        assert!(
            (value - reference).abs() <= 1e-3 * reference.abs().max(1.0),
            "{}: {} on {}, {} on flex",
            result["model"],
            value,
            result["backend"],
            reference
        );
    }
    let table = std::fs::read_to_string(out.join("gpu-check.md")).unwrap();
    assert!(table.starts_with("| model | backend |"), "{table}");
}

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

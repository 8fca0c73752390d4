//! Every example checks clean, so the examples never rot.

use wfc::diagnostic::render;

#[test]
fn every_example_checks_without_a_single_diagnostic() {
    insta::glob!("../../examples", "**/*.wf", |path| {
        let (loaded, checked) = wfc::check_file(path).expect("example loads");
        let reports: String = checked
            .diagnostics
            .iter()
            .map(|d| render::report(d, &loaded.sources, false, 100))
            .collect();
        assert!(reports.is_empty(), "{}:\n{reports}", path.display());
    });
}

#[test]
fn the_enterprise_example_models_the_seed_organisation() {
    let (_, checked) = wfc::check_file(std::path::Path::new("examples/enterprise.wf")).unwrap();
    let program = &checked.declarations;
    for trigger in [
        "revenue_milestone",
        "lead_qualification",
        "daily_operations",
        "compliance_alerts",
    ] {
        assert!(program.triggers.contains_key(trigger), "trigger {trigger}");
    }
    let names = |w: &str| -> Vec<String> {
        match &program.workflows[w].bodies[0] {
            wfc::ast::WorkflowBody::Chain(chain) => {
                chain.value.iter().map(|i| i.name.clone()).collect()
            }
            _ => Vec::new(),
        }
    };
    assert_eq!(
        names("revenue_review"),
        ["finance_financial_analyst", "strategy_strategic_planner"]
    );
    let goals = program.all_goals();
    let targets: Vec<f64> = goals
        .iter()
        .filter_map(|g| g.kpi.as_ref().map(|k| k.threshold.target.value))
        .collect();
    assert_eq!(targets, [50000.0, 4167.0, 80000.0]);
}

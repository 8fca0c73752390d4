//! The scoping rules of `steps` (docs/language.md#steps), each as a pair: what is
//! accepted and what is refused.

use wfc::diagnostic::Code;

/// Checks a workflow body with a few agents declared around it; returns the codes.
fn codes(steps: &str) -> Vec<Code> {
    let text = format!(
        r#"
agent make  {{ output {{ n: number }} compute {{ n: 1 }} }}
agent need  {{ input {{ n: number }} output {{ ok: bool }} compute {{ ok: true }} }}
agent flaky {{ output {{ n: number }} run ["sh", "flaky.sh"] }}
trigger go {{ manual }}
workflow w {{
  on go
  input {{ items: [number], flag: bool }}
  steps {{ {steps} }}
}}
"#
    );
    let (_, checked) = wfc::check_text("scoping.wf", &text);
    checked.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn a_name_bound_on_every_branch_keeps_its_type() {
    let steps = "when input.flag { a = make({}) } else { a = make({}) }  b = need(a)";
    assert_eq!(codes(steps), []);
}

#[test]
fn a_name_bound_on_some_branches_is_optional_afterwards() {
    assert_eq!(
        codes("when input.flag { a = make({}) }  b = need(a)"),
        [Code::InputMismatch]
    );
    let steps = "when input.flag { a = make({}) } else when true { a = make({}) }  b = need(a)";
    assert_eq!(codes(steps), [Code::InputMismatch]);
}

#[test]
fn a_null_guard_makes_an_optional_name_required_inside_it() {
    let steps = "when input.flag { a = make({}) }  when a != null { b = need(a) }";
    assert_eq!(codes(steps), []);
}

#[test]
fn bindings_of_a_try_are_optional_unless_the_handler_binds_them_too() {
    assert_eq!(
        codes("try { a = flaky({}) } catch err { let m = err.message }  b = need(a)"),
        [Code::InputMismatch]
    );
    assert_eq!(
        codes("try { a = flaky({}) } catch err { a = make({}) }  b = need(a)"),
        []
    );
}

#[test]
fn the_catch_variable_exists_only_in_its_handler() {
    assert_eq!(
        codes("try { a = flaky({}) } catch err { let k = err.kind }"),
        []
    );
    assert_eq!(
        codes("try { a = flaky({}) } catch err { let k = err.kind }  let m = err.message"),
        [Code::OutOfScope]
    );
    assert_eq!(
        codes("try { a = flaky({}) } catch err { let k = err.knd }"),
        [Code::UnknownField]
    );
}

#[test]
fn loop_bindings_do_not_leak_but_a_bound_loop_collects_them() {
    assert_eq!(
        codes("for i in input.items { a = make({}) }  b = need(a)"),
        [Code::OutOfScope]
    );
    assert_eq!(
        codes("for i in input.items { a = make({}) }  let j = i"),
        [Code::OutOfScope]
    );
    assert_eq!(
        codes("all = for i in input.items { a = make({}) }  b = need(all[0])"),
        []
    );
    assert_eq!(
        codes("all = parallel for i in input.items limit 2 { let d = i * 2 }  let t = sum(all)"),
        []
    );
    assert_eq!(
        codes("all = for i in input.items { let d = i > 1 }  let t = sum(all)"),
        [Code::TypeMismatch]
    );
}

#[test]
fn loops_need_lists() {
    assert_eq!(
        codes("for i in input.flag { wait 1s }"),
        [Code::TypeMismatch]
    );
}

#[test]
fn parallel_branches_see_each_others_bindings_only_afterwards() {
    assert_eq!(
        codes("parallel { a = make({}) c = make({}) }  b = need(a)"),
        []
    );
    assert_eq!(
        codes("parallel { a = make({}) c = need(a) }"),
        [Code::SiblingBranchRead]
    );
}

#[test]
fn a_name_is_bound_once_per_scope() {
    assert_eq!(codes("a = make({})  a = make({})"), [Code::DuplicateStep]);
    assert_eq!(
        codes("parallel { a = make({}) a = make({}) }"),
        [Code::DuplicateStep]
    );
    assert_eq!(
        codes("for i in input.items { a = make({}) }  a = make({})"),
        []
    );
}

#[test]
fn conditions_and_failures_have_types() {
    assert_eq!(codes("when 1 { wait 1s }"), [Code::TypeMismatch]);
    assert_eq!(codes("fail 42"), [Code::TypeMismatch]);
    assert_eq!(
        codes("let x = if input.flag then 1 else \"a\"  let y = x + 1"),
        []
    );
}

#[test]
fn sub_workflow_results_have_the_callee_output_type() {
    let text = r#"
agent make { output { n: number } compute { n: 1 } }
trigger go { manual }
workflow child { input { seed: number } chain make -> make }
workflow parent {
  on go
  steps {
    r = workflow child({ seed: 1 })
    let ok = r.n + 1
    let bad = r.missing
    s = workflow child({ seed: "x" })
  }
}
"#;
    let (_, checked) = wfc::check_text("sub.wf", text);
    let codes: Vec<_> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::UnknownField, Code::InputMismatch]);
}

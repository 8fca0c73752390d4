//! pest errors in plain words: every grammar rule has a human name, so a user reads
//! "expected `attempts`, `backoff`, `jitter`, `retry_on` or `}`", never a rule name.

use super::Rule;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use pest::error::{Error, ErrorVariant, InputLocation};

/// Converts pest's first failure into a `wf::syntax` diagnostic.
pub fn syntax_error(error: &Error<Rule>, text: &str, file: FileId) -> Diagnostic {
    let at = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    };
    let found = found_at(text, at);
    let end = (at + found.len()).min(text.len()).max(at);
    let span = Span::new(file, at, end);
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => expected_list(positives, error),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let found_words = if found.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{found}`")
    };
    let mut diagnostic = Diagnostic::new(
        Code::Syntax,
        span,
        format!("expected {expected}, found {found_words}"),
        format!("expected {expected}"),
    );
    let unclosed = super::nesting::unclosed(text).filter(|open| open.at < at);
    if let Some(open) = unclosed {
        let (bracket, closing) = (open.open, open.close);
        diagnostic = diagnostic
            .with_label(
                Span::new(file, open.at, open.at + bracket.len()),
                format!("this `{bracket}` is never closed"),
            )
            .with_help(format!("add the missing `{closing}`"));
        if found.is_empty() {
            // At the end of the file, the list of what could still follow says
            // nothing the unclosed bracket does not say better.
            diagnostic = diagnostic.with_message(format!(
                "the file ends before `{bracket}` is closed with `{closing}`"
            ));
            diagnostic.labels[0].message = format!("expected `{closing}` before the end");
        }
    } else if let Some(help) = help_for(text, at, &found, &expected) {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

/// The token at `at`: a word, a number, or one character; empty at the end.
fn found_at(text: &str, at: usize) -> String {
    let rest = &text[at.min(text.len())..];
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    if !word.is_empty() {
        return word;
    }
    rest.chars().next().map(String::from).unwrap_or_default()
}

fn help_for(text: &str, at: usize, found: &str, expected: &str) -> Option<String> {
    let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at.min(text.len())];
    if before.matches('"').count() % 2 == 1 {
        return Some("a string must close with `\"` on the same line".into());
    }
    if found == "yield" {
        return Some(
            "`yield` gives a `for` iteration its value: it is the last statement of the loop body, directly inside it"
                .into(),
        );
    }
    if super::is_keyword(found) && expected.contains("a name") {
        return Some(format!(
            "`{found}` is a reserved word and cannot name anything"
        ));
    }
    None
}

fn token_name(token: &str) -> Option<String> {
    match token {
        "+" | "-" | "*" | "/" | "%" | "==" | "!=" | ">=" | "<=" | ">" | "<" => {
            Some("an operator".into())
        }
        // Word characters pest tries inside atomic rules (digits, `e` of an exponent,
        // unit letters) say nothing useful.
        t if t.len() == 1 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => None,
        // Layout is never what is missing.
        "" | " " | "\t" | "\n" | "\r" | "//" | "/*" | "BUILTIN_RULE" => None,
        t if t.chars().count() == 4 && t.contains("..") => None,
        t => Some(format!("`{t}`")),
    }
}

/// The keywords the grammar accepts at the end of `prefix` (for completion):
/// the backquoted words of what a parse failing there expected. Empty when the
/// parse fails earlier, or inside a string or comment.
pub fn keywords_after(prefix: &str) -> Vec<String> {
    // Too deep a text is not parsed at all (the stack), as in `parse`.
    if super::nesting::check(prefix, FileId(0)).is_some() {
        return Vec::new();
    }
    // A character no rule takes: the parse fails at the end, listing what fits there.
    let probe = format!("{prefix}\u{1}");
    let Err(error) = <super::WfParser as pest::Parser<Rule>>::parse(Rule::file, &probe) else {
        return Vec::new();
    };
    let at = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    };
    let ErrorVariant::ParsingError { positives, .. } = &error.variant else {
        return Vec::new();
    };
    if at != prefix.len() {
        return Vec::new();
    }
    let mut names: Vec<String> = positives
        .iter()
        .flat_map(|r| human_names(*r))
        .map(String::from)
        .collect();
    if let Some(attempts) = error.parse_attempts() {
        names.extend(attempts.expected_tokens().iter().map(|t| format!("`{t}`")));
    }
    let mut words: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_prefix('`')?.strip_suffix('`'))
        .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .map(String::from)
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// What could have come next: the rules pest tried there, plus the literal tokens
/// it tried (pest reports punctuation such as `}` only through parse attempts).
fn expected_list(rules: &[Rule], error: &Error<Rule>) -> String {
    let mut names: Vec<String> = rules
        .iter()
        .flat_map(|r| human_names(*r))
        .map(String::from)
        .collect();
    if let Some(attempts) = error.parse_attempts() {
        for token in attempts.expected_tokens() {
            // pest does not export the token type, only its `Display`.
            names.extend(token_name(&token.to_string()));
        }
    }
    names.sort_unstable();
    names.dedup();
    // A long list hides what matters; its start says what kind of thing is next,
    // and a closing bracket is always named (it is what a missing one needs).
    const SHOWN: usize = 14;
    if names.len() > SHOWN + 1 {
        let (closers, mut others): (Vec<String>, Vec<String>) = names
            .into_iter()
            .partition(|n| matches!(n.as_str(), "`}`" | "`]`" | "`)`"));
        let keep = SHOWN.saturating_sub(closers.len());
        let more = others.len() - keep;
        others.truncate(keep);
        others.extend(closers);
        others.push(format!("{more} more"));
        names = others;
    }
    match names.as_slice() {
        [] => "something else".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The names of what `rule` accepts: one per keyword of a keyword alternative, so
/// that they merge with the same keywords pest reports as tokens.
fn human_names(rule: Rule) -> Vec<&'static str> {
    let alternatives: &[Rule] = match rule {
        Rule::backoff_kind => &[
            Rule::backoff_exponential,
            Rule::backoff_linear,
            Rule::backoff_constant,
        ],
        Rule::jitter_kind => &[Rule::jitter_none, Rule::jitter_full, Rule::jitter_equal],
        Rule::missed_policy => &[Rule::missed_run_once, Rule::missed_skip],
        Rule::failure_policy => &[Rule::failure_dead_letter, Rule::failure_fail],
        Rule::prefix_op => &[Rule::op_not, Rule::op_negate],
        Rule::call_option => &[Rule::call_timeout, Rule::call_retry],
        Rule::run_status => &[Rule::status_completed, Rule::status_failed],
        Rule::http_method => &[
            Rule::http_get,
            Rule::http_post,
            Rule::http_put,
            Rule::http_patch,
            Rule::http_delete,
        ],
        _ => return vec![human_name(rule)],
    };
    alternatives.iter().map(|r| human_name(*r)).collect()
}

/// The name a user knows each rule by: usually the keyword that starts it.
fn human_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::retry_prop => "a retry property",
        Rule::breaker_prop => "a breaker property",
        Rule::agent_prop => "an agent property",
        Rule::type_primary => "a type",
        Rule::trigger_prop => "a trigger property",
        Rule::workflow_prop => "a workflow property",
        Rule::goal_prop => "a goal property",
        Rule::team_prop => "a team property",
        Rule::statement => "a statement",
        Rule::call_target => "an agent, `any [skills]` or `workflow name`",
        Rule::call_option => "`timeout` or `retry`",
        Rule::primary => "a value",
        Rule::keyword => "a keyword",
        Rule::ident | Rule::name_ref | Rule::agent_target | Rule::aggregation => "a name",
        Rule::metric_name => "a metric name",
        Rule::kw_agent => "`agent`",
        Rule::kw_any => "`any`",
        Rule::kw_breaker => "`breaker`",
        Rule::kw_catch => "`catch`",
        Rule::kw_chain => "`chain`",
        Rule::kw_else => "`else`",
        Rule::kw_emit => "`emit`",
        Rule::kw_fail => "`fail`",
        Rule::kw_for => "`for`",
        Rule::kw_goal => "`goal`",
        Rule::kw_if => "`if`",
        Rule::kw_import => "`import`",
        Rule::kw_at => "`at`",
        Rule::kw_in => "`in`",
        Rule::kw_let => "`let`",
        Rule::kw_limit => "`limit`",
        Rule::kw_output => "`output`",
        Rule::kw_parallel => "`parallel`",
        Rule::kw_record => "`record`",
        Rule::kw_retry => "`retry`",
        Rule::kw_steps => "`steps`",
        Rule::kw_then => "`then`",
        Rule::kw_timezone => "`timezone`",
        Rule::kw_trigger => "`trigger`",
        Rule::kw_try => "`try`",
        Rule::kw_wait => "`wait`",
        Rule::kw_await => "`await`",
        Rule::kw_template => "`template`",
        Rule::kw_send => "`send`",
        Rule::kw_after => "`after`",
        Rule::kw_resolved => "`resolved`",
        Rule::kw_timed_out => "`timed_out`",
        Rule::kw_where => "`where`",
        Rule::kw_when => "`when`",
        Rule::kw_workflow => "`workflow`",
        Rule::kw_yield => "`yield`",
        Rule::kw_by => "`by`",
        Rule::catch_clause => "`catch`",
        Rule::catch_kinds => "error kinds like `timeout, failed as`",
        Rule::catch_as => "`as`",
        Rule::agent_http => "`http`",
        Rule::http_method => "`GET`, `POST`, `PUT`, `PATCH` or `DELETE`",
        Rule::http_get => "`GET`",
        Rule::http_post => "`POST`",
        Rule::http_put => "`PUT`",
        Rule::http_patch => "`PATCH`",
        Rule::http_delete => "`DELETE`",
        Rule::http_headers => "`headers`",
        Rule::agent_llm => "`llm`",
        Rule::llm_prop => "a language-model property",
        Rule::llm_endpoint => "`endpoint`",
        Rule::llm_key => "`key`",
        Rule::llm_system => "`system`",
        Rule::llm_prompt => "`prompt`",
        Rule::llm_temperature => "`temperature`",
        Rule::llm_max_tokens => "`max_tokens`",
        Rule::llm_price => "`price`",
        Rule::text_block => "a `\"\"\"` text block",
        Rule::text_block_text => "text block text",
        Rule::text_hole => "`{{`",
        Rule::line_text_block => "a string",
        Rule::line_text => "text",
        Rule::kw_metric => "`metric`",
        Rule::kw_alert => "`alert`",
        Rule::alert_decl => "`alert`",
        Rule::alert_prop => "an alert property",
        Rule::alert_when => "`when`",
        Rule::alert_goal => "`goal … is …`",
        Rule::alert_signal => "a signal like `failure_rate(workflow) > 0.2 within 15m`",
        Rule::alert_webhook => "`notify webhook`",
        Rule::alert_emit => "`emit`",
        Rule::kw_test => "`test`",
        Rule::kw_mock => "`mock`",
        Rule::kw_given => "`given`",
        Rule::kw_expect => "`expect`",
        Rule::kw_run => "`run`",
        Rule::kw_with => "`with`",
        Rule::kw_returns => "`returns`",
        Rule::kw_fails => "`fails`",
        Rule::kw_takes => "`takes`",
        Rule::kw_times => "`times`",
        Rule::kw_called => "`called`",
        Rule::kw_attempts => "`attempts`",
        Rule::kw_status => "`status`",
        Rule::kw_event => "`event`",
        Rule::kw_step => "`step`",
        Rule::kw_dead_letter => "`dead_letter`",
        Rule::test_decl => "`test`",
        Rule::test_stmt => "a test statement",
        Rule::test_mock => "`mock`",
        Rule::mock_takes => "`takes`",
        Rule::mock_fails => "`fails`",
        Rule::mock_returns => "`returns`",
        Rule::test_run => "`run`",
        Rule::given_event | Rule::given_metric => "`given`",
        Rule::test_expect => "`expect`",
        Rule::expectation => "an expectation",
        Rule::expect_called => "`AGENT called N times`",
        Rule::expect_status => "`status`",
        Rule::run_status => "`completed` or `failed`",
        Rule::status_completed => "`completed`",
        Rule::status_failed => "`failed`",
        Rule::expect_dead_letter => "`dead_letter`",
        Rule::expect_event => "`event`",
        Rule::expect_metric => "`metric`",
        Rule::expect_step => "`step`",
        Rule::step_attempts => "`attempts`",
        Rule::step_resolved => "`resolved`",
        Rule::step_timed_out => "`timed_out`",
        Rule::test_send => "`send`",
        Rule::send_after => "`after`",
        Rule::expect_output => "`output`",
        Rule::metric_decl => "`metric`",
        Rule::metric_prop => "a metric property",
        Rule::metric_unit => "`unit`",
        Rule::metric_description => "`description`",
        Rule::loop_index => "`, index`",
        Rule::loop_body => "a loop body `{ … }`",
        Rule::loop_yield => "`yield`",
        Rule::key | Rule::key_word => "a field name",
        Rule::number | Rule::signed_number => "a number",
        Rule::duration => "a duration like `500ms` or `30s`",
        Rule::date => "a date like `2026-12-31`",
        Rule::string | Rule::string_body => "a string",
        Rule::escape => "an escape like `\\n`",
        Rule::ident_list => "a list of names like `[a, b]`",
        Rule::string_list => "a list of strings like `[\"sh\", \"agent.sh\"]`",
        Rule::file | Rule::item | Rule::next_item | Rule::file_end => "a declaration",
        Rule::import => "`import`",
        Rule::import_at => "`at \"revision\"`",
        Rule::timezone => "`timezone`",
        Rule::retry_decl => "`retry`",
        Rule::retry_attempts => "`attempts`",
        Rule::retry_backoff => "`backoff`",
        Rule::backoff_kind => "`exponential`, `linear` or `constant`",
        Rule::backoff_exponential => "`exponential`",
        Rule::backoff_linear => "`linear`",
        Rule::backoff_constant => "`constant`",
        Rule::backoff_factor => "`factor`",
        Rule::backoff_max => "`max`",
        Rule::retry_jitter => "`jitter`",
        Rule::jitter_kind => "`none`, `full` or `equal`",
        Rule::jitter_none => "`none`",
        Rule::jitter_full => "`full`",
        Rule::jitter_equal => "`equal`",
        Rule::retry_on => "`retry_on`",
        Rule::breaker_decl => "`breaker`",
        Rule::breaker_open_after => "`open_after`",
        Rule::breaker_cool_down => "`cool_down`",
        Rule::agent_decl => "`agent`",
        Rule::department => "`department`",
        Rule::skills => "`skills`",
        Rule::agent_input | Rule::workflow_input => "`input`",
        Rule::agent_output => "`output`",
        Rule::agent_run => "`run`",
        Rule::agent_cwd => "`cwd`",
        Rule::agent_env => "`env`",
        Rule::agent_compute => "`compute`",
        Rule::agent_timeout | Rule::call_timeout | Rule::await_timeout => "`timeout`",
        Rule::agent_retry | Rule::call_retry | Rule::workflow_retry => "`retry`",
        Rule::agent_breaker => "`breaker`",
        Rule::agent_capacity => "`capacity`",
        Rule::type_expr | Rule::type_name | Rule::type_only => "a type",
        Rule::type_number => "`number`",
        Rule::type_string => "`string`",
        Rule::type_bool => "`bool`",
        Rule::type_null => "`null`",
        Rule::type_any => "`any`",
        Rule::optional_mark => "`?`",
        Rule::list_type => "a list type like `[number]`",
        Rule::object_type => "an object type like `{ amount: number }`",
        Rule::type_field => "a field like `amount: number`",
        Rule::trigger_decl => "`trigger`",
        Rule::trigger_cron => "`cron`",
        Rule::trigger_event => "`on event`",
        Rule::trigger_metric => "`when metric`",
        Rule::trigger_manual => "`manual`",
        Rule::trigger_missed => "`missed`",
        Rule::missed_policy => "`run_once` or `skip`",
        Rule::missed_run_once => "`run_once`",
        Rule::missed_skip => "`skip`",
        Rule::metric_ref => "a metric like `sum(revenue) per month`",
        Rule::per_period => "`per`",
        Rule::compare_op => "a comparison like `>=`",
        Rule::op_eq => "`==`",
        Rule::op_ne => "`!=`",
        Rule::op_ge => "`>=`",
        Rule::op_le => "`<=`",
        Rule::op_gt => "`>`",
        Rule::op_lt => "`<`",
        Rule::workflow_decl | Rule::workflow_instance => "`workflow`",
        Rule::template_decl => "`template`",
        Rule::template_param => "a parameter like `reviewer: agent { id: string } -> { ok: bool }`",
        Rule::param_kind => {
            "a parameter's kind: `agent … -> …`, `workflow … -> …`, `retry` or a type"
        }
        Rule::param_agent => "`agent`",
        Rule::param_workflow => "`workflow`",
        Rule::param_retry => "`retry`",
        Rule::param_duration => "`duration`",
        Rule::template_value => "a value or a duration",
        Rule::step_duration => "a duration like `30s`",
        Rule::template_arg => "an argument like `threshold: 5000`",
        Rule::workflow_version => "`version`",
        Rule::workflow_on => "`on`",
        Rule::workflow_chain => "`chain`",
        Rule::workflow_steps => "`steps`",
        Rule::workflow_record => "`record`",
        Rule::workflow_output => "`output`",
        Rule::workflow_on_failure => "`on_failure`",
        Rule::failure_policy => "`dead_letter` or `fail`",
        Rule::failure_dead_letter => "`dead_letter`",
        Rule::failure_fail => "`fail`",
        Rule::goal_decl => "`goal`",
        Rule::goal_title => "`title`",
        Rule::goal_kpi => "`kpi`",
        Rule::kpi_deadline => "`by`",
        Rule::goal_weight => "`weight`",
        Rule::goal_team => "`team`",
        Rule::team_size => "`size`",
        Rule::goal_pursued_by => "`pursued_by`",
        Rule::block => "a block `{ … }`",
        Rule::let_stmt => "`let`",
        Rule::bind_stmt => "a step like `name = agent(input)`",
        Rule::call => "an agent call like `agent(input)`",
        Rule::any_target => "`any`",
        Rule::workflow_target => "`workflow`",
        Rule::when_stmt => "`when`",
        Rule::else_when | Rule::else_block => "`else`",
        Rule::for_stmt => "`for`",
        Rule::parallel_for_stmt | Rule::parallel_stmt => "`parallel`",
        Rule::parallel_limit => "`limit`",
        Rule::try_stmt => "`try`",
        Rule::fail_stmt => "`fail`",
        Rule::emit_stmt => "`emit`",
        Rule::payload => "an object payload",
        Rule::wait_stmt => "`wait`",
        Rule::await_expr => "`await`",
        Rule::await_where => "`where`",
        Rule::expr | Rule::postfix => "an expression",
        Rule::prefix_op => "`not` or `-`",
        Rule::infix_op => "an operator",
        Rule::op_not => "`not`",
        Rule::op_negate | Rule::op_subtract => "`-`",
        Rule::op_and => "`and`",
        Rule::op_or => "`or`",
        Rule::op_add => "`+`",
        Rule::op_multiply => "`*`",
        Rule::op_divide => "`/`",
        Rule::op_remainder => "`%`",
        Rule::field => "`.`",
        Rule::index => "`[`",
        Rule::if_expr => "`if`",
        Rule::literal | Rule::boolean | Rule::null => "a value",
        Rule::bool_true => "`true`",
        Rule::bool_false => "`false`",
        Rule::list => "a list",
        Rule::object => "an object like `{ field: value }`",
        Rule::object_field => "a field like `name: value`",
        Rule::input_ref => "`input`",
        Rule::function_call => "a function call",
        Rule::paren => "`(`",
        Rule::fmt_file
        | Rule::fmt_space
        | Rule::fmt_newlines
        | Rule::fmt_token
        | Rule::fmt_word
        | Rule::fmt_punct => "a token",
        Rule::line_comment | Rule::block_comment => "a comment",
    }
}

#[cfg(test)]
mod tests {
    use super::{human_name, Rule};

    #[test]
    fn every_word_rule_is_named_as_its_word() {
        let words: Vec<&Rule> = Rule::all_rules()
            .iter()
            .filter(|r| format!("{r:?}").starts_with("kw_"))
            .collect();
        assert!(words.len() > 20);
        for rule in words {
            let word = format!("{rule:?}")["kw_".len()..].to_string();
            assert_eq!(human_name(*rule), format!("`{word}`"));
        }
    }
}

//! The stable diagnostic codes. A code, once published, keeps its meaning: editors,
//! CI scripts and `--format json` consumers match on it.

use miette::Severity;

macro_rules! codes {
    ($($variant:ident => $name:literal, $severity:ident;)*) => {
        /// Every diagnostic `wfc` can report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code without its `wf::` prefix, e.g. `unknown_agent`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }
        }
    };
}

codes! {
    // Reading and parsing.
    Syntax => "syntax", Error;
    TooDeeplyNested => "too_deeply_nested", Error;
    DuplicateProperty => "duplicate_property", Error;
    ImportNotFound => "import_not_found", Error;
    ImportCycle => "import_cycle", Error;
    UnknownRevision => "unknown_revision", Error;
    // Names.
    DuplicateAgent => "duplicate_agent", Error;
    DuplicateTrigger => "duplicate_trigger", Error;
    DuplicateWorkflow => "duplicate_workflow", Error;
    DuplicateRetry => "duplicate_retry", Error;
    DuplicateBreaker => "duplicate_breaker", Error;
    DuplicateGoal => "duplicate_goal", Error;
    DuplicateMetric => "duplicate_metric", Error;
    DuplicateTest => "duplicate_test", Error;
    DuplicateAlert => "duplicate_alert", Error;
    DuplicateTemplate => "duplicate_template", Error;
    DuplicateStep => "duplicate_step", Error;
    UnknownAgent => "unknown_agent", Error;
    UnknownTrigger => "unknown_trigger", Error;
    UnknownWorkflow => "unknown_workflow", Error;
    UnknownRetry => "unknown_retry", Error;
    UnknownBreaker => "unknown_breaker", Error;
    UnknownStep => "unknown_step", Error;
    UsedBeforeDefined => "used_before_defined", Error;
    SiblingBranchRead => "sibling_branch_read", Error;
    OutOfScope => "out_of_scope", Error;
    UnknownFunction => "unknown_function", Error;
    UnknownSkill => "unknown_skill", Error;
    NoAgentWithSkills => "no_agent_with_skills", Error;
    UnknownErrorKind => "unknown_error_kind", Error;
    UnknownAggregation => "unknown_aggregation", Error;
    UnknownPeriod => "unknown_period", Error;
    UnknownGoal => "unknown_goal", Error;
    UnknownGoalStatus => "unknown_goal_status", Error;
    UnknownAlertSignal => "unknown_alert_signal", Error;
    UnknownTemplate => "unknown_template", Error;
    UnknownArgument => "unknown_argument", Error;
    MissingArgument => "missing_argument", Error;
    UnknownDuration => "unknown_duration", Error;
    // Types.
    TypeMismatch => "type_mismatch", Error;
    InputMismatch => "input_mismatch", Error;
    ChainMismatch => "chain_mismatch", Error;
    ArgumentMismatch => "argument_mismatch", Error;
    UnknownField => "unknown_field", Error;
    ComputeMismatch => "compute_mismatch", Error;
    WrongArity => "wrong_arity", Error;
    LoopWithoutResult => "loop_without_result", Error;
    // Values.
    InvalidCron => "invalid_cron", Error;
    UnknownTimezone => "unknown_timezone", Error;
    InvalidDuration => "invalid_duration", Error;
    InvalidAttempts => "invalid_attempts", Error;
    InvalidFactor => "invalid_factor", Error;
    MaxBelowInitial => "max_below_initial", Error;
    InvalidDate => "invalid_date", Error;
    InvalidVersion => "invalid_version", Error;
    InvalidWeight => "invalid_weight", Error;
    InvalidCount => "invalid_count", Error;
    InvalidNumber => "invalid_number", Error;
    InvalidEventPattern => "invalid_event_pattern", Error;
    InvalidEventName => "invalid_event_name", Error;
    InvalidMetricName => "invalid_metric_name", Error;
    EmptyCommand => "empty_command", Error;
    InvalidUrl => "invalid_url", Error;
    MisplacedSecret => "misplaced_secret", Error;
    InvalidEnv => "invalid_env", Error;
    InvalidModelSetting => "invalid_model_setting", Error;
    // Shape of declarations.
    MissingAgentBody => "missing_agent_body", Error;
    ConflictingAgentBody => "conflicting_agent_body", Error;
    IncompleteModel => "incomplete_model", Error;
    EmptyWorkflow => "empty_workflow", Error;
    ConflictingWorkflowBody => "conflicting_workflow_body", Error;
    EmptyTrigger => "empty_trigger", Error;
    TestStart => "test_start", Error;
    ConflictingTrigger => "conflicting_trigger", Error;
    IncompleteAlert => "incomplete_alert", Error;
    AwaitWithoutTimeout => "await_without_timeout", Error;
    // The program as a graph.
    WorkflowCycle => "workflow_cycle", Error;
    UnreachableWorkflow => "unreachable_workflow", Warning;
    UnusedTrigger => "unused_trigger", Warning;
    UnrecordedMetric => "unrecorded_metric", Warning;
    UnreachableCatch => "unreachable_catch", Warning;
    UnmeasuredGoal => "unmeasured_goal", Warning;
    ShadowedEvent => "shadowed_event", Warning;
    // The environment (`wfc check`, and with `--env` its secrets).
    UnsetSecret => "unset_secret", Warning;
    MissingProgram => "missing_program", Warning;
    // What a change breaks against a revision (`wfc check --against REV`).
    RemovedDeclaration => "removed_declaration", Error;
    InputNarrowed => "input_narrowed", Error;
    OutputNarrowed => "output_narrowed", Error;
    ParameterNarrowed => "parameter_narrowed", Error;
    TriggerNarrowed => "trigger_narrowed", Error;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wf::{}", self.name())
    }
}

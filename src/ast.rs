//! The typed syntax tree of a `.wf` file: plain data with spans. It knows nothing of
//! pest; `crate::syntax` builds it and `crate::check` reads it.

use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// Any value with the place it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// A duration in milliseconds; saturates at `u64::MAX` for absurdly long literals so
/// that the checker, not the parser, reports them.
pub use crate::duration::Millis;

/// `import "path"`, or `import "path" at "rev"`: read at a git revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub path: Spanned<String>,
    pub at: Option<Spanned<String>>,
}

/// One parsed file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Import(Import),
    Timezone(Spanned<String>),
    Retry(RetryPolicy),
    Breaker(Breaker),
    Agent(Agent),
    Trigger(Trigger),
    Workflow(Workflow),
    Template(Template),
    Goal(Goal),
    Metric(Metric),
    Alert(Alert),
    Test(Test),
}

/// `alert name { when … notify webhook "…" emit "…" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub name: Ident,
    pub condition: Option<AlertCondition>,
    pub webhook: Option<Spanned<String>>,
    pub emit: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlertCondition {
    /// `failure_rate(workflow) > 0.2 within 15m`.
    Signal {
        signal: Ident,
        workflow: Ident,
        op: CompareOp,
        threshold: Spanned<f64>,
        within: Spanned<Millis>,
        span: Span,
    },
    /// `goal name is at_risk`.
    Goal {
        goal: Ident,
        status: Ident,
        span: Span,
    },
}

/// `test "name" { … }`: mocks, what it runs, and what must hold after.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub name: Spanned<String>,
    pub statements: Vec<TestStatement>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TestStatement {
    Mock(Mock),
    /// `run workflow [with input]`.
    Run {
        workflow: Ident,
        input: Option<Expr>,
        span: Span,
    },
    /// `given event "name" { payload }`: the workflows it triggers run.
    GivenEvent {
        event: Spanned<String>,
        payload: Option<Expr>,
        span: Span,
    },
    /// `send event "name" { payload } after D`: recorded at that virtual time
    /// after the run starts, for its `await` steps.
    Send {
        event: Spanned<String>,
        payload: Option<Expr>,
        after: Option<Spanned<Millis>>,
        span: Span,
    },
    /// `given metric name = value`: a sample recorded before anything runs.
    GivenMetric {
        metric: Spanned<String>,
        value: Spanned<f64>,
        span: Span,
    },
    Expect(Expectation),
}

/// `mock agent [takes D] [fails KIND [N times] [then returns V] | returns V]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mock {
    pub agent: Ident,
    pub takes: Option<Spanned<Millis>>,
    /// The kind it fails with, and for how many calls (every call without a count).
    pub fails: Option<(Ident, Option<Spanned<f64>>)>,
    /// Its output, an expression over the call's `input`.
    pub returns: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub kind: ExpectationKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExpectationKind {
    Status(RunStatus),
    DeadLetter,
    Event {
        event: Spanned<String>,
        payload: Option<Expr>,
    },
    Metric(Threshold),
    Called {
        agent: Ident,
        times: Spanned<f64>,
    },
    StepAttempts {
        step: Spanned<String>,
        attempts: Spanned<f64>,
    },
    /// `step decision resolved [with value]`: an `await` decided (with that payload).
    StepResolved {
        step: Spanned<String>,
        with: Option<Expr>,
    },
    /// `step decision timed_out`: an `await` whose deadline passed.
    StepTimedOut {
        step: Spanned<String>,
    },
    /// `output.a[0] op value`.
    Output {
        path: Vec<Access>,
        op: CompareOp,
        value: Expr,
    },
}

/// One step of a path into a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    Field(Ident),
    Index(Expr),
}

/// `metric name { unit "…" description "…" }`: a metric fed from outside.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The series name, possibly dotted.
    pub name: Ident,
    pub unit: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub name: Ident,
    pub attempts: Option<Spanned<f64>>,
    pub backoff: Option<Backoff>,
    pub jitter: Option<Spanned<Jitter>>,
    /// Error kinds that are retried; `None` means every retryable kind.
    pub retry_on: Option<Vec<Ident>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    pub kind: BackoffKind,
    pub initial: Spanned<Millis>,
    pub factor: Option<Spanned<f64>>,
    pub max: Option<Spanned<Millis>>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffKind {
    Exponential,
    Linear,
    Constant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    None,
    Full,
    Equal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Breaker {
    pub name: Ident,
    pub open_after: Option<Spanned<f64>>,
    pub window: Option<Spanned<Millis>>,
    pub cool_down: Option<Spanned<Millis>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub name: Ident,
    pub department: Option<Ident>,
    pub skills: Vec<Ident>,
    pub input: Option<TypeExpr>,
    pub output: Option<TypeExpr>,
    /// Every `run` or `compute` clause; the checker wants exactly one.
    pub bodies: Vec<AgentBody>,
    pub cwd: Option<Spanned<String>>,
    /// A subprocess's extra environment: an object expression over `input` and
    /// secrets, every value a string.
    pub env: Option<Expr>,
    pub timeout: Option<Spanned<Millis>>,
    pub retry: Option<Ident>,
    pub breaker: Option<Ident>,
    pub capacity: Option<Spanned<f64>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AgentBody {
    /// A subprocess: argv, run without a shell.
    Run(Spanned<Vec<Spanned<String>>>),
    /// A pure object expression over `input`.
    Compute(Expr),
    /// An HTTP service.
    Http(HttpAgent),
    /// A language model (boxed: it is the largest body by far).
    Llm(Box<LlmAgent>),
}

/// `llm "model" endpoint "url" [key …] [system """…"""] prompt """…""" [temperature n]
/// [max_tokens n] [price input n output n]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmAgent {
    pub model: Spanned<String>,
    pub endpoint: Option<Spanned<String>>,
    /// The API key: an expression over secrets, sent as a bearer token.
    pub key: Option<Expr>,
    pub system: Option<TextBlock>,
    pub prompt: Option<TextBlock>,
    pub temperature: Option<Spanned<f64>>,
    pub max_tokens: Option<Spanned<f64>>,
    /// US dollars per million input and output tokens.
    pub price: Option<Spanned<(f64, f64)>>,
    pub span: Span,
}

/// A `"""` text block with `{{ expr }}` holes, its common indentation already removed.
#[derive(Debug, Clone, PartialEq)]
pub struct TextBlock {
    pub parts: Vec<TextPart>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TextPart {
    Text(String),
    Hole(Expr),
}

/// `http METHOD "url" [headers { … }]`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpAgent {
    pub method: HttpMethod,
    pub url: Spanned<String>,
    /// An object expression over `input`; every value a string.
    pub headers: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn name(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

impl AgentBody {
    pub fn span(&self) -> Span {
        match self {
            AgentBody::Run(argv) => argv.span,
            AgentBody::Compute(expr) => expr.span,
            AgentBody::Http(http) => http.span,
            AgentBody::Llm(llm) => llm.span,
        }
    }
}

/// A type as written in `input`/`output` declarations.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeExprKind {
    Number,
    String,
    Bool,
    Null,
    Any,
    List(Box<TypeExpr>),
    Object(Vec<(Ident, TypeExpr)>),
    Optional(Box<TypeExpr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub name: Ident,
    /// Every firing clause; the checker wants exactly one.
    pub kinds: Vec<TriggerKind>,
    pub timezone: Option<Spanned<String>>,
    /// For cron: what to do with slots missed while no server ran.
    pub missed: Option<Spanned<MissedSlots>>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedSlots {
    /// Run once for the latest missed slot (the default).
    #[default]
    RunOnce,
    /// Skip them (they are logged).
    Skip,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TriggerKind {
    Cron(Spanned<String>),
    Event(Spanned<String>),
    Metric(Threshold),
    Manual(Span),
}

impl TriggerKind {
    pub fn span(&self) -> Span {
        match self {
            TriggerKind::Cron(s) | TriggerKind::Event(s) => s.span,
            TriggerKind::Metric(t) => t.span,
            TriggerKind::Manual(span) => *span,
        }
    }
}

/// `metric op value`, shared by metric triggers and goal KPIs.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: MetricRef,
    pub op: CompareOp,
    pub target: Spanned<f64>,
    pub span: Span,
}

/// A read of a metric series: `sum(revenue) per month`, `latest(x)` or a bare name.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRef {
    /// The aggregation as written; `None` for a bare name.
    pub aggregation: Option<Ident>,
    /// The metric name as written, possibly with a period suffix (`revenue.monthly`).
    pub metric: Spanned<String>,
    pub period: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
    Ne,
}

impl CompareOp {
    /// Whether `left op right` holds.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CompareOp::Ge => left >= right,
            CompareOp::Le => left <= right,
            CompareOp::Gt => left > right,
            CompareOp::Lt => left < right,
            CompareOp::Eq => left == right,
            CompareOp::Ne => left != right,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Ge => ">=",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Lt => "<",
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub name: Ident,
    pub version: Option<Spanned<String>>,
    pub triggers: Vec<Ident>,
    pub input: Option<TypeExpr>,
    /// Every `chain` or `steps` clause; the checker wants exactly one.
    pub bodies: Vec<WorkflowBody>,
    pub records: Vec<Record>,
    pub output: Option<Expr>,
    pub on_failure: Option<Spanned<FailurePolicy>>,
    /// The retry policy for its agent calls, between a step's own and the agent's.
    pub retry: Option<Ident>,
    /// `workflow w = t(args) { … }`: the template it is made from; its body,
    /// input and output come from there.
    pub instance_of: Option<Instance>,
    pub span: Span,
}

/// `template name(params) { workflow properties }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: Ident,
    pub params: Vec<Param>,
    /// The body, as a workflow named after the template.
    pub body: Workflow,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub kind: ParamKind,
    pub default: Option<Argument>,
    pub span: Span,
}

/// A template argument (or a parameter's default): a duration or a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Argument {
    Duration(Spanned<Millis>),
    Value(Expr),
}

impl Argument {
    pub fn span(&self) -> Span {
        match self {
            Argument::Duration(d) => d.span,
            Argument::Value(e) => e.span,
        }
    }
}

/// What a template parameter stands for, and the contract its argument meets.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// An agent taking at least `input` and giving at least `output`.
    Agent {
        input: TypeExpr,
        output: TypeExpr,
    },
    /// A sub-workflow, likewise.
    Workflow {
        input: TypeExpr,
        output: TypeExpr,
    },
    Retry,
    /// A duration, usable wherever a step takes one written out (`timeout`,
    /// `wait`, an `await`'s deadline).
    Duration,
    /// A value of that type, read by name in the body's expressions.
    Value(TypeExpr),
}

/// `= template(name: value, …)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub template: Ident,
    pub args: Vec<(Ident, Argument)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WorkflowBody {
    /// Agents in order; each one's output is the next one's input.
    Chain(Spanned<Vec<Ident>>),
    Steps(Block),
}

impl WorkflowBody {
    pub fn span(&self) -> Span {
        match self {
            WorkflowBody::Chain(c) => c.span,
            WorkflowBody::Steps(b) => b.span,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    DeadLetter,
    Fail,
}

/// `record metric = expr`: a metric sample written when the workflow completes.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub metric: Spanned<String>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub statements: Vec<Statement>,
    pub span: Span,
}

impl Block {
    /// Calls `visit` on every statement of the block and of the blocks nested in it,
    /// outer statements before inner ones.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Statement)) {
        for statement in &self.statements {
            visit(statement);
            for inner in statement.blocks() {
                inner.walk(visit);
            }
        }
    }
}

impl Block {
    /// The names this block binds in its own scope, in the order a reader meets them:
    /// those bound inside `when`, `try` and `parallel` branches included (they stay
    /// visible after), loop bodies excluded (they do not leak).
    pub fn bound_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        for statement in &self.statements {
            statement.bound_names_into(&mut names);
        }
        names
    }
}

impl Statement {
    /// The names this statement binds, as [`Block::bound_names`] counts them.
    pub fn bound_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.bound_names_into(&mut names);
        names
    }

    fn bound_names_into<'a>(&'a self, names: &mut Vec<&'a str>) {
        let mut push = |name: &'a Ident| {
            if !names.contains(&name.name.as_str()) {
                names.push(&name.name);
            }
        };
        match &self.kind {
            StatementKind::Call { name, .. }
            | StatementKind::Let { name, .. }
            | StatementKind::Await { name, .. } => push(name),
            StatementKind::For(for_loop) => {
                if let Some(result) = &for_loop.result {
                    push(result);
                }
            }
            StatementKind::When { .. } | StatementKind::Try { .. } | StatementKind::Parallel(_) => {
                for block in self.blocks() {
                    for statement in &block.statements {
                        statement.bound_names_into(names);
                    }
                }
            }
            StatementKind::Fail(_) | StatementKind::Emit { .. } | StatementKind::Wait(_) => {}
        }
    }

    /// The blocks directly inside this statement.
    pub fn blocks(&self) -> Vec<&Block> {
        match &self.kind {
            StatementKind::When {
                branches,
                otherwise,
            } => branches.iter().map(|(_, b)| b).chain(otherwise).collect(),
            StatementKind::For(for_loop) => vec![&for_loop.body],
            StatementKind::Parallel(block) => vec![block],
            StatementKind::Try { body, catches } => std::iter::once(body)
                .chain(catches.iter().map(|c| &c.handler))
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `name = agent(arg)`, `name = any [skills](arg)`, `name = workflow w(arg)`.
    Call {
        name: Ident,
        call: Call,
    },
    /// `let name = expr`.
    Let {
        name: Ident,
        value: Expr,
    },
    /// `when c { … } else when d { … } else { … }`: the first true condition's block runs.
    When {
        branches: Vec<(Expr, Block)>,
        otherwise: Option<Block>,
    },
    /// `[name =] [parallel] for item in list [limit n] { … }`.
    For(ForLoop),
    /// Each statement of the block is one concurrent branch.
    Parallel(Block),
    /// `try { … } catch kinds as err { … } …`: the first clause taking the failure's
    /// kind handles it; a kind no clause takes goes on, unchanged.
    Try {
        body: Block,
        catches: Vec<Catch>,
    },
    Fail(Expr),
    Emit {
        event: Spanned<String>,
        payload: Option<Expr>,
    },
    Wait(StepDuration),
    /// `name = await "pattern" { shape } where condition timeout d`.
    Await {
        name: Ident,
        awaited: Await,
    },
}

/// What an `await` step waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct Await {
    /// An event name or glob, as in triggers.
    pub pattern: Spanned<String>,
    /// The payload's type; without one, any object.
    pub shape: Option<TypeExpr>,
    /// Over `event` (the payload) and what is in scope.
    pub condition: Option<Expr>,
    /// Required by the checker.
    pub timeout: Option<StepDuration>,
    pub span: Span,
}

/// A duration in a step: written out, or a template's `duration` parameter
/// (which the checker replaces with its argument).
#[derive(Debug, Clone, PartialEq)]
pub enum StepDuration {
    Written(Spanned<Millis>),
    Param(Ident),
}

impl StepDuration {
    pub fn span(&self) -> Span {
        match self {
            StepDuration::Written(d) => d.span,
            StepDuration::Param(name) => name.span,
        }
    }

    /// The duration, once it is written out.
    pub fn written(&self) -> Option<&Spanned<Millis>> {
        match self {
            StepDuration::Written(d) => Some(d),
            StepDuration::Param(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catch {
    /// The error kinds it takes, as written; empty for every kind.
    pub kinds: Vec<Ident>,
    pub error: Ident,
    pub handler: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForLoop {
    /// The name that collects the iterations' results, if any.
    pub result: Option<Ident>,
    pub item: Ident,
    /// `for item, i in …`: the iteration's index, from 0.
    pub index: Option<Ident>,
    pub list: Expr,
    pub parallel: bool,
    pub limit: Option<Spanned<f64>>,
    pub body: Block,
    /// `yield expr` at the end of the body: each iteration's value.
    pub value: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub target: CallTarget,
    pub argument: Expr,
    pub timeout: Option<StepDuration>,
    pub retry: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallTarget {
    Agent(Ident),
    /// `any [skill, …]`: the least-loaded agent having every skill.
    AnyWithSkills(Spanned<Vec<Ident>>),
    Workflow(Ident),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub name: Ident,
    pub title: Option<Spanned<String>>,
    pub department: Option<Ident>,
    pub kpi: Option<Kpi>,
    pub weight: Option<Spanned<f64>>,
    pub team: Option<Team>,
    pub pursued_by: Vec<Ident>,
    pub children: Vec<Goal>,
    /// Its `///` doc comment: filled in when the checked program takes the
    /// goal tree (the parser keeps no comments).
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    pub threshold: Threshold,
    pub deadline: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub skills: Vec<Ident>,
    pub size: Option<Spanned<f64>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    /// Its direct sub-expressions, in source order: what a walk over an
    /// expression visits next (walks keep their own stack: no recursion).
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Field(inner, _) | ExprKind::Unary(_, inner) => vec![inner],
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::If(a, b, c) => vec![a, b, c],
            ExprKind::List(items) | ExprKind::Call(_, items) => items.iter().collect(),
            ExprKind::Object(fields) => fields.iter().map(|(_, e)| e).collect(),
            ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Input
            | ExprKind::Name(_) => Vec::new(),
        }
    }

    /// [`Expr::children`], to change them.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.kind {
            ExprKind::Field(inner, _) | ExprKind::Unary(_, inner) => vec![inner],
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::If(a, b, c) => vec![a, b, c],
            ExprKind::List(items) | ExprKind::Call(_, items) => items.iter_mut().collect(),
            ExprKind::Object(fields) => fields.iter_mut().map(|(_, e)| e).collect(),
            ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Input
            | ExprKind::Name(_) => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(f64),
    String(String),
    Bool(bool),
    Null,
    List(Vec<Expr>),
    Object(Vec<(Ident, Expr)>),
    Input,
    Name(Ident),
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Ident, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Negate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Compare(CompareOp),
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
}

impl BinaryOp {
    /// Binding power: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Compare(_) => 3,
            BinaryOp::Add | BinaryOp::Subtract => 4,
            BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Remainder => 5,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Compare(op) => op.symbol(),
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Remainder => "%",
        }
    }
}

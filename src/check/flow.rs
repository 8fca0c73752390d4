//! Workflows and agents as data flow: every name a step reads is bound before it on
//! every path, every call gets the input its agent declares, chains connect, and
//! `compute` bodies produce their declared output.

use super::expr::{self, type_of, Env};
use super::scope::{Binding, Scope};
use super::values::unknown_error_kind;
use super::Declarations;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::program::ErrorKind;
use crate::source::Span;
use crate::text as suggest;
use crate::types::Type;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// The name an `await`'s `where` reads the payload by.
const EVENT: &str = "event";

/// Checks names and types in every agent and workflow; answers each
/// workflow's output type.
pub fn check(program: &Declarations, out: &mut Vec<Diagnostic>) -> HashMap<String, Type> {
    let context = Context {
        program,
        signatures: program
            .agents
            .iter()
            .map(|(name, a)| (name.clone(), (declared(&a.input), declared(&a.output))))
            .collect(),
        outputs: RefCell::new(HashMap::new()),
    };
    for agent in program.agents.values() {
        check_agent(agent, program, out);
    }
    // Callees first, so each call's output type is known when its caller is
    // analysed: no recursion from caller to callee (a chain of 60,000
    // sub-workflows once overflowed the stack).
    for workflow in super::graph::callees_first(program) {
        let (_, diagnostics) = context.analyze(workflow);
        out.extend(diagnostics);
    }
    context
        .outputs
        .into_inner()
        .into_iter()
        .filter_map(|(name, output)| Some((name, output?)))
        .collect()
}

/// The declared input type of an agent (`any` when it declares none).
pub fn declared(ty: &Option<TypeExpr>) -> Type {
    ty.as_ref().map_or(Type::Any, Type::from_ast)
}

fn check_agent(agent: &Agent, program: &Declarations, out: &mut Vec<Diagnostic>) {
    if let Some(retry) = &agent.retry {
        known_retry(retry, program, out);
    }
    if let Some(breaker) = &agent.breaker {
        reference(
            &program.breakers,
            breaker,
            Code::UnknownBreaker,
            "breaker",
            out,
        );
    }
    if let Some(env) = &agent.env {
        string_fields(env, "variable", agent, program, out);
    }
    for body in &agent.bodies {
        if let AgentBody::Http(HttpAgent {
            headers: Some(headers),
            ..
        }) = body
        {
            string_fields(headers, "header", agent, program, out);
        }
        if let AgentBody::Llm(llm) = body {
            language_model(llm, agent, program, out);
        }
        let AgentBody::Compute(body) = body else {
            continue;
        };
        let mut env = InputOnly::compute(program, declared(&agent.input));
        let produced = type_of(body, &mut env, out);
        let wanted = declared(&agent.output);
        if let (Err(mismatch), Some(output)) = (produced.fits(&wanted), &agent.output) {
            out.push(
                Diagnostic::new(
                    Code::ComputeMismatch,
                    body.span,
                    format!(
                        "`compute` of agent `{}` does not produce its declared output",
                        agent.name.name
                    ),
                    mismatch.to_string(),
                )
                .with_label(output.span, "declared output"),
            );
        }
    }
}

/// An HTTP agent's `headers` or a subprocess's `env`: an object over `input` and
/// secrets whose every value is a string.
fn string_fields(
    object: &Expr,
    what: &str,
    agent: &Agent,
    program: &Declarations,
    out: &mut Vec<Diagnostic>,
) {
    let mut env = InputOnly {
        secrets: true,
        ..InputOnly::compute(program, declared(&agent.input))
    };
    let ty = type_of(object, &mut env, out);
    let ExprKind::Object(fields) = &object.kind else {
        return;
    };
    let Type::Object(types) = ty else {
        return;
    };
    for (name, value) in fields {
        if let Some(field) = types.get(&name.name) {
            let context = format!("{what} `{}`", name.name);
            expr::expect(field, &Type::String, value.span, &context, out);
        }
    }
}

/// A language model's `key` (a string, secrets allowed) and the holes of its
/// templates (over `input`, like a compute body: a prompt is sent and recorded
/// nowhere, but a model may repeat it in its answer, so no secrets there).
fn language_model(
    llm: &LlmAgent,
    agent: &Agent,
    program: &Declarations,
    out: &mut Vec<Diagnostic>,
) {
    let input = declared(&agent.input);
    if let Some(key) = &llm.key {
        let mut env = InputOnly {
            secrets: true,
            ..InputOnly::compute(program, input.clone())
        };
        let ty = type_of(key, &mut env, out);
        expr::expect(&ty, &Type::String, key.span, "`key`", out);
    }
    let mut env = InputOnly {
        place: "not visible in a prompt",
        help: "a prompt sees only `input`; write holes like `{{ input.amount }}`",
        ..InputOnly::compute(program, input)
    };
    for template in llm.system.iter().chain(&llm.prompt) {
        for part in &template.parts {
            if let TextPart::Hole(hole) = part {
                type_of(hole, &mut env, out);
            }
        }
    }
}

fn known_retry(retry: &Ident, program: &Declarations, out: &mut Vec<Diagnostic>) {
    reference(
        &program.retries,
        retry,
        Code::UnknownRetry,
        "retry policy",
        out,
    );
}

/// Reports `name` unless `declared` has it.
pub fn reference<T>(
    declared: &BTreeMap<String, T>,
    name: &Ident,
    code: Code,
    kind: &str,
    out: &mut Vec<Diagnostic>,
) {
    if !declared.contains_key(&name.name) {
        out.push(unknown(code, kind, name, declared.keys()));
    }
}

/// "unknown agent `x`" with a did-you-mean among the declared names of that kind.
pub fn unknown<'a>(
    code: Code,
    kind: &str,
    name: &Ident,
    declared: impl IntoIterator<Item = &'a String>,
) -> Diagnostic {
    let help = suggest::did_you_mean(&name.name, declared.into_iter().map(String::as_str));
    Diagnostic::new(
        code,
        name.span,
        format!("unknown {kind} `{}`", name.name),
        format!("no {kind} of this name is declared"),
    )
    .with_help_opt(help)
}

/// Where only `input` is visible: a compute body, a test's values. An unknown
/// name is reported as not visible `place`, with `help`.
pub(super) struct InputOnly<'p> {
    pub(super) program: &'p Declarations,
    pub(super) input: Type,
    pub(super) place: &'static str,
    pub(super) help: &'static str,
    /// In an HTTP agent's headers, a subprocess's `env` or a model's `key`,
    /// `secret("NAME")` may be read.
    pub(super) secrets: bool,
}

impl InputOnly<'_> {
    /// What a compute agent sees.
    fn compute(program: &Declarations, input: Type) -> InputOnly<'_> {
        InputOnly {
            program,
            input,
            place: "not visible in a `compute` body",
            help: "a compute agent sees only `input`; read fields like `input.amount`",
            secrets: false,
        }
    }
}

impl Env for InputOnly<'_> {
    fn program(&self) -> &Declarations {
        self.program
    }

    fn secrets_allowed(&self) -> bool {
        self.secrets
    }

    fn input_type(&self) -> Type {
        self.input.clone()
    }

    fn resolve(&mut self, name: &Ident, out: &mut Vec<Diagnostic>) -> Type {
        out.push(
            Diagnostic::new(
                Code::UnknownStep,
                name.span,
                format!("unknown name `{}`", name.name),
                self.place,
            )
            .with_help(self.help),
        );
        Type::Any
    }
}

/// Shared across workflows: the output type of each, for sub-workflow calls.
struct Context<'p> {
    program: &'p Declarations,
    /// Each agent's declared (input, output) types, converted once.
    signatures: HashMap<String, (Type, Type)>,
    /// Each workflow's output once analysed (`None` while it is).
    outputs: RefCell<HashMap<String, Option<Type>>>,
}

impl<'p> Context<'p> {
    fn input_of(&self, agent: &Agent) -> &Type {
        &self.signatures[&agent.name.name].0
    }

    fn output_of_agent(&self, agent: &Agent) -> &Type {
        &self.signatures[&agent.name.name].1
    }

    fn analyze(&self, workflow: &Workflow) -> (Type, Vec<Diagnostic>) {
        self.outputs
            .borrow_mut()
            .insert(workflow.name.name.clone(), None);
        let mut flow = Flow {
            context: self,
            scope: Scope::default(),
            input: declared(&workflow.input),
            definitions: HashMap::new(),
            siblings: Vec::new(),
            out: Vec::new(),
        };
        let output = flow.workflow(workflow);
        self.outputs
            .borrow_mut()
            .insert(workflow.name.name.clone(), Some(output.clone()));
        (output, flow.out)
    }

    /// A workflow's output type: known for every callee outside a call cycle
    /// (they are analysed first); `any` in a cycle, which `graph.rs` reports.
    fn output_of(&self, name: &str) -> Type {
        let outputs = self.outputs.borrow();
        outputs.get(name).cloned().flatten().unwrap_or(Type::Any)
    }
}

/// The analysis of one workflow.
struct Flow<'c, 'p> {
    context: &'c Context<'p>,
    scope: Scope,
    input: Type,
    /// Every binding made anywhere in the workflow, to explain names out of scope.
    definitions: HashMap<String, Vec<(Span, &'static str)>>,
    /// For each enclosing `parallel`, the names its other branches bind.
    siblings: Vec<HashMap<String, Span>>,
    out: Vec<Diagnostic>,
}

impl Env for Flow<'_, '_> {
    fn program(&self) -> &Declarations {
        self.context.program
    }

    fn input_type(&self) -> Type {
        self.input.clone()
    }

    fn resolve(&mut self, name: &Ident, out: &mut Vec<Diagnostic>) -> Type {
        if let Some(binding) = self.scope.lookup(&name.name) {
            return binding.ty.clone();
        }
        out.push(self.unbound(name));
        Type::Any
    }
}

impl Flow<'_, '_> {
    /// Returns the workflow's output type.
    fn workflow(&mut self, workflow: &Workflow) -> Type {
        let program = self.context.program;
        for trigger in &workflow.triggers {
            let triggers = &program.triggers;
            reference(
                triggers,
                trigger,
                Code::UnknownTrigger,
                "trigger",
                &mut self.out,
            );
        }
        if let Some(retry) = &workflow.retry {
            known_retry(retry, program, &mut self.out);
        }
        for body in &workflow.bodies {
            collect_definitions(body, &mut self.definitions);
        }
        self.scope.push();
        let mut result = Type::Any;
        if let Some(body) = workflow.bodies.first() {
            result = match body {
                WorkflowBody::Chain(chain) => self.chain(workflow, chain),
                WorkflowBody::Steps(block) => {
                    self.block_statements(block);
                    Type::Any
                }
            };
        }
        for record in &workflow.records {
            let ty = self.type_of(&record.value);
            let mut out = Vec::new();
            expr::expect(
                &ty,
                &Type::Number,
                record.value.span,
                "a metric sample",
                &mut out,
            );
            self.out.extend(out);
        }
        let frame_output = workflow.output.as_ref().map(|output| self.type_of(output));
        let frame = self.scope.pop();
        match (frame_output, workflow.bodies.first()) {
            (Some(ty), _) => ty,
            (None, Some(WorkflowBody::Steps(_))) => Type::Object(
                frame
                    .bindings()
                    .into_iter()
                    .map(|(name, b)| (name, b.ty))
                    .collect::<BTreeMap<_, _>>(),
            ),
            _ => result,
        }
    }

    fn type_of(&mut self, expr: &Expr) -> Type {
        let mut out = Vec::new();
        let ty = type_of(expr, self, &mut out);
        self.out.extend(out);
        ty
    }

    /// A chain: each agent's output must fit the next one's input. Returns the last
    /// agent's output type; binds each agent's name to its output for `record`/`output`.
    fn chain(&mut self, workflow: &Workflow, chain: &Spanned<Vec<Ident>>) -> Type {
        let program = self.context.program;
        let mut previous: Option<(&Ident, &Agent)> = None;
        let mut current = self.input.clone();
        for name in &chain.value {
            let Some(agent) = program.agents.get(&name.name) else {
                self.out.push(self.unknown_agent(name));
                previous = None;
                current = Type::Any;
                continue;
            };
            let wanted = self.context.input_of(agent);
            if let Err(mismatch) = current.fits(wanted) {
                let diagnostic = match previous {
                    Some((prev_name, prev_agent)) => Diagnostic::new(
                        Code::ChainMismatch,
                        name.span,
                        format!(
                            "`{}` cannot take the output of `{}`",
                            name.name, prev_name.name
                        ),
                        format!("its input: {mismatch}"),
                    )
                    .with_label(prev_name.span, format!("produces `{current}`"))
                    .with_help(chain_help(prev_agent, agent)),
                    None => Diagnostic::new(
                        Code::InputMismatch,
                        name.span,
                        format!(
                            "workflow `{}`'s input does not fit `{}`",
                            workflow.name.name, name.name
                        ),
                        mismatch.to_string(),
                    )
                    .with_help(format!("`{}` expects `{wanted}`", name.name)),
                };
                self.out.push(diagnostic);
            }
            current = self.context.output_of_agent(agent).clone();
            self.scope.bind(
                &name.name,
                Binding {
                    ty: current.clone(),
                    span: name.span,
                    narrowed: false,
                },
            );
            previous = Some((name, agent));
        }
        current
    }

    fn block_statements(&mut self, block: &Block) {
        for statement in &block.statements {
            self.statement(statement);
        }
    }

    /// Checks a block in a frame of its own and returns what it bound.
    fn nested(&mut self, block: &Block) -> Vec<(String, Binding)> {
        self.scope.push();
        self.block_statements(block);
        self.scope.pop().bindings()
    }

    fn statement(&mut self, statement: &Statement) {
        match &statement.kind {
            StatementKind::Call { name, call } => {
                let ty = self.call(call);
                self.bind(name, ty);
            }
            StatementKind::Let { name, value } => {
                let ty = self.type_of(value);
                self.bind(name, ty);
            }
            StatementKind::When {
                branches,
                otherwise,
            } => self.when(branches, otherwise.as_ref()),
            StatementKind::For(for_loop) => self.for_loop(for_loop),
            StatementKind::Parallel(block) => self.parallel(block),
            StatementKind::Try { body, catches } => {
                catch_kinds(catches, &mut self.out);
                // Either the body completed or one handler ran: a path each.
                let mut paths = vec![self.nested(body)];
                for catch in catches {
                    self.scope.push();
                    self.bind(&catch.error, error_type());
                    self.block_statements(&catch.handler);
                    let handled = self.scope.pop().bindings();
                    paths.push(
                        handled
                            .into_iter()
                            .filter(|(name, _)| *name != catch.error.name)
                            .collect(),
                    );
                }
                self.merge(paths, false);
            }
            StatementKind::Fail(value) => {
                // A message, or a caught error raised again as it is.
                let ty = self.type_of(value);
                let wanted = match ty.required() {
                    Type::Object(_) => error_type(),
                    _ => Type::String,
                };
                let mut out = Vec::new();
                expr::expect(&ty, &wanted, value.span, "`fail`", &mut out);
                self.out.extend(out.into_iter().map(|d| {
                    d.with_help("`fail` takes a message, or a caught error to raise it again")
                }));
            }
            StatementKind::Emit { payload, .. } => {
                if let Some(payload) = payload {
                    self.type_of(payload);
                }
            }
            StatementKind::Wait(_) => {}
            StatementKind::Await { name, awaited } => {
                let shape = awaited
                    .shape
                    .as_ref()
                    .map_or(Type::Object(BTreeMap::new()), Type::from_ast);
                if let Some(condition) = &awaited.condition {
                    self.await_condition(condition, &shape);
                }
                self.bind(name, shape);
            }
        }
    }

    /// `where`: a boolean over `event` (the payload, bound only here: a step of
    /// that name is shadowed, with a warning) and what is in scope.
    fn await_condition(&mut self, condition: &Expr, shape: &Type) {
        if let Some(step) = self.scope.lookup(EVENT) {
            self.out.push(
                Diagnostic::new(
                    Code::ShadowedEvent,
                    condition.span,
                    format!("`{EVENT}` in `where` is the awaited payload, not the step `{EVENT}`"),
                    "reads the payload",
                )
                .with_label(step.span, format!("the step `{EVENT}`, hidden in `where`"))
                .with_help("rename the step to read it in the condition"),
            );
        }
        self.scope.push();
        self.scope.bind(
            EVENT,
            Binding {
                ty: whole_event(shape, condition),
                span: condition.span,
                narrowed: false,
            },
        );
        let ty = self.type_of(condition);
        self.scope.pop();
        let mut out = Vec::new();
        expr::expect(
            &ty,
            &Type::Bool,
            condition.span,
            "a `where` condition",
            &mut out,
        );
        self.out.extend(out);
    }

    fn when(&mut self, branches: &[(Expr, Block)], otherwise: Option<&Block>) {
        let mut paths = Vec::new();
        for (condition, block) in branches {
            let ty = self.type_of(condition);
            let mut out = Vec::new();
            expr::expect(
                &ty,
                &Type::Bool,
                condition.span,
                "a `when` condition",
                &mut out,
            );
            self.out.extend(out);
            self.scope.push();
            if let Some((name, binding)) = self.null_guard(condition) {
                self.scope.bind(&name, binding);
            }
            self.block_statements(block);
            paths.push(self.scope.pop().bindings());
        }
        let exhaustive = otherwise.is_some();
        if let Some(block) = otherwise {
            paths.push(self.nested(block));
        }
        self.merge(paths, !exhaustive);
    }

    /// `x != null` (either way round) narrows an optional `x` inside the branch.
    fn null_guard(&self, condition: &Expr) -> Option<(String, Binding)> {
        let ExprKind::Binary(BinaryOp::Compare(CompareOp::Ne), left, right) = &condition.kind
        else {
            return None;
        };
        let name = match (&left.kind, &right.kind) {
            (ExprKind::Name(n), ExprKind::Null) | (ExprKind::Null, ExprKind::Name(n)) => n,
            _ => return None,
        };
        let binding = self.scope.lookup(&name.name)?;
        Some((
            name.name.clone(),
            Binding {
                ty: binding.ty.required().clone(),
                span: binding.span,
                narrowed: true,
            },
        ))
    }

    /// Binds, after a branching statement, what its paths bound: a name every path
    /// binds keeps its (joined) type; a name only some paths bind becomes optional.
    fn merge(&mut self, paths: Vec<Vec<(String, Binding)>>, some_path_binds_nothing: bool) {
        let mut merged: Vec<(String, Binding, usize)> = Vec::new();
        for path in &paths {
            for (name, binding) in path {
                match merged.iter_mut().find(|(n, _, _)| n == name) {
                    Some((_, existing, count)) => {
                        existing.ty = existing.ty.join(&binding.ty);
                        *count += 1;
                    }
                    None => merged.push((name.clone(), binding.clone(), 1)),
                }
            }
        }
        for (name, mut binding, count) in merged {
            if some_path_binds_nothing || count < paths.len() {
                binding.ty = binding.ty.optional();
            }
            self.scope.bind(&name, binding);
        }
    }

    fn for_loop(&mut self, for_loop: &ForLoop) {
        let list = self.type_of(&for_loop.list);
        let item = match list.required() {
            Type::List(item) if !list.is_optional() => (**item).clone(),
            Type::Any => Type::Any,
            _ => {
                let mut out = Vec::new();
                expr::expect(
                    &list,
                    &Type::List(Box::new(Type::Any)),
                    for_loop.list.span,
                    "a `for` loop",
                    &mut out,
                );
                self.out.extend(out);
                Type::Any
            }
        };
        self.scope.push();
        self.bind(&for_loop.item, item);
        if let Some(index) = &for_loop.index {
            self.bind(index, Type::Number);
        }
        self.block_statements(&for_loop.body);
        let value = for_loop.value.as_ref().map(|value| self.type_of(value));
        let bindings = self.scope.pop().bindings();
        let Some(result) = &for_loop.result else {
            return;
        };
        // Each iteration's value is its `yield`, or else what the body's last
        // binding holds.
        let last = for_loop
            .body
            .bound_names()
            .last()
            .and_then(|name| bindings.iter().find(|(bound, _)| bound == name))
            .map(|(_, binding)| binding.ty.clone());
        let item_type = match value.or(last) {
            Some(ty) => ty,
            None => {
                self.out.push(
                    Diagnostic::new(
                        Code::LoopWithoutResult,
                        result.span,
                        format!(
                            "`{}` collects nothing: the loop body binds no value",
                            result.name
                        ),
                        "each iteration's value is its `yield` or its body's last binding",
                    )
                    .with_label(
                        for_loop.body.span,
                        "yields and binds nothing at its top level",
                    )
                    .with_help("end the body with `yield value`, or drop the `name =`"),
                );
                Type::Any
            }
        };
        self.bind(result, Type::List(Box::new(item_type)));
    }

    fn parallel(&mut self, block: &Block) {
        let branch_names: Vec<HashMap<String, Span>> = block
            .statements
            .iter()
            .map(|s| {
                let mut names = HashMap::new();
                collect_statement(s, &mut |name, span, _| {
                    names.entry(name.to_string()).or_insert(span);
                });
                names
            })
            .collect();
        let mut all = Vec::new();
        for (i, statement) in block.statements.iter().enumerate() {
            let others = branch_names
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, names)| names.iter().map(|(n, s)| (n.clone(), *s)))
                .collect();
            self.siblings.push(others);
            self.scope.push();
            self.statement(statement);
            all.extend(self.scope.pop().bindings());
            self.siblings.pop();
        }
        // Every branch runs to completion, so what each binds is bound afterwards.
        for (name, binding) in all {
            let span = binding.span;
            if let Some(previous) = self.scope.bind(&name, binding) {
                self.out.push(duplicate_step(&name, span, previous.span));
            }
        }
    }

    fn bind(&mut self, name: &Ident, ty: Type) {
        let binding = Binding {
            ty,
            span: name.span,
            narrowed: false,
        };
        if let Some(previous) = self.scope.bind(&name.name, binding) {
            if !previous.narrowed {
                self.out
                    .push(duplicate_step(&name.name, name.span, previous.span));
            }
        }
    }

    /// Checks a call and returns the type of its result.
    fn call(&mut self, call: &Call) -> Type {
        let argument = self.type_of(&call.argument);
        if let Some(retry) = &call.retry {
            known_retry(retry, self.context.program, &mut self.out);
        }
        let program = self.context.program;
        match &call.target {
            CallTarget::Agent(name) => match program.agents.get(&name.name) {
                Some(agent) => {
                    self.argument_fits(&argument, call, agent);
                    self.context.output_of_agent(agent).clone()
                }
                None => {
                    self.out.push(self.unknown_agent(name));
                    Type::Any
                }
            },
            CallTarget::AnyWithSkills(skills) => self.any_with_skills(skills, &argument, call),
            CallTarget::Workflow(name) => {
                let Some(workflow) = program.workflows.get(&name.name) else {
                    let mut diagnostic = unknown(
                        Code::UnknownWorkflow,
                        "workflow",
                        name,
                        program.workflows.keys(),
                    );
                    if program.agents.contains_key(&name.name) {
                        diagnostic = diagnostic.with_help(format!(
                            "`{0}` is an agent; call it as `{0}(…)` without `workflow`",
                            name.name
                        ));
                    }
                    self.out.push(diagnostic);
                    return Type::Any;
                };
                if let Some(input) = &workflow.input {
                    let wanted = Type::from_ast(input);
                    if let Err(mismatch) = argument.fits(&wanted) {
                        self.out.push(
                            Diagnostic::new(
                                Code::InputMismatch,
                                call.argument.span,
                                format!("workflow `{}` cannot take this input", name.name),
                                mismatch.to_string(),
                            )
                            .with_label(input.span, format!("`{}` expects this", name.name)),
                        );
                    }
                }
                self.context.output_of(&name.name)
            }
        }
    }

    fn argument_fits(&mut self, argument: &Type, call: &Call, agent: &Agent) {
        let wanted = self.context.input_of(agent);
        if let Err(mismatch) = argument.fits(wanted) {
            let mut diagnostic = Diagnostic::new(
                Code::InputMismatch,
                call.argument.span,
                format!("agent `{}` cannot take this input", agent.name.name),
                mismatch.to_string(),
            );
            if let Some(input) = &agent.input {
                diagnostic = diagnostic
                    .with_label(input.span, format!("`{}` expects this", agent.name.name));
            }
            if argument.is_optional() {
                diagnostic = diagnostic.with_help(
                    "the value is only set on some paths; guard it with `when name != null { … }`",
                );
            }
            self.out.push(diagnostic);
        }
    }

    fn any_with_skills(
        &mut self,
        skills: &Spanned<Vec<Ident>>,
        argument: &Type,
        call: &Call,
    ) -> Type {
        let program = self.context.program;
        let mut all_known = true;
        for skill in &skills.value {
            if !program.has_skill(&skill.name) {
                all_known = false;
                self.out.push(unknown_skill(skill, program));
            }
        }
        if !all_known {
            return Type::Any;
        }
        let candidates = program.agents_with_skills(&skills.value);
        if candidates.is_empty() {
            let names: Vec<_> = skills
                .value
                .iter()
                .map(|s| format!("`{}`", s.name))
                .collect();
            self.out.push(
                Diagnostic::new(
                    Code::NoAgentWithSkills,
                    skills.span,
                    format!("no single agent has every skill of {}", names.join(", ")),
                    "no agent matches",
                )
                .with_help("`any [a, b]` picks one agent having all the skills; split the step or give an agent both"),
            );
            return Type::Any;
        }
        // Agents sharing a skill usually share a signature: check each input type once.
        let mut checked: Vec<&Type> = Vec::new();
        for agent in &candidates {
            let input = self.context.input_of(agent);
            if !checked.contains(&input) {
                checked.push(input);
                self.argument_fits(argument, call, agent);
            }
        }
        let first = self.context.output_of_agent(candidates[0]);
        if candidates
            .iter()
            .all(|a| self.context.output_of_agent(a) == first)
        {
            first.clone()
        } else {
            Type::Any
        }
    }

    fn unknown_agent(&self, name: &Ident) -> Diagnostic {
        let program = self.context.program;
        let diagnostic = unknown(Code::UnknownAgent, "agent", name, program.agents.keys());
        if program.workflows.contains_key(&name.name) && diagnostic.help.is_none() {
            return diagnostic.with_help(format!(
                "`{0}` is a workflow; call it with `workflow {0}(…)`",
                name.name
            ));
        }
        diagnostic
    }

    /// Explains a name that is not in scope here.
    fn unbound(&self, name: &Ident) -> Diagnostic {
        for siblings in self.siblings.iter().rev() {
            if let Some(span) = siblings.get(&name.name) {
                return Diagnostic::new(
                    Code::SiblingBranchRead,
                    name.span,
                    format!(
                        "`{}` is bound by another branch of the same `parallel`",
                        name.name
                    ),
                    "read here",
                )
                .with_label(*span, "bound in a sibling branch")
                .with_help("branches run at the same time; read it after the `parallel` block");
            }
        }
        let definitions = self.definitions.get(&name.name);
        if let Some((span, _)) = definitions
            .into_iter()
            .flatten()
            .find(|(span, _)| span.start > name.span.start)
        {
            return Diagnostic::new(
                Code::UsedBeforeDefined,
                name.span,
                format!("`{}` is used before it is bound", name.name),
                "used here",
            )
            .with_label(*span, "bound later here")
            .with_help("move this step below the one that binds it");
        }
        if let Some((span, place)) = definitions.into_iter().flatten().next() {
            return Diagnostic::new(
                Code::OutOfScope,
                name.span,
                format!("`{}` is not in scope here", name.name),
                "used here",
            )
            .with_label(*span, format!("bound here, {place}"))
            .with_help(format!("names bound {place} are not visible after it"));
        }
        let visible = self.scope.visible();
        let help = suggest::did_you_mean(&name.name, visible.iter().copied().chain(["input"]))
            .or_else(|| {
                self.context
                    .program
                    .agents
                    .contains_key(&name.name)
                    .then(|| {
                        format!(
                            "`{0}` is an agent; call it as a step: `x = {0}(…)`",
                            name.name
                        )
                    })
            });
        Diagnostic::new(
            Code::UnknownStep,
            name.span,
            format!("unknown step or name `{}`", name.name),
            "nothing of this name is bound",
        )
        .with_help_opt(help)
    }
}

fn chain_help(from: &Agent, to: &Agent) -> String {
    format!(
        "`{}` outputs `{}` but `{}` takes `{}`",
        from.name.name,
        declared(&from.output),
        to.name.name,
        declared(&to.input)
    )
}

pub fn unknown_skill(skill: &Ident, program: &Declarations) -> Diagnostic {
    let skills = program.all_skills();
    Diagnostic::new(
        Code::UnknownSkill,
        skill.span,
        format!("no agent has the skill `{}`", skill.name),
        "unknown skill",
    )
    .with_help_opt(suggest::did_you_mean(&skill.name, skills))
}

fn duplicate_step(name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateStep,
        span,
        format!("`{name}` is bound twice"),
        "bound again here",
    )
    .with_label(first, "first bound here")
    .with_help("give each step its own name")
}

/// What `catch err` binds.
/// Each kind a `catch` names must be catchable, and taken by no earlier clause of
/// its `try`; nothing may follow a clause that takes every kind.
fn catch_kinds(catches: &[Catch], out: &mut Vec<Diagnostic>) {
    let mut taken: HashMap<ErrorKind, Span> = HashMap::new();
    let mut every: Option<Span> = None;
    for catch in catches {
        // `catch kinds as name`, without the handler.
        let head = Span::new(catch.span.file, catch.span.start, catch.error.span.end);
        if let Some(earlier) = every {
            out.push(
                Diagnostic::new(
                    Code::UnreachableCatch,
                    head,
                    "this `catch` never runs",
                    "unreachable",
                )
                .with_label(earlier, "this `catch` takes every kind first")
                .with_help("put the catch-all clause last"),
            );
            continue;
        }
        if catch.kinds.is_empty() {
            every = Some(head);
        }
        for name in &catch.kinds {
            // `fail` is reserved, so it never gets here as a name.
            match ErrorKind::from_name(&name.name) {
                Some(kind) => {
                    if let Some(earlier) = taken.insert(kind, name.span) {
                        out.push(
                            Diagnostic::new(
                                Code::UnreachableCatch,
                                name.span,
                                format!("`{kind}` is already caught above"),
                                "never caught here",
                            )
                            .with_label(earlier, "caught here first"),
                        );
                    }
                }
                None => out.push(unknown_error_kind(name, ErrorKind::catchable_kinds)),
            }
        }
    }
}

fn error_type() -> Type {
    let string = || Type::String;
    Type::Object(BTreeMap::from([
        ("kind".to_string(), string()),
        ("message".to_string(), string()),
        ("step".to_string(), string()),
        ("agent".to_string(), string().optional()),
        ("attempts".to_string(), Type::Number),
    ]))
}

fn collect_definitions(body: &WorkflowBody, into: &mut HashMap<String, Vec<(Span, &'static str)>>) {
    if let WorkflowBody::Steps(block) = body {
        for statement in &block.statements {
            collect_statement(statement, &mut |name, span, place| {
                into.entry(name.to_string())
                    .or_default()
                    .push((span, place));
            });
        }
    }
}

/// The type of `event` in a `where`: the whole payload, of which the shape
/// names what the step binds; a field the condition reads beyond it (the
/// invoice an approval is for) may hold anything.
fn whole_event(shape: &Type, condition: &Expr) -> Type {
    let Type::Object(fields) = shape else {
        return shape.clone();
    };
    let mut fields = fields.clone();
    let mut pending = vec![condition];
    while let Some(expr) = pending.pop() {
        if let ExprKind::Field(inner, field) = &expr.kind {
            if matches!(&inner.kind, ExprKind::Name(name) if name.name == EVENT) {
                fields
                    .entry(field.name.clone())
                    .or_insert_with(|| Type::Optional(Box::new(Type::Any)));
            }
        }
        pending.extend(expr.children());
    }
    Type::Object(fields)
}

/// Calls `f(name, span, place)` for every name a statement binds, nested ones included.
fn collect_statement(statement: &Statement, f: &mut dyn FnMut(&str, Span, &'static str)) {
    let block =
        |block: &Block, place: &'static str, f: &mut dyn FnMut(&str, Span, &'static str)| {
            for s in &block.statements {
                // The outermost enclosing block explains best why a name is gone.
                collect_statement(s, &mut |name, span, _| f(name, span, place));
            }
        };
    match &statement.kind {
        StatementKind::Call { name, .. }
        | StatementKind::Let { name, .. }
        | StatementKind::Await { name, .. } => f(&name.name, name.span, "at the top level"),
        StatementKind::When {
            branches,
            otherwise,
        } => {
            for (_, b) in branches {
                block(b, "inside a `when` branch", f);
            }
            if let Some(b) = otherwise {
                block(b, "inside a `when` branch", f);
            }
        }
        StatementKind::For(for_loop) => {
            f(
                &for_loop.item.name,
                for_loop.item.span,
                "as a loop variable",
            );
            if let Some(index) = &for_loop.index {
                f(&index.name, index.span, "as a loop index");
            }
            block(&for_loop.body, "inside a `for` body", f);
            if let Some(result) = &for_loop.result {
                f(&result.name, result.span, "at the top level");
            }
        }
        StatementKind::Parallel(b) => block(b, "inside a `parallel` branch", f),
        StatementKind::Try { body, catches } => {
            block(body, "inside a `try` block", f);
            for catch in catches {
                f(&catch.error.name, catch.error.span, "as a `catch` variable");
                block(&catch.handler, "inside a `catch` handler", f);
            }
        }
        StatementKind::Fail(_) | StatementKind::Emit { .. } | StatementKind::Wait(_) => {}
    }
}

/**
 * Tree-sitter grammar for wfc's `.wf` workflow language. It mirrors
 * grammar/wf.pest (the source of truth, with docs/language.md); it exists for the
 * editors built on tree-sitter (Neovim, Helix, Zed).
 */
const PREC = { if: 0, or: 1, and: 2, compare: 3, add: 4, multiply: 5, unary: 6, postfix: 7 };

const commaList = (rule) => optional(seq(rule, repeat(seq(",", rule)), optional(",")));

module.exports = grammar({
  name: "wf",
  extras: ($) => [/\s/, $.comment],
  word: ($) => $.identifier,

  rules: {
    source_file: ($) => repeat($._item),
    _item: ($) => choice($.import, $.timezone, $.retry, $.breaker, $.agent, $.trigger, $.template, $.workflow, $.goal, $.metric, $.alert, $.test),

    // LEXICAL
    comment: (_) => token(choice(seq("//", /.*/), seq("/*", /[^*]*\*+([^/*][^*]*\*+)*/, "/"))),
    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*/,
    number: (_) => /\d+(\.\d+)?([eE][+-]?\d+)?/,
    duration: (_) => /\d+(ms|s|m|h|d)/,
    date: (_) => /\d{4}-\d{2}-\d{2}/,
    string: ($) => seq('"', repeat(choice($.string_content, $.escape_sequence)), '"'),
    string_content: (_) => token.immediate(prec(1, /[^"\\\n]+/)),
    escape_sequence: (_) => token.immediate(/\\(["\\ntr]|u\{[0-9A-Fa-f]{1,6}\})/),
    identifier_list: ($) => seq("[", commaList($.identifier), "]"),
    string_list: ($) => seq("[", commaList($.string), "]"),
    _signed_number: ($) => seq(optional("-"), $.number),
    // A field name is any word, reserved or not, or a quoted string.
    _key: ($) => choice($.identifier, $.string),

    import: ($) => seq("import", $.string, optional(seq("at", field("revision", $.string)))),
    timezone: ($) => seq("timezone", $.string),

    // POLICIES
    retry: ($) => seq("retry", field("name", $.identifier), "{", repeat($._retry_property), "}"),
    _retry_property: ($) =>
      choice(
        seq("attempts", $.number),
        seq(
          "backoff",
          choice("exponential", "linear", "constant"),
          $.duration,
          optional(seq("factor", $.number)),
          optional(seq("max", $.duration)),
        ),
        seq("jitter", choice("none", "full", "equal")),
        seq("retry_on", $.identifier_list),
      ),
    breaker: ($) => seq("breaker", field("name", $.identifier), "{", repeat($._breaker_property), "}"),
    _breaker_property: ($) =>
      choice(seq("open_after", $.number, "failures", "within", $.duration), seq("cool_down", $.duration)),

    // AGENTS
    agent: ($) => seq("agent", field("name", $.identifier), "{", repeat($._agent_property), "}"),
    _agent_property: ($) =>
      choice(
        $.department,
        $.skills,
        seq("input", $.type),
        seq("output", $.type),
        seq("run", $.string_list),
        seq("http", choice("GET", "POST", "PUT", "PATCH", "DELETE"), $.string, optional(seq("headers", $.object))),
        seq("llm", $.string, repeat($._llm_property)),
        seq("cwd", $.string),
        seq("env", $.object),
        seq("compute", $.object),
        seq("timeout", $.duration),
        seq("retry", $.identifier),
        seq("breaker", $.identifier),
        seq("capacity", $.number),
      ),
    _llm_property: ($) =>
      choice(
        seq("endpoint", $.string),
        seq("key", $._expression),
        seq("system", choice($.text_block, $.string)),
        seq("prompt", choice($.text_block, $.string)),
        seq("temperature", $.number),
        seq("max_tokens", $.number),
        seq("price", "input", $.number, "output", $.number),
      ),
    // `"""` text over several lines with `{{ expr }}` holes.
    text_block: ($) => seq('"""', repeat(choice($.text_block_text, $.text_hole)), '"""'),
    text_block_text: (_) => token.immediate(prec(1, /([^"{]|"[^"]|""[^"]|\{[^{])+/)),
    text_hole: ($) => seq("{{", $._expression, "}}"),
    department: ($) => seq("department", $.identifier),
    skills: ($) => seq("skills", $.identifier_list),

    // TYPES
    type: ($) => seq(choice($.type_name, $.list_type, $.object_type), optional("?")),
    type_name: (_) => choice("number", "string", "bool", "null", "any"),
    list_type: ($) => seq("[", $.type, "]"),
    object_type: ($) => seq("{", commaList($.type_field), "}"),
    type_field: ($) => seq(field("name", $._key), ":", $.type),

    // METRICS FED FROM OUTSIDE
    metric: ($) =>
      seq(
        "metric",
        field("name", $.metric_name),
        "{",
        repeat(choice(seq("unit", $.string), seq("description", $.string))),
        "}",
      ),

    // ALERTS (evaluated by `wfc serve`)
    alert: ($) =>
      seq(
        "alert",
        field("name", $.identifier),
        "{",
        repeat(
          choice(
            seq(
              "when",
              choice(
                seq("goal", field("goal", $.identifier), "is", field("status", $.identifier)),
                seq(
                  field("signal", $.identifier),
                  "(",
                  field("workflow", $.identifier),
                  ")",
                  $.compare_op,
                  $._signed_number,
                  "within",
                  $.duration,
                ),
              ),
            ),
            seq("notify", "webhook", $.string),
            seq("emit", $.string),
          ),
        ),
        "}",
      ),

    // TESTS (`wfc test`)
    test: ($) => seq("test", field("name", $.string), "{", repeat(choice($.mock, $.run, $.given, $.send, $.expect)), "}"),
    mock: ($) =>
      seq(
        "mock",
        field("agent", $.identifier),
        optional(seq("takes", $.duration)),
        optional(
          choice(
            seq(
              "fails",
              field("kind", $.identifier),
              optional(seq($.number, "times")),
              optional(seq("then", "returns", $._expression)),
            ),
            seq("returns", $._expression),
          ),
        ),
      ),
    run: ($) => seq("run", field("workflow", $.identifier), optional(seq("with", $._expression))),
    given: ($) =>
      seq("given", choice(seq("event", $.string, optional($.object)), seq("metric", $.metric_name, "=", $._signed_number))),
    send: ($) => seq("send", "event", $.string, optional($.object), optional(seq("after", $.duration))),
    expect: ($) =>
      seq(
        "expect",
        choice(
          seq(field("agent", $.identifier), "called", $.number, "times"),
          seq("status", choice("completed", "failed")),
          "dead_letter",
          seq("event", $.string, optional($.object)),
          seq("metric", $.metric_ref, $.compare_op, $._signed_number),
          seq(
            "step",
            choice($.identifier, $.string),
            choice(seq("attempts", $.number), seq("resolved", optional(seq("with", $._expression))), "timed_out"),
          ),
          seq("output", repeat(choice(seq(".", $._key), seq("[", $._expression, "]"))), $.compare_op, $._expression),
        ),
      ),

    // TRIGGERS
    trigger: ($) => seq("trigger", field("name", $.identifier), "{", repeat($._trigger_property), "}"),
    _trigger_property: ($) =>
      choice(
        seq("cron", $.string),
        seq("on", "event", $.string),
        seq("when", "metric", $.metric_ref, $.compare_op, $._signed_number),
        "manual",
        seq("timezone", $.string),
        seq("missed", choice("run_once", "skip")),
      ),
    metric_ref: ($) =>
      choice(
        seq(field("aggregation", $.identifier), "(", $.metric_name, ")", optional(seq("per", field("period", $.identifier)))),
        $.metric_name,
      ),
    metric_name: ($) => prec.right(seq($.identifier, repeat(seq(".", $.identifier)))),
    compare_op: (_) => choice(">=", "<=", "==", "!=", ">", "<"),

    // WORKFLOWS
    workflow: ($) =>
      seq(
        "workflow",
        field("name", $.identifier),
        choice(
          seq("{", repeat($._workflow_property), "}"),
          seq(
            "=",
            field("template", $.identifier),
            "(",
            commaList($.argument),
            ")",
            optional(seq("{", repeat($._workflow_property), "}")),
          ),
        ),
      ),
    argument: ($) => seq(field("name", $.identifier), ":", choice($.duration, $._expression)),
    template: ($) =>
      seq(
        "template",
        field("name", $.identifier),
        "(",
        commaList($.parameter),
        ")",
        "{",
        repeat($._workflow_property),
        "}",
      ),
    parameter: ($) =>
      seq(
        field("name", $.identifier),
        ":",
        choice(seq(choice("agent", "workflow"), $.type, "->", $.type), "retry", "duration", $.type),
        optional(seq("=", choice($.duration, $._expression))),
      ),
    _workflow_property: ($) =>
      choice(
        seq("version", $.string),
        seq("on", $.identifier, repeat(seq(",", $.identifier))),
        seq("input", $.type),
        $.chain,
        seq("steps", $.block),
        seq("record", $.metric_name, "=", $._expression),
        seq("output", $._expression),
        seq("on_failure", choice("dead_letter", "fail")),
        seq("retry", $.identifier),
      ),
    chain: ($) => seq("chain", $.identifier, repeat(seq("->", $.identifier))),

    // GOALS
    goal: ($) => seq("goal", field("name", $.identifier), "{", repeat($._goal_property), "}"),
    _goal_property: ($) =>
      choice(
        seq("title", $.string),
        $.department,
        seq("kpi", $.metric_ref, $.compare_op, $._signed_number, optional(seq("by", $.date))),
        seq("weight", $.number),
        seq("team", "{", repeat(choice($.skills, seq("size", $.number))), "}"),
        seq("pursued_by", $.identifier, repeat(seq(",", $.identifier))),
        $.goal,
      ),

    // STATEMENTS
    block: ($) => seq("{", repeat($._statement), "}"),
    _statement: ($) =>
      choice($.let, $.step, $.when, $.for, $.parallel, $.try, $.fail, $.emit, $.wait),
    let: ($) => seq("let", field("name", $.identifier), "=", $._expression),
    step: ($) => seq(field("name", $.identifier), "=", choice($.call, $.for, $.await)),
    await: ($) =>
      prec.right(
        seq(
          "await",
          field("pattern", $.string),
          optional($.type),
          optional(seq("where", $._expression)),
          optional(seq("timeout", $._step_duration)),
        ),
      ),
    call: ($) =>
      seq(
        choice(seq("any", $.identifier_list), seq("workflow", field("workflow", $.identifier)), field("agent", $.identifier)),
        "(",
        $._expression,
        ")",
        repeat(choice(seq("timeout", $._step_duration), seq("retry", $.identifier))),
      ),
    when: ($) =>
      seq("when", $._expression, $.block, repeat(seq("else", "when", $._expression, $.block)), optional(seq("else", $.block))),
    for: ($) =>
      seq(
        optional("parallel"),
        "for",
        field("item", $.identifier),
        optional(seq(",", field("index", $.identifier))),
        "in",
        $._expression,
        optional(seq("limit", $.number)),
        alias($.loop_body, $.block),
      ),
    loop_body: ($) => seq("{", repeat($._statement), optional($.yield), "}"),
    yield: ($) => seq("yield", $._expression),
    parallel: ($) => seq("parallel", $.block),
    try: ($) => seq("try", $.block, repeat1($.catch)),
    catch: ($) =>
      seq(
        "catch",
        optional(seq(field("kind", $.identifier), repeat(seq(",", field("kind", $.identifier))), "as")),
        field("error", $.identifier),
        $.block,
      ),
    fail: ($) => seq("fail", $._expression),
    emit: ($) => seq("emit", $.string, optional($.object)),
    wait: ($) => seq("wait", $._step_duration),
    // A duration written out, or a template's `duration` parameter.
    _step_duration: ($) => choice($.duration, $.identifier),

    // EXPRESSIONS
    _expression: ($) =>
      choice($.binary, $.unary, $.if, $.field, $.index, $.function_call, $._primary),
    _primary: ($) =>
      choice($.number, $.string, $.boolean, $.null, $.list, $.object, $.input, $.identifier, $.parenthesized),
    boolean: (_) => choice("true", "false"),
    null: (_) => "null",
    input: (_) => "input",
    list: ($) => seq("[", commaList($._expression), "]"),
    object: ($) => seq("{", commaList($.pair), "}"),
    pair: ($) => seq(field("key", $._key), ":", $._expression),
    parenthesized: ($) => seq("(", $._expression, ")"),
    function_call: ($) => seq(field("function", $.identifier), "(", commaList($._expression), ")"),
    field: ($) => prec(PREC.postfix, seq($._expression, ".", field("field", $._key))),
    index: ($) => prec(PREC.postfix, seq($._expression, "[", $._expression, "]")),
    unary: ($) => prec(PREC.unary, seq(choice("not", "-"), $._expression)),
    if: ($) => prec.right(PREC.if, seq("if", $._expression, "then", $._expression, "else", $._expression)),
    binary: ($) =>
      choice(
        prec.left(PREC.or, seq($._expression, "or", $._expression)),
        prec.left(PREC.and, seq($._expression, "and", $._expression)),
        prec.left(PREC.compare, seq($._expression, choice("==", "!=", ">=", "<=", ">", "<"), $._expression)),
        prec.left(PREC.add, seq($._expression, choice("+", "-"), $._expression)),
        prec.left(PREC.multiply, seq($._expression, choice("*", "/", "%"), $._expression)),
      ),
  },
});

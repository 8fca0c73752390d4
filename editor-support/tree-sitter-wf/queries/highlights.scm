; Captures use the standard names Neovim, Helix and Zed themes know. Later
; patterns win over earlier ones for the same node, so the general ones come first.

(identifier) @variable

(comment) @comment
(string) @string
(escape_sequence) @string.escape
(number) @number
(duration) @number
(date) @constant
(boolean) @boolean
(null) @constant.builtin
(input) @variable.builtin
(type_name) @type

["agent" "workflow" "trigger" "goal" "retry" "breaker" "metric" "alert"] @keyword
["import" "timezone"] @keyword.import
["when" "else" "if" "then"] @keyword.conditional
["for" "in" "parallel" "limit" "yield"] @keyword.repeat
["try" "catch" "fail" "as"] @keyword.exception
["test" "mock" "run" "given" "expect"] @keyword
["takes" "fails" "returns" "times" "with" "called" "status" "completed" "failed" "step"] @keyword
(test name: (string) @string.special)
(mock agent: (identifier) @function.call)
(run workflow: (identifier) @function.call)
(expect agent: (identifier) @function.call)
["let" "emit" "wait" "any" "steps" "chain" "record" "output" "on" "on_failure" "missed"] @keyword
["and" "or" "not"] @keyword.operator
[
  "department" "skills" "run" "cwd" "compute" "timeout" "capacity" "version" "title" "kpi"
  "by" "weight" "team" "size" "pursued_by" "attempts" "backoff" "factor" "max" "jitter"
  "retry_on" "open_after" "failures" "within" "cool_down" "cron" "event" "manual" "per"
  "unit" "description" "http" "headers" "GET" "POST" "PUT" "PATCH" "DELETE"
  "llm" "endpoint" "key" "system" "prompt" "temperature" "max_tokens" "price"
  "notify" "webhook" "is"
] @property
(template) @string
(template_hole ["{{" "}}"] @punctuation.special)

(agent name: (identifier) @function)
(workflow name: (identifier) @function)
(trigger name: (identifier) @type.definition)
(goal name: (identifier) @type.definition)
(retry name: (identifier) @type.definition)
(breaker name: (identifier) @type.definition)
(metric name: (metric_name (identifier) @type.definition))
(alert name: (identifier) @type.definition)
(alert signal: (identifier) @function.builtin)
(alert workflow: (identifier) @function.call)
(alert status: (identifier) @constant)
(catch kind: (identifier) @constant)
(call agent: (identifier) @function.call)
(call workflow: (identifier) @function.call)
(function_call function: (identifier) @function.builtin)
(chain (identifier) @function.call)
(step name: (identifier) @variable)
(let name: (identifier) @variable)
(pair key: (identifier) @property)
(type_field name: (identifier) @property)
(field field: (identifier) @property)

["==" "!=" ">=" "<=" ">" "<" "+" "-" "*" "/" "%" "=" "->" "?"] @operator
["{" "}" "[" "]" "(" ")"] @punctuation.bracket
["," ":" "."] @punctuation.delimiter


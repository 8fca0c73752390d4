; Captures use only the standard names `tree-sitter highlight --check` accepts,
; which every theme of Neovim, Helix and Zed colours. Later
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

["agent" "workflow" "trigger" "goal" "retry" "breaker" "metric" "alert" "template"] @keyword
["import" "at" "timezone"] @keyword
["when" "else" "if" "then"] @keyword
["for" "in" "parallel" "limit" "yield"] @keyword
["try" "catch" "fail" "as"] @keyword
["test" "mock" "run" "given" "expect"] @keyword
["takes" "fails" "returns" "times" "with" "called" "status" "completed" "failed" "step"] @keyword
(test name: (string) @string.special)
(mock agent: (identifier) @function)
(run workflow: (identifier) @function)
(expect agent: (identifier) @function)
["let" "emit" "wait" "await" "where" "any" "steps" "chain" "record" "output" "on" "on_failure" "missed"] @keyword
["send" "after" "resolved" "timed_out"] @keyword
["and" "or" "not"] @keyword
[
  "department" "skills" "run" "cwd" "env" "compute" "timeout" "capacity" "version" "title" "kpi"
  "by" "weight" "team" "size" "pursued_by" "attempts" "backoff" "factor" "max" "jitter"
  "retry_on" "open_after" "failures" "within" "cool_down" "cron" "event" "manual" "per"
  "unit" "description" "http" "headers" "GET" "POST" "PUT" "PATCH" "DELETE"
  "llm" "endpoint" "key" "system" "prompt" "temperature" "max_tokens" "price"
  "notify" "webhook" "is"
] @property
(text_block) @string
(text_hole ["{{" "}}"] @punctuation.special)

(agent name: (identifier) @function)
(workflow name: (identifier) @function)
(workflow template: (identifier) @function)
(template name: (identifier) @function)
(parameter name: (identifier) @variable.parameter)
(argument name: (identifier) @variable.parameter)
(trigger name: (identifier) @type)
(goal name: (identifier) @type)
(retry name: (identifier) @type)
(breaker name: (identifier) @type)
(metric name: (metric_name (identifier) @type))
(alert name: (identifier) @type)
(alert signal: (identifier) @function.builtin)
(alert workflow: (identifier) @function)
(alert status: (identifier) @constant)
(catch kind: (identifier) @constant)
(call agent: (identifier) @function)
(call workflow: (identifier) @function)
(function_call function: (identifier) @function.builtin)
(chain (identifier) @function)
(step name: (identifier) @variable)
(let name: (identifier) @variable)
(pair key: (identifier) @property)
(type_field name: (identifier) @property)
(field field: (identifier) @property)

["==" "!=" ">=" "<=" ">" "<" "+" "-" "*" "/" "%" "=" "->" "?"] @operator
["{" "}" "[" "]" "(" ")"] @punctuation.bracket
["," ":" "."] @punctuation.delimiter


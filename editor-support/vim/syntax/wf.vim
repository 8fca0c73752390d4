" Vim syntax file for wfc workflows (.wf). Groups link to standard highlight
" groups, so every colour scheme colours them.
if exists('b:current_syntax')
  finish
endif

syntax case match

syntax keyword wfDeclaration agent workflow trigger goal alert template nextgroup=wfDefinedName skipwhite
" `retry` and `breaker` declare a policy at the start of a line before `{`;
" elsewhere (`retry standard` in an agent or a call) they name one.
syntax match wfProperty /\<\(retry\|breaker\)\>/
syntax match wfDeclaration /^\s*\zs\(retry\|breaker\)\>\ze\s\+\h\w*\s*{/ nextgroup=wfDefinedName skipwhite
syntax keyword wfInclude import timezone
" `at` pins an import to a git revision; elsewhere it is a name.
syntax match wfInclude /\(^\s*import\s\+"[^"]*"\s\+\)\@<=at\>/
" `wfc test` blocks.
syntax keyword wfDeclaration test
syntax keyword wfControl mock given expect send
syntax keyword wfProperty takes fails returns times called with after resolved timed_out
syntax keyword wfProperty http headers GET POST PUT PATCH DELETE
syntax keyword wfProperty llm endpoint key system prompt temperature max_tokens price
syntax keyword wfProperty notify webhook is
syntax match wfDefinedName /\h\w*/ contained

syntax keyword wfControl when else for in parallel limit try catch fail emit wait await where let if then any steps chain record output on_failure on missed yield
" `as` is reserved only in `catch kind, … as name`.
syntax match wfControl /\<as\>\ze\s\+\h/
syntax keyword wfLogical and or not
syntax keyword wfProperty department skills run compute cwd env timeout capacity version title kpi by weight team size pursued_by
syntax keyword wfProperty attempts backoff exponential linear constant factor max jitter none full equal retry_on
syntax keyword wfProperty open_after failures within cool_down cron event manual per dead_letter run_once skip unit description
" `metric` reads one in a trigger, and declares one at the start of a line.
syntax match wfProperty /\<metric\>/
syntax match wfDeclaration /^\s*\zsmetric\>/ nextgroup=wfMetricName skipwhite
syntax match wfMetricName /\h\w*\(\.\h\w*\)*/ contained
syntax keyword wfType number string bool
syntax match wfType /\<any\>\(\s*\[\)\@!/
syntax keyword wfBoolean true false
syntax keyword wfNull null
syntax keyword wfInput input

syntax match wfFunction /\<\h\w*\ze\s*(/
" The agents of a chain: `chain a -> b -> c`.
syntax match wfFunction /\(\<chain\s\+\|->\s*\)\@<=\h\w*/
syntax keyword wfBuiltin len sum min max round now concat range secret avg count latest


syntax match wfNumber /\<\d\+\(\.\d\+\)\=\([eE][+-]\=\d\+\)\=\>/
syntax match wfDuration /\<\d\+\(ms\|s\|m\|h\|d\)\>/
syntax match wfDate /\<\d\{4}-\d\{2}-\d\{2}\>/

syntax match wfOperator /->\|==\|!=\|>=\|<=\|[-+*\/%<>=?]/
syntax match wfDelimiter /[{}\[\](),:.]/

" A field name is any word, reserved or not: after `.`, and before `:` in shapes and
" objects. Each match starts before the word (at the `.`, the `{`, the `,` or the
" line) and is defined after wfDelimiter, so it wins over both.
syntax match wfField /\.\h\w*/ contains=wfDelimiter
syntax match wfField /\([{,]\|^\)\s*\h\w*\ze\s*:/ contains=wfDelimiter

syntax match wfEscape /\\\(["\\ntr]\|u{\x\{1,6}}\)/ contained
syntax region wfString start=/"/ skip=/\\\\\|\\"/ end=/"\|$/ contains=wfEscape
" A `"""` text block over several lines, with `{{ expr }}` holes; defined after
" wfString so that it wins where both start.
syntax region wfTemplate start=/"""/ end=/"""/ contains=wfTemplateHole
syntax region wfTemplateHole matchgroup=wfTemplateDelimiter start=/{{/ end=/}}/ contained
      \ contains=wfInput,wfField,wfNumber,wfString,wfFunction,wfBuiltin,wfOperator,wfBoolean,wfNull

syntax keyword wfTodo TODO FIXME XXX NOTE contained
syntax match wfLineComment /\/\/.*$/ contains=wfTodo
syntax region wfBlockComment start=/\/\*/ end=/\*\// contains=wfTodo

highlight default link wfTemplate String
highlight default link wfTemplateDelimiter Special
highlight default link wfDeclaration Keyword
highlight default link wfInclude Include
highlight default link wfDefinedName Function
highlight default link wfMetricName Function
highlight default link wfField Identifier
highlight default link wfControl Conditional
highlight default link wfLogical Operator
highlight default link wfProperty Statement
highlight default link wfType Type
highlight default link wfBoolean Boolean
highlight default link wfNull Constant
highlight default link wfInput Identifier
highlight default link wfFunction Function
highlight default link wfBuiltin Function
highlight default link wfNumber Number
highlight default link wfDuration Number
highlight default link wfDate Constant
highlight default link wfOperator Operator
highlight default link wfDelimiter Delimiter
highlight default link wfEscape SpecialChar
highlight default link wfString String
highlight default link wfTodo Todo
highlight default link wfLineComment Comment
highlight default link wfBlockComment Comment

" Templates and block comments span lines: parse from the start (files are small).
syntax sync fromstart

let b:current_syntax = 'wf'

" Run headless (see ../README.md): asserts the syntax group of chosen words in
" test/sample.wf and that each links to a standard highlight group; writes
" failures to the file named by $WF_VIM_RESULT.
let s:failures = []

" The syntax group at the first occurrence of `text` on `line` (plus `offset`).
function! s:Expect(line, text, group, ...) abort
  let l:offset = a:0 ? a:1 : 0
  let l:col = stridx(getline(a:line), a:text) + 1 + l:offset
  if l:col <= l:offset
    call add(s:failures, printf('%d: "%s" not found', a:line, a:text))
    return
  endif
  let l:id = synID(a:line, l:col, 1)
  let l:name = synIDattr(l:id, 'name')
  let l:linked = synIDattr(synIDtrans(l:id), 'name')
  if l:name !=# a:group
    call add(s:failures, printf('%d:%d "%s": expected %s, got %s', a:line, l:col, a:text,
          \ a:group, empty(l:name) ? '(none)' : l:name))
  elseif !empty(a:group) && empty(l:linked)
    call add(s:failures, printf('%s links to no highlight group', a:group))
  endif
endfunction

if &filetype !=# 'wf'
  call add(s:failures, 'filetype is "' . &filetype . '", expected wf')
endif
call s:Expect(1, '// A sample', 'wfLineComment')
call s:Expect(2, 'agent', 'wfDeclaration')
call s:Expect(2, 'scorer', 'wfDefinedName')
call s:Expect(3, 'input', 'wfInput')
call s:Expect(3, 'string', 'wfType')
call s:Expect(3, '?', 'wfOperator')
call s:Expect(3, '{', 'wfDelimiter')
call s:Expect(4, 'run', 'wfProperty')
call s:Expect(4, '"sh"', 'wfString')
call s:Expect(4, '/* inline', 'wfBlockComment')
call s:Expect(5, '30s', 'wfDuration')
call s:Expect(7, 'workflow', 'wfDeclaration')
call s:Expect(7, 'review', 'wfDefinedName')
call s:Expect(8, 'steps', 'wfControl')
call s:Expect(9, 'scorer', 'wfFunction')
call s:Expect(10, 'when', 'wfControl')
call s:Expect(10, '>=', 'wfOperator')
call s:Expect(10, '7', 'wfNumber')
call s:Expect(10, 'and', 'wfLogical')
call s:Expect(10, 'false', 'wfBoolean')
call s:Expect(10, 'emit', 'wfControl')
call s:Expect(10, '"hot', 'wfString')
call s:Expect(10, '\n', 'wfEscape')
call s:Expect(10, 'sum', 'wfBuiltin')
call s:Expect(13, 'goal', 'wfDeclaration')
call s:Expect(13, 'revenue {', 'wfDefinedName')
call s:Expect(13, 'kpi', 'wfProperty')
call s:Expect(13, 'per', 'wfProperty')
call s:Expect(13, '50000', 'wfNumber')
call s:Expect(13, '2026-12-31', 'wfDate')
call s:Expect(14, 'metric', 'wfDeclaration')
call s:Expect(14, 'nps', 'wfMetricName')
call s:Expect(14, 'unit', 'wfProperty')
call s:Expect(16, 'for', 'wfControl')
call s:Expect(16, 'range', 'wfBuiltin')
call s:Expect(16, 'yield', 'wfControl')
call s:Expect(16, 'input', 'wfField')
call s:Expect(16, 'output', 'wfField', 1)
call s:Expect(17, 'catch', 'wfControl')
call s:Expect(17, 'as err', 'wfControl')
call s:Expect(17, 'fail err', 'wfControl')
call s:Expect(19, 'test', 'wfDeclaration')
call s:Expect(19, 'mock', 'wfControl')
call s:Expect(19, 'fails', 'wfProperty')
call s:Expect(19, 'returns', 'wfProperty')
call s:Expect(19, 'expect', 'wfControl')
call s:Expect(19, 'called', 'wfProperty')
call s:Expect(20, 'http', 'wfProperty')
call s:Expect(20, 'POST', 'wfProperty')
call s:Expect(20, 'headers', 'wfProperty')
call s:Expect(20, 'secret', 'wfBuiltin')
call s:Expect(21, 'llm', 'wfProperty')
call s:Expect(21, 'endpoint', 'wfProperty')
call s:Expect(21, 'key', 'wfProperty')
call s:Expect(21, 'price', 'wfProperty')
call s:Expect(22, 'prompt', 'wfProperty')
call s:Expect(22, '"""', 'wfTemplate')
call s:Expect(23, 'Revenue', 'wfTemplate')
call s:Expect(23, '{{', 'wfTemplateDelimiter')
call s:Expect(23, 'input', 'wfInput')
call s:Expect(23, '"USD"', 'wfTemplate')
call s:Expect(23, '// not', 'wfTemplate')
call s:Expect(24, '"""', 'wfTemplate')
call s:Expect(25, 'alert', 'wfDeclaration')
call s:Expect(25, 'failing', 'wfDefinedName')
call s:Expect(25, 'notify', 'wfProperty')
call s:Expect(25, 'webhook', 'wfProperty')
call s:Expect(25, 'is', 'wfProperty')
" `retry` naming a policy inside an agent is not a declaration; at a line's start
" before `{` it is.
call s:Expect(26, 'retry', 'wfProperty')
call s:Expect(26, 'breaker', 'wfProperty')
call s:Expect(26, 'standard', '')
call s:Expect(27, 'retry', 'wfDeclaration')
call s:Expect(27, 'standard', 'wfDefinedName')
" The agents of a chain.
call s:Expect(28, 'fetch', 'wfFunction')
call s:Expect(28, 'score', 'wfFunction')
call s:Expect(29, 'await', 'wfControl')
call s:Expect(29, 'where', 'wfControl')
call s:Expect(29, 'timeout', 'wfProperty')
call s:Expect(30, 'import', 'wfInclude')
call s:Expect(30, 'at', 'wfInclude')
call s:Expect(30, '"v1.2"', 'wfString')
" Elsewhere `at` is a name.
call s:Expect(29, 'a.ok', 'wfString')

call writefile(empty(s:failures) ? ['ok'] : s:failures, $WF_VIM_RESULT)
qall!

" Indentation for wfc workflows: two spaces per open bracket, as `wfc fmt`
" lays a file out; a line starting with closing brackets goes back one level
" for each. Text inside a `"""` template or a block comment is left as written.
if exists('b:did_indent')
  finish
endif
let b:did_indent = 1
setlocal indentexpr=GetWfIndent()
setlocal indentkeys=0{,0},0],0),!^F,o,O
setlocal nolisp nosmartindent autoindent
let b:undo_indent = 'setlocal indentexpr< indentkeys< lisp< smartindent< autoindent<'

if exists('*GetWfIndent')
  finish
endif

" A line with strings and `//` comments taken out: only code brackets count.
function! s:Code(line) abort
  let l:line = substitute(a:line, '"\([^"\\]\|\\.\)*"', '""', 'g')
  return substitute(l:line, '//.*$', '', '')
endfunction

function! s:Count(text, pattern) abort
  return len(substitute(a:text, a:pattern, '', 'g'))
endfunction

" Whether line `lnum` starts inside a template or block comment.
function! s:Verbatim(lnum) abort
  let l:name = synIDattr(synID(a:lnum, 1, 1), 'name')
  return l:name ==# 'wfTemplate' || l:name ==# 'wfBlockComment'
endfunction

" Whether line `lnum` is an `await`'s `where` or `timeout` on a line of its
" own: those continue the statement, two levels in, as `wfc fmt` lays it out.
function! s:Continues(lnum) abort
  if getline(a:lnum) !~# '^\s*\(where\|timeout\)\>'
    return 0
  endif
  let l:above = prevnonblank(a:lnum - 1)
  while l:above > 0 && getline(l:above) =~# '^\s*\(where\|timeout\)\>'
    let l:above = prevnonblank(l:above - 1)
  endwhile
  return l:above > 0 && s:Code(getline(l:above)) =~# '\<await\>'
endfunction

function! GetWfIndent() abort
  if s:Verbatim(v:lnum) && getline(v:lnum) !~# '^\s*"""'
    return -1
  endif
  let l:prev = prevnonblank(v:lnum - 1)
  " Skip back over lines inside templates and block comments.
  while l:prev > 0 && s:Verbatim(l:prev)
    let l:prev = prevnonblank(l:prev - 1)
  endwhile
  if l:prev == 0
    return 0
  endif
  let l:code = s:Code(getline(l:prev))
  let l:opens = s:Count(l:code, '[^[{(]')
  let l:closes = s:Count(l:code, '[^\]})]')
  " Closers leading a line were counted when that line was indented.
  let l:leading = len(matchstr(l:code, '^\s*\zs[\]})]*'))
  let l:here = len(matchstr(s:Code(getline(v:lnum)), '^\s*\zs[\]})]*'))
  let l:level = l:opens - l:closes + l:leading - l:here
  if s:Continues(v:lnum)
    return s:Continues(l:prev) ? indent(l:prev) : indent(l:prev) + 2 * shiftwidth()
  endif
  let l:base = indent(l:prev) - (s:Continues(l:prev) ? 2 * shiftwidth() : 0)
  return max([0, l:base + shiftwidth() * l:level])
endfunction

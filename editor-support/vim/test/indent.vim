" Run headless by run.sh on each example: `gg=G` must give back the file as
" `wfc fmt` laid it out. Appends failures to the file named by $WF_VIM_RESULT.
set shiftwidth=2 expandtab
filetype plugin indent on
" The file was loaded before indenting was on: set its filetype again.
set filetype=wf
syntax on
let s:before = getline(1, '$')
normal! gg=G
let s:after = getline(1, '$')
let s:failures = []
for s:i in range(len(s:before))
  if s:before[s:i] !=# s:after[s:i]
    call add(s:failures, printf('%s:%d: expected %s, got %s', expand('%:t'), s:i + 1,
          \ string(s:before[s:i]), string(s:after[s:i])))
    break
  endif
endfor
" Typing: Enter after `{` indents, a `}` goes back.
enew
set filetype=wf
execute "normal! iagent x {\<CR>run [\"a\"]\<CR>}\<Esc>"
let s:typed = getline(1, '$')
if s:typed !=# ['agent x {', '  run ["a"]', '}']
  call add(s:failures, 'typing gave ' . string(s:typed))
endif
call writefile(s:failures, $WF_VIM_RESULT, 'a')
qall!

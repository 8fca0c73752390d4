" .wf files are wfc workflows.
autocmd BufRead,BufNewFile *.wf setfiletype wf

-- Run by run.sh in `nvim --headless`. Each check prints a line; a failure quits
-- with status 1. Written for Neovim 0.7 (Debian's), whose API it sticks to.
local failures = 0
local function check(ok, what, detail)
  io.stdout:write((ok and "ok   " or "FAIL ") .. what .. (detail and (": " .. detail) or "") .. "\n")
  if not ok then failures = failures + 1 end
end

local rtp = os.getenv("WFC_RTP")
vim.opt.runtimepath:prepend(rtp)

-- The parser loads (ABI 14) and every query compiles against it.
local loaded, problem = pcall(vim.treesitter.require_language, "wf", rtp .. "/parser/wf.so")
check(loaded, "the tree-sitter parser loads", not loaded and tostring(problem) or nil)
for _, name in ipairs({ "highlights", "folds", "indents", "locals" }) do
  local ok, query = pcall(vim.treesitter.get_query, "wf", name)
  check(ok and query ~= nil, "the " .. name .. " query compiles", not ok and tostring(query) or nil)
end

local file = os.getenv("WFC_EXAMPLE")
vim.cmd("edit " .. file)
local buf = vim.api.nvim_get_current_buf()
vim.bo[buf].filetype = "wf"
local parser = vim.treesitter.get_parser(buf, "wf")
local tree = parser:parse()[1]
check(not tree:root():has_error(), "the example parses without errors")
vim.treesitter.highlighter.new(parser)
-- A capture of the highlights query on `agent` at the start of a declaration.
local query = vim.treesitter.get_query("wf", "highlights")
local keyword = false
for id, node in query:iter_captures(tree:root(), buf, 0, 40) do
  if query.captures[id] == "keyword" and vim.treesitter.get_node_text(node, buf) == "agent" then
    keyword = true
  end
end
check(keyword, "`agent` is captured as a keyword")

-- The language server.
local client = vim.lsp.start_client({
  name = "wfc",
  cmd = { os.getenv("WFC_BIN"), "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
})
check(client ~= nil, "wfc lsp starts")
vim.lsp.buf_attach_client(buf, client)

local got = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local diagnostics = vim.diagnostic.get(buf)
check(got, "a diagnostic arrives for the typo")
local typo = diagnostics[1] or { message = "", lnum = -1 }
check(typo.message:find("did you mean `strategy_strategic_planner`", 1, true) ~= nil,
  "it is wfc check's message, with the did-you-mean", typo.message)
local line = vim.fn.search("strategy_strategic_planer", "n")
check(typo.lnum == line - 1, "under the typo", "line " .. typo.lnum + 1)

local function request(method, row, col, extra)
  vim.api.nvim_win_set_cursor(0, { row, col })
  local params = vim.lsp.util.make_position_params()
  for k, v in pairs(extra or {}) do params[k] = v end
  local answers = vim.lsp.buf_request_sync(buf, method, params, 10000) or {}
  local answer = answers[client] or {}
  return answer.result, answer.err
end

-- Hover and definition of `standard`, the retry policy declared in lib/policies.wf.
local standard = vim.fn.search("^  retry standard", "n")
local hover = request("textDocument/hover", standard, 9)
local text = hover and hover.contents and hover.contents.value or ""
check(text:find("retry policy `standard`", 1, true) ~= nil and text:find("lib/policies.wf", 1, true) ~= nil,
  "hover on `standard` tells the policy and its file", text:sub(1, 120))
local definition = request("textDocument/definition", standard, 9)
local uri = definition and (definition.uri or (definition[1] and definition[1].uri)) or ""
check(uri:find("lib/policies.wf$") ~= nil, "go to definition lands in the import", uri)

-- Completion after `chain … -> ` offers the agents.
local chain = vim.fn.search("chain finance_financial_analyst -> strategy_strategic_planer", "n")
local result = request("textDocument/completion", chain, #"  chain finance_financial_analyst -> ")
local labels = {}
for _, item in ipairs(result or {}) do labels[item.label] = true end
check(labels["strategy_strategic_planner"] and labels["finance_financial_analyst"],
  "completion after `->` offers the agents")

-- Rename an agent: its declaration and every use.
local declared = vim.fn.search("^agent ops_monitor", "n")
local edit = request("textDocument/rename", declared, 7, { newName = "ops_watch" })
local edits = 0
for _, changes in pairs(edit and edit.changes or {}) do edits = edits + #changes end
check(edits >= 2, "rename edits the declaration and its uses", tostring(edits) .. " edits")

vim.lsp.stop_client(client)
if failures > 0 then
  io.stdout:write("neovim: " .. failures .. " check(s) failed\n")
  vim.cmd("cquit 1")
else
  io.stdout:write("neovim: all checks hold\n")
  vim.cmd("qall!")
end

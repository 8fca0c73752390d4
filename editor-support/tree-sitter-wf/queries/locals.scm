; A workflow is a scope; steps, `let`s, loop variables and `catch` names are
; defined in it, and a name read there refers to them.
(workflow) @local.scope
(block) @local.scope
(step name: (identifier) @local.definition.var)
(let name: (identifier) @local.definition.var)
(identifier) @local.reference

; Inside braces and brackets one level deeper; the closing bracket goes back.
[
  (agent) (workflow) (trigger) (goal) (retry) (breaker) (metric) (alert) (test)
  (block) (object) (object_type) (list)
] @indent.begin
["}" "]"] @indent.branch @indent.end
(comment) @indent.auto

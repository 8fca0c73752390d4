; Each declaration and each block folds.
[
  (agent) (workflow) (trigger) (goal) (retry) (breaker) (metric) (alert) (test)
  (block) (object) (object_type) (text_block) (template)
] @fold

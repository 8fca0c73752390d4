# Helpers shared by the example agents: read stdin once, extract flat fields.
INPUT=$(cat)

# json_number KEY: the first numeric value of "KEY" in the input (0 if absent).
json_number() {
  value=$(printf '%s' "$INPUT" | tr -d '\n' | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\(-\{0,1\}[0-9][0-9.eE+-]*\).*/\1/p")
  printf '%s' "${value:-0}"
}

# json_string KEY: the first string value of "KEY" in the input (empty if absent).
json_string() {
  printf '%s' "$INPUT" | tr -d '\n' | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"
}

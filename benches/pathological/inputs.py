"""Writes the pathological inputs of BENCHMARKS.md's section into a directory."""
import sys
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
leaf = 'agent leaf { input { n: number } output { n: number } compute { n: input.n + 1 } }'


def chain(n):
    lines = ['trigger go { manual }', leaf]
    for i in range(n):
        callee = f'workflow w{i + 1}' if i + 1 < n else 'leaf'
        on = 'on go ' if i == 0 else ''
        lines.append(f'workflow w{i} {{ {on}input {{ n: number }} steps {{ r = {callee}(input) }} output r }}')
    return '\n'.join(lines) + '\n'


def unknown_names(n):
    lines = ['trigger go { manual }']
    for i in range(n):
        lines.append(f'agent agent_number_{i} {{ input {{ n: number }} output {{ n: number }} compute {{ n: input.n }} }}')
    lines.append('workflow w { on go steps {')
    lines += [f'  r{i} = agnt_numbr_{i}({{ n: 1 }})' for i in range(n)]
    lines.append('} }')
    return '\n'.join(lines) + '\n'


def agents(n):
    return ''.join(f'agent a{i} {{ input {{ n: number }} output {{ s: number }} compute {{ s: input.n * 2 }} }}\n'
                   for i in range(n))


def deep_hole(levels):
    return ('trigger go { manual }\n'
            'agent a { output { x: number } llm "m" endpoint "http://127.0.0.1:9/" prompt "{{ '
            + '[' * levels + '1' + ']' * levels + ' }}" }\n'
            'workflow w { on go steps { r = a({}) } output r }\n')


(out / 'chain-3000.wf').write_text(chain(3000))
(out / 'chain-10000.wf').write_text(chain(10000))
(out / 'unknown-2000.wf').write_text(unknown_names(2000))
(out / 'agents-25000.wf').write_text(agents(25000))
(out / 'deep-hole.wf').write_text(deep_hole(10000))

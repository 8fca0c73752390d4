// The language server's hovers are markdown: a bold heading with code spans
// and fenced blocks. Rendered with text nodes only, so nothing in them is
// ever markup.
function inline(line, into) {
  // `**strong**` and `code`, in the order they come.
  const parts = line.split(/(\*\*[^*]+\*\*|`[^`]+`)/);
  for (const part of parts) {
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4) {
      const strong = document.createElement("strong");
      inline(part.slice(2, -2), strong);
      into.append(strong);
    } else if (part.startsWith("`") && part.endsWith("`") && part.length > 2) {
      const code = document.createElement("code");
      code.textContent = part.slice(1, -1);
      into.append(code);
    } else if (part) {
      into.append(document.createTextNode(part));
    }
  }
}

export function renderMarkdown(markdown) {
  const box = document.createElement("div");
  box.className = "wf-hover";
  const blocks = markdown.split(/^```[a-z]*\n?/m);
  blocks.forEach((block, i) => {
    if (i % 2 === 1) {
      const pre = document.createElement("pre");
      pre.textContent = block.replace(/\n$/, "");
      box.append(pre);
      return;
    }
    for (const paragraph of block.split(/\n{2,}/)) {
      if (!paragraph.trim()) continue;
      const p = document.createElement("p");
      inline(paragraph.trim(), p);
      box.append(p);
    }
  });
  return box;
}

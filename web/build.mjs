// Bundles src/editor.js and the CodeMirror packages it imports (pinned in
// package-lock.json) into one script, and writes the notices of every package
// in it: ../src/serve/dashboard/editor.js and editor-licenses.txt, which are
// committed and embedded in wfc. `node build.mjs OUT_DIR` writes them there
// instead (web/build --check compares).
import { build } from "esbuild";
import { readFileSync, writeFileSync, readdirSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, "..", "src", "serve", "dashboard");
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "editor.js")],
  bundle: true,
  format: "iife",
  minify: true,
  target: "es2020",
  legalComments: "none",
  charset: "utf8",
  metafile: true,
  write: false,
  absWorkingDir: here,
});
writeFileSync(join(out, "editor.js"), result.outputFiles[0].contents);

// Every package with code in the bundle, by name, with its version and licence text.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const found = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (found) packages.set(found[1], join(here, "node_modules", found[1]));
}
const notices = [...packages.keys()].sort().map((name) => {
  const dir = packages.get(name);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `License: ${manifest.license}`;
  return `${name} ${manifest.version} (${manifest.license})\n\n${text}\n`;
});
writeFileSync(
  join(out, "editor-licenses.txt"),
  "The dashboard's editor bundles these packages (built by web/build from web/package-lock.json).\n\n" +
    notices.join("\n" + "-".repeat(72) + "\n\n"),
);
console.log(`editor.js: ${result.outputFiles[0].contents.length} bytes, ${packages.size} packages`);
